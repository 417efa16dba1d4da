"""Reminder policy: which reminders fire on a given day, as a pure function of a ledger and the day.

Built on `projections.deadlines` (the same deadlines, with the same keys, as the calendar feed):

- before a deadline, on the configured days ahead of it (`ReminderOffsets`): the initial report
  (30), the annual report (30, 7, 1), the filing cut-off of an extension request (60, 30, 7),
  a declaration of compliance due at the next meeting and the assessed-contributions pay-by date
  (30, 7). They go to whoever is not *certainly* done (better a redundant reminder than a
  coordinator learning of a missed deadline afterwards), which is the deadline projection's rule;
- overdue reports (initial and annual): the day after the due date, then on the same day of each
  following month (clamped to the month's end) while no report is even possibly in, and only
  while the data declares the reports complete (`coverage.declared`): an overdue notice asserts
  an absence, and where the data is not complete, absence of an event is not evidence;
- a missed extension cut-off: on the day after it, when no request is even possibly recorded.

Each reminder's key is the deadline's key plus the offset ("…:2024-04-30:before-7d",
"…:overdue-2m", "…:missed"): stable across runs and processes, so the delivery log can promise
"once per chat". A deadline that moves gets new keys, on purpose.

Texts are rendered when sent (`render`), so that a reminder sent late says how far the due date
now is, not how far it was on the day it should have gone out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, cast, get_args

from dateutil.relativedelta import relativedelta

from events.schema import ExtensionRequested
from projections.calendar import annual_report_due
from projections.deadlines import Deadline, upcoming_deadlines
from projections.extensions import upcoming_cutoffs
from projections.ledger import Ledger
from projections.meetings import meeting
from projections.membership import membership_of
from projections.obligations import obligations
from projections.published import coverage_declarations
from projections.reporting import annual_status, overdue_initial, submission_by
from tracker.aliases import display_name

ReminderKind = Literal[
    "initial_report",
    "annual_report",
    "extension_cutoff",
    "compliance_declaration",
    "contribution_pay_by",
]
REMINDER_KINDS: tuple[str, ...] = get_args(ReminderKind)
Phase = Literal["before", "overdue", "missed"]
Topic = Literal["reports", "extensions", "meetings"]
TOPICS: tuple[str, ...] = get_args(Topic)

TOPIC_OF: dict[str, Topic] = {
    "initial_report": "reports",
    "annual_report": "reports",
    "extension_cutoff": "extensions",
    "compliance_declaration": "meetings",
    "contribution_pay_by": "meetings",
}

#: Telegram refuses messages over 4096 characters; leave room for the sender's markup.
MESSAGE_LIMIT = 3800


@dataclass(frozen=True)
class ReminderOffsets:
    """Days ahead of each kind of deadline on which a reminder fires (0 = on the day itself)."""

    initial_report: tuple[int, ...] = (30,)
    annual_report: tuple[int, ...] = (30, 7, 1)
    extension_cutoff: tuple[int, ...] = (60, 30, 7)
    compliance_declaration: tuple[int, ...] = (30, 7)
    contribution_pay_by: tuple[int, ...] = (30, 7)
    #: Overdue reports: a notice the day after the due date, then monthly while still missing.
    overdue_monthly: bool = True
    #: Extension requests: a notice the day after the cut-off when no request is recorded.
    missed_cutoff: bool = True

    def __post_init__(self) -> None:
        for kind in REMINDER_KINDS:
            days = getattr(self, kind)
            if any(not isinstance(d, int) or d < 0 for d in days):
                raise ValueError(f"{kind} offsets must be whole days >= 0, not {days!r}")
            # Normalised (unique, furthest first) so equal policies compare equal.
            object.__setattr__(self, kind, tuple(sorted(set(days), reverse=True)))

    def days_for(self, kind: str) -> tuple[int, ...]:
        days: tuple[int, ...] = getattr(self, kind)
        return days

    @property
    def furthest(self) -> int:
        return max((d for kind in REMINDER_KINDS for d in self.days_for(kind)), default=0)


DEFAULT_OFFSETS = ReminderOffsets()


@dataclass(frozen=True)
class Reminder:
    """One reminder about one deadline, firing on one day; rendered to text when it is sent."""

    key: str
    kind: ReminderKind
    #: The State concerned; None when it concerns every State Party (contributions).
    iso3: str | None
    #: The report year ("2023"), obligation and meeting ("art4:main:13MSP") or meeting.
    ref: str | None
    due: date
    #: "before-30d", "overdue-0m" (the day after the due date), "overdue-3m", "missed".
    offset: str
    phase: Phase
    fire_on: date
    topic: Topic
    #: What is due, without the State: "Annual Article 7 report for 2023".
    title: str
    #: What to do, as one sentence.
    action: str
    #: How a list of States is introduced when several share one message.
    pending_label: str
    #: The deadline's own key (shared with calendar feeds); `key` adds the offset.
    deadline_key: str
    #: Sorting helper: the order States are listed in a shared message.
    name: str = field(compare=False)

    @property
    def group(self) -> tuple[str, str, str, str, str]:
        """Reminders with the same group can share one message listing their States: same
        deadline, same offset, and the same words (an action naming a State's own deadline
        keeps that State's reminder apart)."""
        return (self.kind, self.ref or "", self.due.isoformat(), self.offset, self.action)

    @property
    def text(self) -> str:
        """The message as it reads on the day it fires."""
        return render((self,), self.fire_on)


# --- the policy ---------------------------------------------------------------------------------


def due_reminders(
    ledger: Ledger, day: date, offsets: ReminderOffsets = DEFAULT_OFFSETS
) -> tuple[Reminder, ...]:
    """Every reminder that fires on `day`, ordered by kind, due date and State."""
    found = list(_before(ledger, day, offsets))
    if offsets.overdue_monthly:
        found.extend(_overdue_initial(ledger, day))
        found.extend(_overdue_annual(ledger, day))
    if offsets.missed_cutoff:
        found.extend(_missed_cutoffs(ledger, day))
    return tuple(sorted(found, key=_order))


def reminders_between(
    ledger: Ledger, start: date, end: date, offsets: ReminderOffsets = DEFAULT_OFFSETS
) -> tuple[Reminder, ...]:
    """Every reminder firing from `start` to `end` inclusive, day by day."""
    found: list[Reminder] = []
    day = start
    while day <= end:
        found.extend(due_reminders(ledger, day, offsets))
        day += timedelta(days=1)
    return tuple(found)


def settled(ledger: Ledger, reminder: Reminder, today: date) -> bool:
    """True when the data shows, by `today`, that what the reminder asks for was done.

    A reminder that could not go out on its day (the bot was down) is dropped when it is
    settled by the time it could be sent: a late "due in 7 days" to a State whose report has
    since arrived would only be noise. Meeting-related reminders are never settled: payments
    and presentations at meetings are not recorded.
    """
    if reminder.iso3 is None:
        return False
    record = ledger.states.get(reminder.iso3)
    if record is None:
        return False
    if reminder.kind == "initial_report":
        return submission_by(record.initial_reports, today)[0] is not None
    if reminder.kind == "annual_report" and reminder.ref is not None:
        year = int(reminder.ref)
        return submission_by(record.annual_reports.get(year, {}), today)[0] is not None
    if reminder.kind == "extension_cutoff" and reminder.ref is not None:
        article, obligation, meeting_id = _split_ref(reminder.ref)
        return any(
            cast(ExtensionRequested, e.payload).meeting == meeting_id
            and e.occurred_on.not_after <= today
            for e in record.extension_requests.get((article, obligation), {}).values()
        )
    return False


def _order(reminder: Reminder) -> tuple[str, int, date, str, str]:
    return (
        reminder.fire_on.isoformat(),
        REMINDER_KINDS.index(reminder.kind),
        reminder.due,
        reminder.name,
        reminder.key,
    )


def _before(ledger: Ledger, day: date, offsets: ReminderOffsets) -> Iterable[Reminder]:
    until = day + timedelta(days=offsets.furthest)
    for deadline in upcoming_deadlines(ledger, day, until):
        if deadline.kind not in TOPIC_OF:
            continue  # Art. 3/4 deadlines themselves: covered by the extension cut-offs
        ahead = (deadline.due - day).days
        if ahead not in offsets.days_for(deadline.kind):
            continue
        yield _reminder(ledger, deadline, day, f"before-{ahead}d", "before")


def _overdue_initial(ledger: Ledger, day: date) -> Iterable[Reminder]:
    if not _covered(ledger, "initial_reports", day):
        return
    for item in overdue_initial(ledger, day):
        if item.uncertain:
            continue  # a report may already be in: "overdue" would be a guess
        months = _months_after(item.due + timedelta(days=1), day)
        if months is None:
            continue
        deadline = _deadline("initial_report", item.iso3, "initial", item.due)
        yield _reminder(ledger, deadline, day, f"overdue-{months}m", "overdue")


def _overdue_annual(ledger: Ledger, day: date) -> Iterable[Reminder]:
    first_year = ledger.profile.convention_entry_into_force.year
    for year in range(first_year, day.year):
        due = annual_report_due(year, ledger.profile)
        if due >= day:
            continue
        months = _months_after(due + timedelta(days=1), day)
        if months is None:
            continue  # checked first: cheap, and most days are no anniversary
        status = annual_status(ledger, year, day)
        if not status.covered:
            continue
        for iso3 in status.missing:
            deadline = _deadline("annual_report", iso3, str(year), due)
            yield _reminder(ledger, deadline, day, f"overdue-{months}m", "overdue")


def _missed_cutoffs(ledger: Ledger, day: date) -> Iterable[Reminder]:
    last_day = day - timedelta(days=1)
    for cut in upcoming_cutoffs(ledger, last_day):
        if cut.file_by != last_day:
            continue
        record = ledger.states[cut.iso3]
        requests = record.extension_requests.get((cut.article, cut.obligation), {})
        if any(
            cast(ExtensionRequested, e.payload).meeting == cut.meeting
            and e.occurred_on.not_before <= day
            for e in requests.values()
        ):
            continue  # possibly filed in time: "missed" would be a guess
        ref = f"art{cut.article}:{cut.obligation}:{cut.meeting}"
        deadline = _deadline("extension_cutoff", cut.iso3, ref, cut.file_by)
        yield _reminder(ledger, deadline, day, "missed", "missed")


def _covered(ledger: Ledger, subject: str, day: date) -> bool:
    return any(
        c.period_start <= day <= c.period_end for c in coverage_declarations(ledger, subject)
    )


def _months_after(anchor: date, day: date) -> int | None:
    """n when `day` is `anchor` plus n whole calendar months (clamped to month end), else None.

    Computed from the anchor each time, so a reminder anchored on the 31st comes back on the
    31st after a short month, instead of drifting to the 28th.
    """
    months = (day.year - anchor.year) * 12 + day.month - anchor.month
    if months < 0 or anchor + relativedelta(months=months) != day:
        return None
    return months


def _deadline(kind: str, iso3: str | None, ref: str, due: date) -> Deadline:
    # Only the key matters here; built through Deadline so the key format stays the projection's.
    return Deadline(
        kind=cast(ReminderKind, kind),
        iso3=iso3,
        due=due,
        title="",
        detail="",
        ref=ref,
        source_hint="",
    )


def _split_ref(ref: str) -> tuple[int, str, str]:
    """("art4:main:13MSP") -> (4, "main", "13MSP"); the obligation may itself hold colons."""
    head, _, rest = ref.partition(":")
    obligation, _, meeting_id = rest.rpartition(":")
    return int(head.removeprefix("art")), obligation, meeting_id


# --- wording ------------------------------------------------------------------------------------

_REPORT_OVERDUE_ACTION = (
    "submit it to the UN Secretary-General as soon as possible; if it has been sent, record "
    "it in the tracker so that these reminders stop."
)


def _reminder(ledger: Ledger, deadline: Deadline, day: date, offset: str, phase: Phase) -> Reminder:
    kind = cast(ReminderKind, deadline.kind)
    title, action, label = _wording(ledger, deadline, day, phase)
    iso3 = deadline.iso3
    return Reminder(
        key=f"{deadline.key}:{offset}",
        kind=kind,
        iso3=iso3,
        ref=deadline.ref,
        due=deadline.due,
        offset=offset,
        phase=phase,
        fire_on=day,
        topic=TOPIC_OF[kind],
        title=title,
        action=action,
        pending_label=label,
        deadline_key=deadline.key,
        name=display_name(iso3) if iso3 else "",
    )


def _wording(ledger: Ledger, deadline: Deadline, day: date, phase: Phase) -> tuple[str, str, str]:
    """(title, what to do, label introducing a list of States) for one deadline."""
    kind, ref, due = deadline.kind, deadline.ref or "", deadline.due
    if kind == "initial_report":
        title = "Initial Article 7 transparency report"
        if phase == "overdue":
            return title, _REPORT_OVERDUE_ACTION, "with no initial report received"
        member = membership_of(ledger, deadline.iso3 or "")
        eif = (
            None
            if member is None or member.entry_into_force is None
            else (member.entry_into_force.not_after)
        )
        since = f", counted from entry into force on {long_date(eif)}" if eif else ""
        return (
            title,
            "submit the initial report to the UN Secretary-General (CCM Art. 7(1): within "
            f"{ledger.profile.initial_report_days} days{since}).",
            "whose initial report is not recorded yet",
        )
    if kind == "annual_report":
        title = f"Annual Article 7 report for {ref}"
        if phase == "overdue":
            return title, _REPORT_OVERDUE_ACTION, "with no report received"
        return (
            title,
            f"submit the report covering 1 January to 31 December {ref} to the UN "
            "Secretary-General (CCM Art. 7(2)).",
            "whose report is not recorded yet",
        )
    if kind == "extension_cutoff":
        article, obligation, meeting_id = _split_ref(ref)
        title = f"Article {article} extension request for {meeting_id}"
        paragraph = "3(5)" if article == 3 else "4(6)"
        if phase == "missed":
            return (
                title,
                "the nine-month filing cut-off has passed with no request recorded: submit "
                "the request as soon as possible (it can still be considered, but is counted "
                "as late); if one was submitted, record it in the tracker.",
                "with no request recorded",
            )
        view = meeting(ledger, meeting_id)
        opens = f" opens on {long_date(view.start_date)}" if view else " opens"
        in_force = next(
            (
                o.deadline_in_force
                for o in obligations(ledger, deadline.iso3 or "", day)
                if (o.article, o.obligation) == (article, obligation)
            ),
            None,
        )
        deadline_text = f" of {long_date(in_force)}" if in_force else ""
        return (
            title,
            f"if the Article {article} deadline{deadline_text} cannot be met, submit the "
            f"extension request by {long_date(due)}, nine months before {meeting_id}{opens} "
            f"(CCM Art. {paragraph}).",
            "whose deadline falls before the meeting after next and whose request is not "
            "recorded as filed",
        )
    if kind == "compliance_declaration":
        article, _, meeting_id = _split_ref(ref)
        view = meeting(ledger, meeting_id)
        name = view.name if view and view.name else meeting_id
        rule = "CCM Art. 4(1)(c)" if article == 4 else "Lausanne Action Plan, Action 13"
        return (
            f"Declaration of Article {article} compliance to {meeting_id}",
            f"present the declaration of compliance to the {name}, opening {long_date(due)} "
            f"({rule}).",
            "that completed the obligation",
        )
    # contribution_pay_by
    view = meeting(ledger, ref)
    opens = f", which opens on {long_date(view.start_date)}" if view else ""
    return (
        f"Assessed contributions for {ref}",
        f"pay the assessed contribution by {long_date(due)}, three months before {ref}{opens} "
        "(Lausanne Action Plan, Action 9).",
        "",
    )


def long_date(day: date) -> str:
    """30 April 2024."""
    return f"{day.day} {day:%B %Y}"


def relative(due: date, today: date) -> str:
    """'today', 'tomorrow', 'in 7 days', 'yesterday', '3 days ago'."""
    days = (due - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _status(reminder: Reminder, today: date) -> str:
    due = long_date(reminder.due)
    if reminder.phase == "overdue":
        return f"was due {due}, not received after {_days((today - reminder.due).days)}"
    if reminder.phase == "missed":
        return f"the filing cut-off was {due} ({relative(reminder.due, today)})"
    return f"due {due} ({relative(reminder.due, today)})"


def _whom(reminders: Sequence[Reminder], max_names: int | None = None) -> str:
    first = reminders[0]
    if first.iso3 is None:
        return "every State Party"
    names = sorted({r.name for r in reminders})
    if len(names) == 1:
        return names[0]
    shown = names if max_names is None else names[:max_names]
    more = len(names) - len(shown)
    listed = ", ".join(shown) + (f" and {more} more" if more else "")
    label = f" {first.pending_label}" if first.pending_label else ""
    return f"{len(names)} States Parties{label}: {listed}"


def render(reminders: Sequence[Reminder], today: date) -> str:
    """One message for reminders sharing a `group` (one State, or several listed), as sent on
    `today`: what is due and when, for whom, and what to do."""
    if not reminders:
        raise ValueError("nothing to render")
    first = reminders[0]
    if any(r.group != first.group for r in reminders):
        raise ValueError("reminders of different groups cannot share one message")
    lead = {"before": "Reminder", "overdue": "Overdue", "missed": "Missed"}[first.phase]
    lines = []
    if first.fire_on < today:
        lines.append(f"(Late: this should have gone out on {long_date(first.fire_on)}.)")
    lines.append(f"{lead}: {first.title} — {_status(first, today)}.")
    lines.append(f"For: {_whom(reminders)}.")
    action = first.action
    lines.append(f"To do: {action}")
    return "\n".join(lines)


def render_digest(reminders: Sequence[Reminder], today: date) -> str:
    """One message folding reminders that fell due long ago (the bot was down), oldest first."""
    if not reminders:
        raise ValueError("nothing to render")
    groups: dict[tuple[str, str, str, str, str], list[Reminder]] = {}
    for reminder in sorted(reminders, key=_order):
        groups.setdefault(reminder.group, []).append(reminder)
    first = min(r.fire_on for r in reminders)
    last = max(r.fire_on for r in reminders)
    lines = [
        f"Digest: {len(reminders)} reminders fell due from {long_date(first)} to "
        f"{long_date(last)} while the tracker could not send them.",
    ]
    for members in groups.values():
        head = members[0]
        lead = {"before": "", "overdue": "Overdue: ", "missed": "Missed: "}[head.phase]
        lines.append(
            f"• {long_date(head.fire_on)}: {lead}{head.title} — {_status(head, today)}"
            f" — {_whom(members, max_names=12)}."
        )
    return "\n".join(lines)

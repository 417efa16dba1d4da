"""Every deadline still ahead between `as_of` and `until`, from the recorded events alone.

Kinds (each a `Deadline` with a stable `key`, reused for reminder keys and calendar UIDs):

- ``initial_report``: Art. 7(1), 180 days after entry into force, for States Parties whose
  initial report is not certainly in by `as_of`;
- ``annual_report``: Art. 7(2), 30 April, for every State Party expected to report for the
  previous calendar year (the `projections.reporting` rule) that has not certainly sent it;
- ``article3_deadline`` / ``article4_deadline``: the deadline in force of each open obligation;
- ``extension_cutoff``: the day to file an extension request (`upcoming_cutoffs`), for
  obligations whose request is not yet recorded as filed;
- ``contribution_pay_by``: three months before each future meeting (LAP Action 9), for all;
- ``compliance_declaration``: Art. 4(1)(c) (and LAP Action 13 for Art. 3), a declaration of
  compliance the data records as made outside a meeting, or as to be presented at a meeting
  still ahead, is due at that meeting.

Pure: no clock and no I/O; the caller passes `as_of` and the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, cast, get_args

from events.schema import ComplianceDeclared
from projections.calendar import annual_report_due, contribution_pay_by, initial_report_due
from projections.extensions import upcoming_cutoffs
from projections.ledger import Ledger
from projections.meetings import MeetingView, meeting, meetings
from projections.membership import earliest, memberships
from projections.obligations import obligations
from projections.reporting import annual_status, submission_by

DeadlineKind = Literal[
    "initial_report",
    "annual_report",
    "article3_deadline",
    "article4_deadline",
    "extension_cutoff",
    "contribution_pay_by",
    "compliance_declaration",
]
DEADLINE_KINDS: tuple[str, ...] = get_args(DeadlineKind)


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    #: The State that owes it; None when it concerns every State Party (contributions).
    iso3: str | None
    due: date
    title: str
    #: What to do, in one or two sentences.
    detail: str
    #: The obligation ("art4:main"), meeting ("13MSP") or report year ("2025") it is about.
    ref: str | None
    #: Where the rule and the facts come from (treaty article, meeting or event source).
    source_hint: str

    @property
    def key(self) -> str:
        """Stable identity: the same deadline gives the same key in every run.

        A deadline that moves (a meeting rescheduled, an extension granted) gets a new key,
        on purpose: the old reminder or calendar entry no longer describes it.
        """
        return f"{self.kind}:{self.iso3 or 'ALL'}:{self.ref or '-'}:{self.due.isoformat()}"


def upcoming_deadlines(ledger: Ledger, as_of: date, until: date) -> tuple[Deadline, ...]:
    """Deadlines due from `as_of` to `until` inclusive, ordered by due date, kind and State."""
    if until < as_of:
        return ()
    found: list[Deadline] = [
        *_initial_reports(ledger, as_of, until),
        *_annual_reports(ledger, as_of, until),
        *_obligation_deadlines(ledger, as_of, until),
        *_extension_cutoffs(ledger, as_of, until),
        *_contributions(ledger, as_of, until),
        *_compliance_declarations(ledger, as_of, until),
    ]
    return tuple(sorted(found, key=lambda d: (d.due, d.kind, d.iso3 or "", d.ref or "")))


def _initial_reports(ledger: Ledger, as_of: date, until: date) -> list[Deadline]:
    found = []
    for member in memberships(ledger):
        # A State that has deposited owes its initial report even before entry into force.
        if not member.is_party(as_of) or member.entry_into_force is None:
            continue
        eif = member.entry_into_force.not_after
        due = initial_report_due(eif, ledger.profile)
        if not as_of <= due <= until:
            continue
        certain, _ = submission_by(ledger.states[member.iso3].initial_reports, as_of)
        if certain is not None:
            continue
        found.append(
            Deadline(
                kind="initial_report",
                iso3=member.iso3,
                due=due,
                title="Initial Article 7 transparency report due",
                detail=(
                    f"Submit the initial Article 7 report to the UN Secretary-General "
                    f"(due {ledger.profile.initial_report_days} days after entry into force "
                    f"on {eif.isoformat()})."
                ),
                ref="initial",
                source_hint="CCM Art. 7(1); entry into force computed from the deposit",
            )
        )
    return found


def _annual_reports(ledger: Ledger, as_of: date, until: date) -> list[Deadline]:
    found = []
    for year in range(as_of.year - 1, until.year):
        due = annual_report_due(year, ledger.profile)
        if not as_of <= due <= until:
            continue
        status = annual_status(ledger, year, as_of)
        # Anything already in is in on time (the due date is ahead), so it is not owed.
        sent = {r.iso3 for r in (*status.on_time, *status.late, *status.timing_unknown)}
        for iso3 in (*status.expected, *status.expected_uncertain):
            if iso3 in sent:
                continue
            found.append(
                Deadline(
                    kind="annual_report",
                    iso3=iso3,
                    due=due,
                    title=f"Annual Article 7 report for {year} due",
                    detail=(
                        f"Submit the annual Article 7 report covering 1 January to "
                        f"31 December {year} to the UN Secretary-General."
                    ),
                    ref=str(year),
                    source_hint="CCM Art. 7(2)",
                )
            )
    return found


def _obligation_deadlines(ledger: Ledger, as_of: date, until: date) -> list[Deadline]:
    found = []
    for iso3 in sorted(ledger.states):
        for view in obligations(ledger, iso3, as_of):
            deadline = view.deadline_in_force
            if view.article not in (3, 4) or view.status != "open" or deadline is None:
                continue
            if not as_of <= deadline <= until:
                continue
            extended = (
                f" (extended at {view.extensions_granted[-1].meeting})"
                if view.extensions_granted
                else ""
            )
            what = (
                "destroy all stockpiled cluster munitions"
                if view.article == 3
                else ("clear and destroy all cluster munition remnants")
            )
            kind: DeadlineKind = "article3_deadline" if view.article == 3 else "article4_deadline"
            found.append(
                Deadline(
                    kind=kind,
                    iso3=iso3,
                    due=deadline,
                    title=f"Article {view.article} deadline{extended}",
                    detail=(
                        f"Deadline to {what}; declare compliance on completion, or request "
                        f"an extension in time (nine months before the meeting)."
                    ),
                    ref=f"art{view.article}:{view.obligation}",
                    source_hint=f"CCM Art. {view.article}; deadline in force at "
                    f"{as_of.isoformat()}",
                )
            )
    return found


def _extension_cutoffs(ledger: Ledger, as_of: date, until: date) -> list[Deadline]:
    found = []
    for cut in upcoming_cutoffs(ledger, as_of):
        # A request already on record has nothing left to file by this day.
        if cut.request_filed or not as_of <= cut.file_by <= until:
            continue
        found.append(
            Deadline(
                kind="extension_cutoff",
                iso3=cut.iso3,
                due=cut.file_by,
                title=f"Last day to file an Article {cut.article} extension request "
                f"for {cut.meeting}",
                detail=(
                    f"The Article {cut.article} deadline in force is "
                    f"{cut.deadline_in_force.isoformat()}; a request to be considered at "
                    f"{cut.meeting} (opening {cut.meeting_start.isoformat()}) must be "
                    f"submitted at least nine months before it."
                ),
                ref=f"art{cut.article}:{cut.obligation}:{cut.meeting}",
                source_hint=f"CCM Art. {cut.article}({5 if cut.article == 3 else 6})",
            )
        )
    return found


def _future_meetings(ledger: Ledger, as_of: date) -> list[MeetingView]:
    return [m for m in meetings(ledger) if m.start_date > as_of]


def _contributions(ledger: Ledger, as_of: date, until: date) -> list[Deadline]:
    found = []
    for view in _future_meetings(ledger, as_of):
        pay_by = contribution_pay_by(view.start_date, ledger.profile)
        if not as_of <= pay_by <= until:
            continue
        found.append(
            Deadline(
                kind="contribution_pay_by",
                iso3=None,
                due=pay_by,
                title=f"Assessed contributions for {view.meeting} to be paid",
                detail=(
                    f"Pay assessed contributions no later than three months before "
                    f"{view.name or view.meeting} (opening {view.start_date.isoformat()})."
                ),
                ref=view.meeting,
                source_hint=f"Lausanne Action Plan Action 9; meeting dates: {view.source}",
            )
        )
    return found


def _next_meeting(ledger: Ledger, day: date) -> MeetingView | None:
    later = [m for m in meetings(ledger) if m.start_date > day]
    return later[0] if later else None


def _compliance_declarations(ledger: Ledger, as_of: date, until: date) -> list[Deadline]:
    future = _future_meetings(ledger, as_of)
    found = []
    for iso3 in sorted(ledger.states):
        record = ledger.states[iso3]
        for key in sorted(record.compliance):
            event = earliest(record.compliance[key])
            if event is None or event.occurred_on.not_after > as_of:
                continue
            named = cast(ComplianceDeclared, event.payload).meeting
            target: MeetingView | None
            if named is not None:
                # Recorded as presented (or to be presented) at that meeting: due only if ahead.
                target = meeting(ledger, named)
                if target is None or target.start_date <= as_of:
                    continue
            else:
                # Made between meetings: it goes to the next meeting (Art. 4(1)(c)). Only when
                # the recorded date range leaves no doubt which meeting that is (a range
                # spanning a meeting may have been declared at it), and that meeting is ahead.
                target = _next_meeting(ledger, event.occurred_on.not_before)
                if target is None or target != _next_meeting(ledger, event.occurred_on.not_after):
                    continue
                if target not in future:
                    continue
            if not as_of <= target.start_date <= until:
                continue
            article = key[0]
            rule = (
                "CCM Art. 4(1)(c)"
                if article == 4
                else "Lausanne Action Plan Action 13 (Art. 3 completion)"
            )
            found.append(
                Deadline(
                    kind="compliance_declaration",
                    iso3=iso3,
                    due=target.start_date,
                    title=f"Declaration of Article {article} compliance to {target.meeting}",
                    detail=(
                        f"Completion of the Article {article} obligation was recorded on "
                        f"{event.occurred_on}; present the declaration of compliance to "
                        f"{target.name or target.meeting} (opening "
                        f"{target.start_date.isoformat()})."
                    ),
                    ref=f"art{article}:{key[1]}:{target.meeting}",
                    source_hint=f"{rule}; {event.source}",
                )
            )
    return found

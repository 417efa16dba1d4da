"""Runs a parsed command through the service (or the recorder) and returns a `Reply`.

The same conversation serves the Telegram bot and the console: a `Reply` is front-end neutral
(plain text, an `Answer`, files, choices), the console prints it as plain text
(`render_plain`) and the bot as HTML. User mistakes (an unreadable date, an unknown State, a
rule the event breaks) become replies that say what went wrong; anything else is a bug and
propagates to the front end's single error handler.

Writes are checked twice: here (the command needs the recorder or admin role) and again by
`Recorder`, so no front end can skip the check. A /record command is only previewed; the
event is stored when the same person confirms the preview.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast

from events.dates import DateRange
from events.errors import ConcurrencyError, InvalidEvent
from events.schema import (
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    Event,
    EventCorrected,
    EventRetracted,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    Payload,
    StatePayload,
)
from projections.timeline import summarize, timeline
from tracker import commands as c
from tracker.aliases import Ambiguous, StateLookupError, UnknownState, display_name
from tracker.answers import Answer, iso_utc
from tracker.dates import DateInputError
from tracker.recording import Actor, PermissionDenied, Recorder
from tracker.render import render_csv, render_text
from tracker.service import QueryError, TrackerService

__all__ = [
    "CHART_ALIASES",
    "LONG_LIST",
    "MAX_PENDING",
    "PENDING_TTL",
    "Attachment",
    "Choice",
    "Conversation",
    "Reply",
    "render_plain",
]

#: A list longer than this offers its CSV.
LONG_LIST = 15
#: How long a /record preview waits for its confirmation.
PENDING_TTL = timedelta(minutes=30)
#: Previews kept at most (the oldest go first): a bound on memory, not a user-visible limit.
MAX_PENDING = 256

_FIELD_PREFIX = re.compile(r"^[a-z_]+(?:\.[a-z_]+)*: ")

Status = Literal["ok", "error", "refused", "preview", "stored", "cancelled"]
FrontEnd = Literal["console", "telegram"]

CHART_ALIASES: dict[str, str] = {
    "membership": "membership",
    "parties": "membership",
    "members": "membership",
    "states parties": "membership",
    "reports": "reports",
    "reporting": "reports",
    "transparency": "reports",
    "article 7": "reports",
    "article4": "article4",
    "article 4": "article4",
    "clearance": "article4",
}


@dataclass(frozen=True)
class Choice:
    """A button: its label, and the command text that runs when it is chosen."""

    label: str
    command: str
    #: The result replaces the message that carried the choice (confirm/cancel a preview)
    #: instead of arriving as a new message.
    replaces: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a reply: a document (HTML, CSV, ICS) or a photo (PNG)."""

    filename: str
    content: bytes
    kind: Literal["document", "photo"]
    media_type: str
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    """What the tracker says back, whatever the front end.

    With an `answer`, the front end shows the answer's title, figure, context line (as-of date
    and knowledge time), notes, sources and rows; `facts` (label, value) and `text` paragraphs
    come after the context line. Without one, `title` heads the reply.
    """

    title: str
    status: Status = "ok"
    text: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    answer: Answer | None = None
    attachments: tuple[Attachment, ...] = ()
    choices: tuple[Choice, ...] = ()
    #: Set when the answer is a long list: the command text that sends it as CSV.
    csv_command: str | None = None
    #: The command as understood (None when the text could not be read).
    command: c.Command | None = None


@dataclass(frozen=True)
class _Pending:
    actor: str
    payload: Payload
    occurred_on: DateRange
    source: str
    event_id: uuid.UUID
    expires: datetime


class Conversation:
    """One conversation engine per process; safe to call from several threads."""

    def __init__(
        self,
        service: TrackerService,
        recorder: Recorder | None = None,
        *,
        front_end: FrontEnd = "console",
        reminders: bool = False,
    ) -> None:
        self.service = service
        self.recorder = recorder or Recorder(service)
        self.front_end = front_end
        #: Whether /subscribe and /unsubscribe work in this front end (the bot's reminders).
        self.reminders = reminders
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._lock = threading.Lock()

    # --- entry points ---------------------------------------------------------------------

    def handle(self, text: str, actor: Actor) -> Reply:
        """Parse and run one line of user text."""
        try:
            command = c.parse(text, self.service.today())
        except c.ParseError as exc:
            return _error(_sentence(str(exc)))
        return self.execute(command, actor)

    def execute(self, command: c.Command, actor: Actor) -> Reply:
        """Run a parsed command; user mistakes come back as replies, never as exceptions."""
        try:
            reply = self._run(command, actor)
        except Ambiguous as exc:
            reply = self._choose_state(command, exc, "could mean several States; choose one")
        except UnknownState as exc:
            reply = self._choose_state(command, exc, "is not a State I know")
        except PermissionDenied as exc:
            reply = _refused(str(exc))
        except ConcurrencyError:
            reply = _error(
                "Someone recorded something about the same State at the same moment; nothing "
                "was stored. Send the command again."
            )
        except InvalidEvent as exc:
            # Event errors name the field first ("payload.state: …") for importers; a person
            # reading a chat needs only the sentence after it.
            reply = _error(_sentence(_FIELD_PREFIX.sub("", str(exc))))
        except (c.ParseError, DateInputError, QueryError, StateLookupError) as exc:
            reply = _error(_sentence(str(exc)))
        return dataclasses.replace(reply, command=command)

    # --- dispatch -------------------------------------------------------------------------

    def _run(self, command: c.Command, actor: Actor) -> Reply:
        service = self.service
        match command:
            case c.Start():
                return self._start(actor)
            case c.Help(topic=topic):
                return self._help(topic, actor)
            case c.WhoAmI():
                return _whoami(actor)
            case c.Subscribe() | c.Unsubscribe() | c.ShowReminders() | c.FocalPoint():
                return self._reminders_elsewhere()
            case c.Export(query=query):
                return self._export(query, actor)
            case c.StateProfile():
                return self._state(command, actor)
            case c.Report(start=start, end=end, known_at=known_at):
                return _report(service, start, end, known_at)
            case c.Chart(what=what, as_of=as_of, known_at=known_at):
                return _chart(service, what, as_of, known_at)
            case c.Calendar(state=state, as_of=as_of):
                return _calendar(service, state, as_of)
            case c.RecordHelp():
                if not actor.role.can_record():
                    return _refused(_record_refusal(actor))
                return _record_help()
            case c.Record():
                return self._preview(command, actor)
            case c.Confirm(token=token):
                return self._confirm(token, actor)
            case c.Cancel(token=token):
                return self._cancel(token, actor)
        answer = self._answer(command)
        if answer is None:
            raise AssertionError(f"no handler for {command!r}")
        return _answer_reply(answer, command)

    def _answer(self, command: c.Command) -> Answer | None:
        """The answer to a list question (the ones /export can turn into CSV)."""
        service = self.service
        match command:
            case c.Count(what=what, as_of=as_of, known_at=known_at):
                return service.count(what, as_of, known_at)
            case c.StateProfile(state=state, as_of=as_of, known_at=known_at):
                return service.state(state, as_of, known_at)
            case c.Overdue(kind="initial", as_of=as_of, known_at=known_at):
                return service.overdue_initial(as_of, known_at)
            case c.Overdue(year=year, as_of=as_of, known_at=known_at):
                year = year or self._latest_due_year(as_of)
                return service.overdue_annual(year, as_of, known_at)
            case c.Annual(year=year, as_of=as_of, known_at=known_at):
                year = year or self._latest_due_year(as_of)
                return service.annual(year, as_of, known_at)
            case c.Obligations(article=article, as_of=as_of, known_at=known_at):
                return service.obligations(article, as_of, known_at)
            case c.Deadlines(days=days, as_of=as_of, known_at=known_at):
                from tracker import outputs  # see _report

                return outputs.deadlines(service, days, as_of, known_at)
            case c.Extensions(meeting=meeting, known_at=known_at):
                return service.extensions(meeting, known_at)
            case c.Indicators(start=start, end=end, area=area, known_at=known_at):
                return service.indicators(start, end, area, known_at)
        return None

    def _latest_due_year(self, as_of: date | None) -> int:
        """The latest calendar year whose annual reports were already due at `as_of`."""
        day = as_of or self.service.today()
        due = self.service.profile.annual_report_due
        return day.year - 1 if day > date(day.year, due.month, due.day) else day.year - 2

    # --- plain questions ------------------------------------------------------------------

    def _start(self, actor: Actor) -> Reply:
        slash = "/" if self.front_end == "telegram" else ""
        return Reply(
            title="Convention on Cluster Munitions: compliance tracker",
            text=(
                "Ask about States Parties, reports, deadlines and extension requests. Every "
                "answer says the date it is for, how recent the data is, and its sources.",
                f"Try: {slash}count parties as of 30 June 2024",
                f"Or: {slash}state Laos  ·  {slash}overdue initial  ·  {slash}deadlines",
                f"{slash}help lists every command.",
            ),
        )

    def _help(self, topic: str | None, actor: Actor) -> Reply:
        visible = [info for info in c.COMMANDS if self._shows(info, actor)]
        if topic is None:
            return Reply(
                title="Commands",
                facts=tuple((info.usage, info.summary) for info in visible),
                text=(
                    "Dates can be written 2024-06-30, 30 June 2024, 30/06/2024, today or "
                    "end of 2023. 'as of DATE' is the day the question is about; 'known at "
                    "DATE' answers with what was recorded by then.",
                    "States can be named as you like: Lao PDR, Laos, LAO, Bosnia, Holy See.",
                ),
            )
        info = c.COMMAND_INFO[topic]
        if topic == "record":
            if not actor.role.can_record():
                return _refused(_record_refusal(actor))
            return _record_help()
        return Reply(
            title=info.usage,
            text=(info.summary + ".", f"Example: {info.example}"),
        )

    def _shows(self, info: c.CommandInfo, actor: Actor) -> bool:
        if info.audience == "recorder":
            return actor.role.can_record()
        if info.audience == "reminders":
            return self.reminders
        return True

    def _reminders_elsewhere(self) -> Reply:
        if self.front_end == "console":
            return Reply(
                title="Reminders come from the Telegram bot",
                text=("Send /subscribe to the bot to get reminders of coming deadlines there.",),
            )
        return Reply(title="Reminders are not set up on this bot yet", status="error")

    def _state(self, command: c.StateProfile, actor: Actor) -> Reply:
        answer = self.service.state(command.state, command.as_of, command.known_at)
        if actor.role.can_record():
            # Recorders need event ids to write corrections; the answer's rows do not carry
            # them, so they are added from the same timeline the service read.
            answer = self._with_event_ids(answer)
        return dataclasses.replace(
            _answer_reply(answer, command), facts=_profile_facts(answer.data)
        )

    def _with_event_ids(self, answer: Answer) -> Answer:
        iso3 = str(answer.data.get("iso3"))
        day = answer.as_of or self.service.today()
        ledger = self.service.known(answer.known_at).ledger
        entries = [e for e in timeline(ledger, iso3) if e.occurred_on.not_before <= day]
        if [e.summary for e in entries] != [row.get("event") for row in answer.rows]:
            return answer  # the service changed how it builds rows: show none rather than wrong
        rows = tuple(
            {**row, "event_id": str(entry.event_id)}
            for row, entry in zip(answer.rows, entries, strict=True)
        )
        return dataclasses.replace(answer, rows=rows, columns=(*answer.columns, "event_id"))

    def _export(self, query: c.Query, actor: Actor) -> Reply:
        answer = self._answer(query)
        if answer is None:
            raise AssertionError(f"no list for {query!r}")
        if isinstance(query, c.StateProfile) and actor.role.can_record():
            answer = self._with_event_ids(answer)
        csv_text = render_csv(answer)
        attachment = Attachment(
            filename=_slug(query.to_text()) + ".csv",
            content=csv_text.encode("utf-8"),
            kind="document",
            media_type="text/csv",
            caption=f"{answer.title}: {len(answer.rows)} rows ({answer.context_line()})",
        )
        text = [f"{len(answer.rows)} rows; {answer.context_line()}."]
        if answer.sources:
            text.append(_sources_line(answer.sources))
        return Reply(title=f"CSV: {answer.title}", text=tuple(text), attachments=(attachment,))

    # --- choosing among States --------------------------------------------------------------

    def _choose_state(self, command: c.Command, exc: StateLookupError, problem: str) -> Reply:
        choices = []
        for candidate in exc.candidates[:8]:
            chosen = _with_state(command, candidate.iso3)
            if chosen is not None:
                label = f"{candidate.name} ({candidate.iso3})"
                choices.append(Choice(label, chosen.to_text()))
        text = f"'{exc.text.strip()}' {problem}."
        if isinstance(exc, UnknownState) and not exc.candidates:
            text += " Use the English short name or the ISO 3166 code, e.g. LAO."
        elif isinstance(exc, UnknownState):
            text += " Did you mean one of these?"
        return Reply(title=text, status="error", choices=tuple(choices))

    # --- recording --------------------------------------------------------------------------

    def _preview(self, command: c.Record, actor: Actor) -> Reply:
        if not actor.role.can_record():
            return _refused(_record_refusal(actor))
        payload, warning = self._payload(command)
        today = self.service.today()
        if isinstance(payload, (EventCorrected, EventRetracted)):
            occurred_on = DateRange.exact(today)  # a correction happens when it is made
        else:
            occurred_on = DateRange.exact(command.on or today)
        event = self.recorder.preview(actor, payload, occurred_on, command.source)
        token = self._remember(actor, event)
        facts = _event_facts(event)
        text = []
        if warning:
            text.append(f"Note: {warning}.")
        if command.on is None and not isinstance(payload, (EventCorrected, EventRetracted)):
            text.append(f"No date was given, so it is dated today ({today.isoformat()}).")
        text.append("Nothing is stored until you confirm.")
        return Reply(
            title="Check this event before it is stored",
            status="preview",
            facts=facts,
            text=tuple(text),
            choices=(
                Choice("✅ Confirm", c.Confirm(token).to_text(), replaces=True),
                Choice("✖ Cancel", c.Cancel(token).to_text(), replaces=True),
            ),
        )

    def _payload(self, command: c.Record) -> tuple[Payload, str | None]:
        if command.target is not None:
            reason = command.reason or "correction"
            if command.kind == "retraction":
                return EventRetracted(target_event_id=command.target, reason=reason), None
            corrected = None if command.on is None else DateRange.exact(command.on)
            return (
                EventCorrected(
                    target_event_id=command.target, reason=reason, occurred_on=corrected
                ),
                None,
            )
        resolution = self.service.resolve_state(command.state or "")
        state = resolution.iso3
        builders: dict[str, Callable[[], Payload]] = {
            "annual-report": lambda: AnnualReportSubmitted(
                state=state, year_covered=command.year or 0, form_version=command.form
            ),
            "initial-report": lambda: InitialReportSubmitted(state=state),
            "deposit": lambda: ConsentDeposited(
                state=state, instrument=command.instrument or "ratification"
            ),
            "compliance": lambda: ComplianceDeclared(
                state=state, article=command.article or 4, meeting=command.meeting
            ),
            "extension-request": lambda: ExtensionRequested(
                state=state,
                article=command.article or 4,
                meeting=command.meeting or "",
                requested_deadline=command.deadline,
            ),
            "extension-decision": lambda: ExtensionDecided(
                state=state,
                article=command.article or 4,
                meeting=command.meeting or "",
                outcome=command.outcome or "refused",
                granted_deadline=command.deadline if command.outcome == "granted" else None,
            ),
        }
        try:
            return builders[command.kind](), resolution.warning
        except ValueError as exc:  # pydantic's ValidationError: a field out of range
            raise InvalidEvent(_first_line(str(exc))) from None

    def _remember(self, actor: Actor, event: Event) -> str:
        token = secrets.token_urlsafe(9)
        now = self.service.clock.now()
        pending = _Pending(
            actor=actor.name,
            payload=event.payload,
            occurred_on=event.occurred_on,
            source=event.source,
            event_id=event.event_id,
            expires=now + PENDING_TTL,
        )
        with self._lock:
            for key in [k for k, p in self._pending.items() if p.expires < now]:
                del self._pending[key]
            self._pending[token] = pending
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
        return token

    def _take(self, token: str, actor: Actor) -> _Pending | Reply:
        with self._lock:
            pending = self._pending.get(token)
            if pending is None or pending.expires < self.service.clock.now():
                self._pending.pop(token, None)
                return _error(
                    "This preview has expired or was already answered; nothing was stored by "
                    "it. Send the /record command again."
                )
            if pending.actor != actor.name:
                return _refused("Only the person who asked for this preview can answer it.")
            # Taken out before storing, so a double tap on Confirm cannot store twice.
            del self._pending[token]
            return pending

    def _confirm(self, token: str, actor: Actor) -> Reply:
        if not actor.role.can_record():
            return _refused(_record_refusal(actor))
        pending = self._take(token, actor)
        if isinstance(pending, Reply):
            return pending
        # Re-checked and re-stamped now: the knowledge time is when it was stored, and the
        # rules run against what is recorded at this moment, not at the preview.
        stored = self.recorder.record(
            actor, pending.payload, pending.occurred_on, pending.source, pending.event_id
        )
        return Reply(
            title="Stored",
            status="stored",
            facts=(
                *_event_facts(stored),
                ("Event id", str(stored.event_id)),
                ("Position", str(stored.position)),
            ),
        )

    def _cancel(self, token: str | None, actor: Actor) -> Reply:
        if token is None:
            with self._lock:
                mine = [k for k, p in self._pending.items() if p.actor == actor.name]
                for key in mine:
                    del self._pending[key]
            if not mine:
                return Reply(title="There is nothing to cancel.")
            return Reply(title="Cancelled: nothing was stored.", status="cancelled")
        pending = self._take(token, actor)
        if isinstance(pending, Reply):
            return pending
        return Reply(title="Cancelled: nothing was stored.", status="cancelled")


# --- replies ---------------------------------------------------------------------------------


def _error(message: str) -> Reply:
    return Reply(title=message, status="error")


def _refused(message: str) -> Reply:
    return Reply(title=message, status="refused")


def _record_refusal(actor: Actor) -> str:
    return (
        f"Recording needs the recorder or admin role; you ({actor.name}) are a "
        f"{actor.role.value}. Ask an admin if you should record."
    )


def _sentence(message: str) -> str:
    text = message.strip()
    if not text:
        return "That did not work."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!", ")")) else text + "."


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "invalid value"


def _whoami(actor: Actor) -> Reply:
    return Reply(
        title=f"You are {actor.name}",
        facts=(
            ("Role", actor.role.value),
            ("Can record", "yes" if actor.role.can_record() else "no"),
        ),
    )


def _answer_reply(answer: Answer, command: c.Command) -> Reply:
    long_list = len(answer.rows) > LONG_LIST and isinstance(command, c.QUERY_TYPES)
    csv_command = c.Export(cast(c.Query, command)).to_text() if long_list else None
    return Reply(title=answer.title, answer=answer, csv_command=csv_command)


def _record_help() -> Reply:
    return Reply(
        title="Record a fact (you will see it before it is stored)",
        facts=tuple((usage, f"e.g. {example}") for _, usage, example in c.RECORD_KINDS),
        text=(
            "Dates as usual (2024-06-30, 30 June 2024, today). The source is the document "
            "symbol or URL the fact comes from; it goes last.",
            "Event ids for corrections are listed with each fact under /state NAME (and in "
            "/export state NAME) for recorders.",
        ),
    )


def _report(service: TrackerService, start: date, end: date, known_at: datetime | None) -> Reply:
    # Imported when first needed: tracker.outputs loads matplotlib (a second or more), which
    # a question about counts should not wait for.
    from tracker import outputs

    report = outputs.build_report(service, start, end, known_at)
    html = outputs.render_report(report, "html")
    name = f"progress-report-{start.isoformat()}..{end.isoformat()}.html"
    context = f"as of {end.isoformat()}; {report.knowledge_text}"
    return Reply(
        title=f"{report.title}, {report.period_text}",
        text=(f"{context}.", _sources_line(report.sources)),
        attachments=(
            Attachment(
                filename=name,
                content=html.encode("utf-8"),
                kind="document",
                media_type="text/html",
                caption=f"{report.title}, {report.period_text} ({context})",
            ),
        ),
    )


def _sources_line(sources: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(sources) - shown} more" if len(sources) > shown else ""
    return "Sources: " + "; ".join(sources[:shown]) + more


def _chart(
    service: TrackerService, what: str, as_of: date | None, known_at: datetime | None
) -> Reply:
    from tracker import outputs  # see _report

    key = CHART_ALIASES.get(what.lower(), what.lower())
    if key not in outputs.CHARTS:
        raise QueryError(f"there is no chart '{what}': choose one of {', '.join(outputs.CHARTS)}")
    png = outputs.chart_png(service, key, as_of, known_at)
    day = as_of or service.today()
    moment = known_at or service.clock.now()
    up_to = service.known(moment).recorded_up_to or moment
    context = f"as of {day.isoformat()}; data as recorded up to {iso_utc(min(up_to, moment))}"
    return Reply(
        title=f"Chart: {key}",
        text=(f"{context}; sources are printed on the chart.",),
        attachments=(
            Attachment(
                filename=f"chart-{key}-{day.isoformat()}.png",
                content=png,
                kind="photo",
                media_type="image/png",
                caption=f"{key} ({context})",
            ),
        ),
    )


def _calendar(service: TrackerService, state: str | None, as_of: date | None) -> Reply:
    iso3 = None if state is None else service.resolve_state(state).iso3
    from tracker import outputs  # see _report

    ics = outputs.calendar_ics(service, iso3, as_of)
    listed = outputs.deadlines(service, outputs.ICS_HORIZON_DAYS, as_of, None, iso3)
    day = as_of or service.today()
    who = "all States Parties" if iso3 is None else f"{display_name(iso3)} ({iso3})"
    moment = service.clock.now()
    up_to = service.known(moment).recorded_up_to or moment
    context = f"from {day.isoformat()}; data as recorded up to {iso_utc(min(up_to, moment))}"
    return Reply(
        title=f"Calendar of coming deadlines: {who}",
        text=(
            f"{context}. {len(listed.rows)} deadlines; open the file to add them to your calendar.",
            _sources_line(listed.sources),
        ),
        attachments=(
            Attachment(
                filename=f"ccm-deadlines-{(iso3 or 'all').lower()}.ics",
                content=ics,
                kind="document",
                media_type="text/calendar",
                caption=f"Deadlines: {who} ({context})",
            ),
        ),
    )


def _with_state(command: c.Command, iso3: str) -> c.Command | None:
    """The same command about the State chosen on a button."""
    if isinstance(command, (c.StateProfile, c.Calendar, c.Record)):
        return dataclasses.replace(command, state=iso3)
    if isinstance(command, c.Export) and isinstance(command.query, c.StateProfile):
        return c.Export(dataclasses.replace(command.query, state=iso3))
    return None


def _profile_facts(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A State's profile as label/value lines, from the state answer's data."""
    facts: list[tuple[str, str]] = [("Status", str(data.get("status", "")).replace("_", " "))]

    def add(label: str, value: object, suffix: str = "") -> None:
        if value is not None and value != "":
            facts.append((label, f"{value}{suffix}"))

    add("Signed", data.get("signed_on"))
    instrument = data.get("instrument")
    add("Instrument deposited", data.get("deposit_date"), f" ({instrument})" if instrument else "")
    add("Entry into force", data.get("entry_into_force"))
    add("Withdrawal received", data.get("withdrawal_received"))
    add("Withdrawal effective", data.get("withdrawal_effective"))
    if data.get("initial_report_due") is not None:
        submitted = data.get("initial_report_submitted")
        state = f"submitted {submitted}" if submitted else "not recorded as submitted"
        add("Initial report", f"due {data['initial_report_due']}, {state}")
    annual = list(data.get("annual_reports") or [])
    if annual:
        recent = annual[-5:]
        listed = ", ".join(f"{r['year']} (sent {r['submitted']})" for r in recent)
        add("Annual reports", ("… " if len(annual) > len(recent) else "") + listed)
    for item in data.get("obligations") or []:
        extended = len(item.get("extensions") or [])
        text = f"deadline {item.get('deadline')}"
        if extended:
            text += f" (extended {extended}×, first {item.get('original_deadline')})"
        text += f"; {str(item.get('status', '')).replace('_', ' ')}"
        add(f"Article {item.get('article')} ({item.get('obligation')})", text)
    for request in data.get("extension_requests") or []:
        decision = request.get("decision") or "no decision recorded"
        add(
            f"Extension request, Art. {request.get('article')}",
            f"for {request.get('meeting')}, submitted {request.get('submitted')}, "
            f"{str(request.get('timeliness', '')).replace('_', ' ')}; {decision}",
        )
    return tuple(facts)


def _event_facts(event: Event) -> tuple[tuple[str, str], ...]:
    payload = event.payload
    facts: list[tuple[str, str]] = []
    if isinstance(payload, StatePayload):
        facts.append(("What", f"{display_name(payload.state)} {summarize(event)}"))
        facts.append(("State", f"{display_name(payload.state)} ({payload.state})"))
    elif isinstance(payload, EventCorrected):
        new_date = payload.occurred_on
        facts.append(("What", f"correct event {payload.target_event_id}: date {new_date}"))
        facts.append(("Reason", payload.reason))
    elif isinstance(payload, EventRetracted):
        facts.append(("What", f"retract event {payload.target_event_id}"))
        facts.append(("Reason", payload.reason))
    facts.append(("Type", event.type))
    skip = {"state", "target_event_id", "reason", "occurred_on"}
    for key, value in payload.model_dump(exclude_none=True).items():
        if key not in skip and value not in ((), [], ""):
            facts.append((key.replace("_", " ").capitalize(), str(value)))
    facts.append(("Occurred on", str(event.occurred_on)))
    facts.append(("Source", event.source))
    facts.append(("Recorded by", event.recorded_by))
    facts.append(("Stream", event.stream))
    return tuple(facts)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80].rstrip("-") or "export"


# --- plain text, for the console -------------------------------------------------------------


def render_plain(reply: Reply, saved: Sequence[str] = ()) -> str:
    """The reply as the console prints it; `saved` names the files its attachments went to."""
    lines: list[str] = []
    facts = [f"  {label}: {value}" for label, value in reply.facts]
    if reply.answer is not None:
        head, context, *rest = render_text(reply.answer).split("\n")
        lines += [head, context, *facts, *reply.text, *rest]
    else:
        prefix = {"error": "Sorry: ", "refused": "Not allowed: "}.get(reply.status, "")
        lines += [prefix + reply.title, *facts]
        if reply.text:
            lines += ["", *reply.text]
    for path in saved:
        lines.append(f"Saved {path}")
    if reply.choices:
        lines.append("")
        lines += [
            f"  [{number}] {choice.label}  ({choice.command.removeprefix('/')})"
            for number, choice in enumerate(reply.choices, 1)
        ]
        lines.append("Type a number to choose.")
    if reply.csv_command:
        lines.append("")
        lines.append(f"A long list: '{reply.csv_command.removeprefix('/')}' saves it as CSV.")
    return "\n".join(lines)

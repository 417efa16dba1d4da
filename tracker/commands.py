"""The one text-command parser shared by the Telegram bot, the console chat and `tracker ask`.

``parse("/count parties as of 30 June 2024 known at 2024-09-18", today)`` gives a frozen
`Command`; text that cannot be read raises `ParseError`, whose message says what was understood
and how to ask. The leading slash is optional (the console), a ``@botname`` suffix is ignored
(Telegram groups). Pure: "today" is passed in, nothing is looked up; State names are resolved
later, by the service, so that an ambiguous name can be answered with buttons.

Every command prints back as canonical text (`Command.to_text`) that parses to the same command,
which is what buttons carry ("choose a State", "send as CSV", page through an answer).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar, Literal, cast

from tracker.answers import iso_utc
from tracker.dates import DateInputError, parse_date, parse_known_at, parse_period
from tracker.service import COUNT_ALIASES, COUNT_TITLES

__all__ = [
    "COMMANDS",
    "RECORD_KINDS",
    "Command",
    "CommandInfo",
    "ParseError",
    "parse",
]

#: Control characters (C0, DEL, C1) that whitespace folding leaves in a message.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
#: Longest subject (State name, area, chart name) read as one; longer text is a mistake.
MAX_SUBJECT = 100
#: Longest free text (source, reason) accepted in a /record command.
MAX_FREE_TEXT = 500
DEFAULT_DEADLINE_DAYS = 90


class ParseError(ValueError):
    """Text that is not a command as written; the message says what was understood and how."""


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """Base of every command; `name` is the command word without the slash."""

    name: ClassVar[str]

    def to_text(self) -> str:
        """Canonical text that `parse` reads back as this very command."""
        return "/" + self.name


def _times(as_of: date | None, known_at: datetime | None) -> str:
    parts = []
    if as_of is not None:
        parts.append(f" as of {as_of.isoformat()}")
    if known_at is not None:
        parts.append(f" known at {iso_utc(known_at)}")
    return "".join(parts)


@dataclass(frozen=True)
class Start(Command):
    name: ClassVar[str] = "start"


@dataclass(frozen=True)
class Help(Command):
    name: ClassVar[str] = "help"
    topic: str | None = None

    def to_text(self) -> str:
        return "/help" + (f" {self.topic}" if self.topic else "")


@dataclass(frozen=True)
class WhoAmI(Command):
    name: ClassVar[str] = "whoami"


@dataclass(frozen=True)
class Subscribe(Command):
    name: ClassVar[str] = "subscribe"


@dataclass(frozen=True)
class Unsubscribe(Command):
    name: ClassVar[str] = "unsubscribe"


@dataclass(frozen=True)
class ShowReminders(Command):
    name: ClassVar[str] = "reminders"


@dataclass(frozen=True)
class FocalPoint(Command):
    name: ClassVar[str] = "focalpoint"


@dataclass(frozen=True)
class Count(Command):
    name: ClassVar[str] = "count"
    what: str
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        return f"/count {self.what}" + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class StateProfile(Command):
    name: ClassVar[str] = "state"
    state: str
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        return f"/state {self.state}" + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class Overdue(Command):
    name: ClassVar[str] = "overdue"
    kind: Literal["initial", "annual"] = "initial"
    #: Calendar year the annual reports cover; None: the latest year already due at `as_of`.
    year: int | None = None
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        year = f" {self.year}" if self.year is not None else ""
        return f"/overdue {self.kind}{year}" + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class Annual(Command):
    name: ClassVar[str] = "annual"
    year: int | None = None
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        year = f" {self.year}" if self.year is not None else ""
        return "/annual" + year + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class Obligations(Command):
    name: ClassVar[str] = "obligations"
    article: int = 4
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        return f"/obligations {self.article}" + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class Deadlines(Command):
    name: ClassVar[str] = "deadlines"
    days: int = DEFAULT_DEADLINE_DAYS
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        return f"/deadlines {self.days}" + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class Extensions(Command):
    name: ClassVar[str] = "extensions"
    #: e.g. "12MSP"; None: the next meeting.
    meeting: str | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        meeting = f" {self.meeting}" if self.meeting else ""
        return "/extensions" + meeting + _times(None, self.known_at)


@dataclass(frozen=True)
class Indicators(Command):
    name: ClassVar[str] = "indicators"
    start: date
    end: date
    area: str | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        area = f" {self.area}" if self.area else ""
        period = f" {self.start.isoformat()}..{self.end.isoformat()}"
        return "/indicators" + area + period + _times(None, self.known_at)


@dataclass(frozen=True)
class Report(Command):
    name: ClassVar[str] = "report"
    start: date
    end: date
    known_at: datetime | None = None

    def to_text(self) -> str:
        period = f" {self.start.isoformat()}..{self.end.isoformat()}"
        return "/report" + period + _times(None, self.known_at)


@dataclass(frozen=True)
class Chart(Command):
    name: ClassVar[str] = "chart"
    what: str
    as_of: date | None = None
    known_at: datetime | None = None

    def to_text(self) -> str:
        return f"/chart {self.what}" + _times(self.as_of, self.known_at)


@dataclass(frozen=True)
class Calendar(Command):
    name: ClassVar[str] = "calendar"
    state: str | None = None
    as_of: date | None = None

    def to_text(self) -> str:
        state = f" {self.state}" if self.state else ""
        return "/calendar" + state + _times(self.as_of, None)


#: Commands whose answer is a list that /export can turn into CSV.
Query = Count | StateProfile | Overdue | Annual | Obligations | Deadlines | Extensions | Indicators
QUERY_TYPES: tuple[type[Command], ...] = (
    Count,
    StateProfile,
    Overdue,
    Annual,
    Obligations,
    Deadlines,
    Extensions,
    Indicators,
)


@dataclass(frozen=True)
class Export(Command):
    name: ClassVar[str] = "export"
    query: Query

    def to_text(self) -> str:
        return "/export " + self.query.to_text().removeprefix("/")


RecordKind = Literal[
    "initial-report",
    "annual-report",
    "deposit",
    "compliance",
    "extension-request",
    "extension-decision",
    "correction",
    "retraction",
]


@dataclass(frozen=True)
class RecordHelp(Command):
    """``/record`` alone: the forms a recorder can use."""

    name: ClassVar[str] = "record"


@dataclass(frozen=True)
class Record(Command):
    """A fact to record. Which fields apply depends on `kind` (see RECORD_KINDS)."""

    name: ClassVar[str] = "record"
    kind: RecordKind
    source: str
    on: date | None = None
    state: str | None = None
    year: int | None = None
    article: int | None = None
    meeting: str | None = None
    instrument: str | None = None
    outcome: Literal["granted", "refused"] | None = None
    deadline: date | None = None
    form: Literal["original", "revised"] | None = None
    target: uuid.UUID | None = None
    reason: str | None = None

    def to_text(self) -> str:
        parts = [f"/record {self.kind}"]
        if self.target is not None:
            parts.append(str(self.target))
        if self.state is not None:
            parts.append(self.state)
        if self.year is not None:
            parts.append(f"year {self.year}")
        if self.instrument is not None:
            parts.append(f"instrument {self.instrument}")
        if self.article is not None:
            parts.append(f"article {self.article}")
        if self.meeting is not None:
            parts.append(f"meeting {self.meeting}")
        if self.outcome == "granted" and self.deadline is not None:
            parts.append(f"granted {self.deadline.isoformat()}")
        elif self.outcome == "refused":
            parts.append("refused")
        elif self.deadline is not None:
            parts.append(f"deadline {self.deadline.isoformat()}")
        if self.form is not None:
            parts.append(f"form {self.form}")
        if self.on is not None:
            keyword = "date" if self.kind == "correction" else "on"
            parts.append(f"{keyword} {self.on.isoformat()}")
        if self.reason is not None:
            parts.append(f"reason {self.reason}")
        parts.append(f"source {self.source}")
        return " ".join(parts)


@dataclass(frozen=True)
class Confirm(Command):
    """Store a previewed /record (the token names the preview)."""

    name: ClassVar[str] = "confirm"
    token: str

    def to_text(self) -> str:
        return f"/confirm {self.token}"


@dataclass(frozen=True)
class Cancel(Command):
    """Drop a previewed /record."""

    name: ClassVar[str] = "cancel"
    token: str | None = None

    def to_text(self) -> str:
        return "/cancel" + (f" {self.token}" if self.token else "")


# --- what users are told about each command -------------------------------------------------


@dataclass(frozen=True)
class CommandInfo:
    """One command as /help, the console and Telegram's command menu describe it."""

    name: str
    usage: str
    summary: str
    example: str
    #: Who sees it in /help: everyone, recorders only, or only where reminders exist.
    audience: Literal["all", "recorder", "reminders"] = "all"
    aliases: tuple[str, ...] = field(default=())


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("start", "/start", "Welcome and the first questions to ask", "/start"),
    CommandInfo("help", "/help [COMMAND]", "Every command, or one in detail", "/help count"),
    CommandInfo(
        "count",
        "/count WHAT [as of DATE] [known at DATE]",
        "How many States are parties, bound, signatories … and which",
        "/count parties as of 30 June 2024",
    ),
    CommandInfo(
        "state",
        "/state NAME [DATE]",
        "One State's profile and timeline",
        "/state Laos 2024-06-30",
        aliases=("profile",),
    ),
    CommandInfo(
        "overdue",
        "/overdue [initial|annual YEAR] [DATE]",
        "Overdue Article 7 reports, initial or annual",
        "/overdue annual 2023 2024-06-30",
    ),
    CommandInfo(
        "annual",
        "/annual YEAR [DATE]",
        "Annual Article 7 reports for a year: on time, late, missing",
        "/annual 2023 as of 2024-06-30",
    ),
    CommandInfo(
        "obligations",
        "/obligations 3|4|5 [DATE]",
        "Open Article 3, 4 or 5 obligations and their deadlines",
        "/obligations 4 2024-06-30",
    ),
    CommandInfo(
        "deadlines",
        "/deadlines [DAYS] [as of DATE]",
        "Deadlines coming up in the next DAYS days (default 90)",
        "/deadlines 180",
    ),
    CommandInfo(
        "extensions",
        "/extensions [MEETING] [known at DATE]",
        "Extension requests for a meeting, filed on time or late",
        "/extensions 12MSP",
    ),
    CommandInfo(
        "indicators",
        "/indicators [AREA] [PERIOD]",
        "Progress-report indicators for a period, with the States behind them",
        "/indicators transparency 2023-24",
    ),
    CommandInfo(
        "report",
        "/report [PERIOD]",
        "The progress report as an HTML document",
        "/report 2023-24",
    ),
    CommandInfo("chart", "/chart WHAT [as of DATE]", "A chart as a picture", "/chart parties"),
    CommandInfo(
        "export",
        "/export QUESTION",
        "The list behind an answer as CSV",
        "/export overdue initial 2024-06-30",
    ),
    CommandInfo(
        "calendar",
        "/calendar [STATE]",
        "Coming deadlines as a calendar file (ICS)",
        "/calendar Lao PDR",
    ),
    CommandInfo(
        "subscribe",
        "/subscribe [all|reports|extensions|meetings|STATE]",
        "Get reminders of coming deadlines in this chat",
        "/subscribe Lao PDR",
        audience="reminders",
    ),
    CommandInfo(
        "unsubscribe",
        "/unsubscribe [all|TOPIC|STATE]",
        "Stop reminders in this chat (all, or one topic or State)",
        "/unsubscribe all",
        audience="reminders",
    ),
    CommandInfo(
        "reminders",
        "/reminders",
        "This chat's reminder subscriptions and the reminders due next",
        "/reminders",
        audience="reminders",
    ),
    CommandInfo(
        "focalpoint",
        "/focalpoint STATE [off]",
        "Make this chat a State's focal-point chat for reminders (admins)",
        "/focalpoint Lao PDR",
        audience="reminders",
    ),
    CommandInfo("whoami", "/whoami", "Your user id and role", "/whoami"),
    CommandInfo(
        "record",
        "/record KIND …",
        "Record a report, deposit, declaration, extension or correction (recorders)",
        "/record annual-report Lao 2023 on 2024-04-30 source CCM/MSP/2024/7",
        audience="recorder",
    ),
)

COMMAND_INFO: dict[str, CommandInfo] = {info.name: info for info in COMMANDS}

#: The /record forms: (kind, usage, example).
RECORD_KINDS: tuple[tuple[RecordKind, str, str], ...] = (
    (
        "annual-report",
        "/record annual-report STATE YEAR [form original|revised] on DATE source SOURCE",
        "/record annual-report Lao 2024 on 30 April 2025 source CCM/MSP/2025/5",
    ),
    (
        "initial-report",
        "/record initial-report STATE on DATE source SOURCE",
        "/record initial-report Comoros on 2025-01-15 source UNODA reporting database",
    ),
    (
        "deposit",
        "/record deposit STATE ratification|accession|acceptance|approval on DATE source SOURCE",
        "/record deposit Vanuatu accession on 2025-03-01 source C.N.12.2025.TREATIES-XXVI.6",
    ),
    (
        "compliance",
        "/record compliance STATE article 3|4 [meeting MEETING] on DATE source SOURCE",
        "/record compliance Peru article 4 on 2025-09-10 source CCM/MSP/2025/5",
    ),
    (
        "extension-request",
        "/record extension-request STATE article 3|4 meeting MEETING [deadline DATE] "
        "on DATE source SOURCE",
        "/record extension-request Chad article 4 meeting 13MSP deadline 2026-08-01 "
        "on 2024-12-01 source CCM/MSP/2025/4",
    ),
    (
        "extension-decision",
        "/record extension-decision STATE article 3|4 meeting MEETING granted DATE|refused "
        "on DATE source SOURCE",
        "/record extension-decision Chad article 4 meeting 13MSP granted 2026-08-01 "
        "on 2025-09-12 source CCM/MSP/2025/6",
    ),
    (
        "correction",
        "/record correction EVENT-ID date DATE reason TEXT source SOURCE",
        "/record correction EVENT-ID date 2024-04-29 reason misread date source CCM/MSP/2024/7",
    ),
    (
        "retraction",
        "/record retraction EVENT-ID reason TEXT source SOURCE",
        "/record retraction EVENT-ID reason duplicate entry source ISU email 2025-01-10",
    ),
)


# --- the parser -------------------------------------------------------------------------------

_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_MONTH = rf"(?:{_MONTH_NAMES})\.?"
_ORD = r"(?:st|nd|rd|th)?"
#: A date in one of the shapes people type, matched whole (then checked by `parse_date`).
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4}"
    rf"|\d{{1,2}}{_ORD}\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}{_ORD},?\s+\d{{4}}"
    rf"|(?:end|start|beginning)\s+of\s+(?:{_MONTH}\s+)?\d{{4}}"
    r"|today|now|yesterday|tomorrow)"
)
_DATE_TAIL = re.compile(rf"(?:^|\s)(?:on\s+)?(?P<date>{_DATE})$", re.IGNORECASE)
_PERIOD_TAIL = re.compile(
    rf"(?:^|\s)(?:from\s+)?(?P<period>{_DATE}\s*(?:\.\.|\s+to\s+|\s+-\s+|\s+–\s+){_DATE}"
    rf"|{_DATE}\.\.{_DATE}"
    r"|\d{4}(?:[-/]\d{2}(?:\d{2})?)?)$",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"\b(?P<kind>as\s+of|known(?:\s+at)?)(?:\s+|$)", re.IGNORECASE)
_MEETING = re.compile(r"^(\d{1,2})(MSP|RC)(-\d)?$")
_YEAR = re.compile(r"^\d{4}$")
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class _Clauses:
    core: str
    as_of: date | None
    known_at: datetime | None
    as_of_given: bool
    known_at_given: bool


def _split_clauses(text: str, today: date, allow: tuple[str, ...], usage: str) -> _Clauses:
    """Take "as of DATE" and "known at DATE" out of the text; the rest is the command's core."""
    found: dict[str, str] = {}
    matches = list(_CLAUSES.finditer(text))
    for index, match in enumerate(matches):
        kind = "as_of" if match.group("kind").lower().startswith("as") else "known_at"
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip()
        label = "as of" if kind == "as_of" else "known at"
        if kind in found:
            raise ParseError(f"'{label}' is given twice; give it once. Usage: {usage}")
        if kind not in allow:
            raise ParseError(f"'{label}' does not apply here. Usage: {usage}")
        if not value:
            raise ParseError(f"'{label}' needs a date after it, like 2024-06-30. Usage: {usage}")
        found[kind] = value
    core = text[: matches[0].start()].strip() if matches else text.strip()
    as_of = None
    known_at = None
    if "as_of" in found:
        as_of = _date(found["as_of"], today, "as of")
    if "known_at" in found:
        try:
            known_at = parse_known_at(found["known_at"], today)
        except DateInputError as exc:
            raise ParseError(
                f"I could not read the knowledge time after 'known at': {exc}"
            ) from None
    return _Clauses(core, as_of, known_at, "as_of" in found, "known_at" in found)


def _date(text: str, today: date, label: str) -> date:
    try:
        return parse_date(text, today)
    except DateInputError as exc:
        raise ParseError(f"I could not read the date after '{label}': {exc}") from None


def _peel_date(core: str, today: date, what: str = "the question") -> tuple[str, date | None]:
    """A trailing date ("Laos 30 June 2024") comes off the core."""
    match = _DATE_TAIL.search(core)
    if match is None:
        return core, None
    head = core[: match.start()].strip()
    try:
        day = parse_date(match.group("date"), today)
    except DateInputError as exc:
        understood = f"I read {what} as '{_clip(head)}' but" if head else "I"
        raise ParseError(f"{understood} could not read the date: {exc}") from None
    # "Laos today 2024-06-30": the head cannot keep a date of its own, or the subject would
    # read back differently ("Laos today" would lose "today" to the date the next time).
    earlier = _DATE_TAIL.search(head)
    if earlier is not None:
        raise ParseError(
            f"two dates given ('{_clip(earlier.group('date'))}' and "
            f"'{_clip(match.group('date'))}'); give one"
        )
    return head, day


def _peel_period(core: str, today: date) -> tuple[str, tuple[date, date] | None]:
    match = _PERIOD_TAIL.search(core)
    if match is None:
        return core, None
    text = match.group("period")
    normalised = re.sub(r"\s+(?:to|-|–)\s+", "..", text.strip(), flags=re.IGNORECASE)
    try:
        period = parse_period(normalised, today)
    except DateInputError as exc:
        raise ParseError(f"I could not read the period '{text}': {exc}") from None
    return core[: match.start()].strip(), period


def _no_stray_date(subject: str, today: date, what: str, usage: str) -> None:
    """Subjects (State names, areas) have no digits: a digit means a date I could not read."""
    if not _HAS_DIGIT.search(subject):
        return
    head, _, tail = subject.rpartition(" ")
    try:
        parse_date(tail, today)
    except DateInputError as exc:
        understood = f"I read {what} as '{_clip(head)}' but" if head else "I"
        raise ParseError(f"{understood} could not read the date: {exc}. Usage: {usage}") from None
    raise ParseError(f"'{_clip(subject)}' is not {what}. Usage: {usage}")


def _subject(text: str, what: str, usage: str) -> str:
    if len(text) > MAX_SUBJECT:
        raise ParseError(f"that is too long for {what} ({len(text)} characters). Usage: {usage}")
    return text


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def last_complete_reporting_year(today: date) -> tuple[date, date]:
    """The latest 1 July–30 June reporting period that has ended (progress reports use it)."""
    end_year = today.year if today >= date(today.year, 6, 30) else today.year - 1
    return date(end_year - 1, 7, 1), date(end_year, 6, 30)


def _usage(name: str) -> str:
    info = COMMAND_INFO.get(name)
    return f"{info.usage} (e.g. {info.example})" if info else f"/{name}"


def _year(text: str, usage: str) -> int:
    if not _YEAR.match(text):
        raise ParseError(f"'{_clip(text)}' is not a year like 2023. Usage: {usage}")
    year = int(text)
    if not 2010 <= year <= 2100:
        raise ParseError(f"{year} is outside the Convention's years (2010 onwards). Usage: {usage}")
    return year


def _meeting(text: str, usage: str) -> str:
    compact = re.sub(r"\s+", "", text).upper()
    if not _MEETING.match(compact):
        raise ParseError(
            f"'{_clip(text)}' is not a meeting: write it like 12MSP, 13MSP or 3RC. Usage: {usage}"
        )
    return compact


def _parse_start(rest: str, today: date) -> Command:
    return Start()


def _parse_help(rest: str, today: date) -> Command:
    topic = rest.strip().lstrip("/").lower() or None
    if topic is not None:
        topic = _ALIASES.get(topic, topic)
        if topic not in COMMAND_INFO:
            raise ParseError(
                f"there is no command '{_clip(topic)}'; /help alone lists every command"
            )
    return Help(topic)


def _parse_count(rest: str, today: date) -> Command:
    usage = _usage("count")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    core, day = _peel_date(clauses.core, today, "what to count")
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    what = " ".join(core.lower().split())
    if not what:
        raise ParseError(
            f"what should I count? Choose one of {', '.join(COUNT_TITLES)}. Usage: {usage}"
        )
    _no_stray_date(what, today, "what to count", usage)
    key = COUNT_ALIASES.get(what, what.replace(" ", "_"))
    if key not in COUNT_TITLES:
        raise ParseError(
            f"I cannot count '{_clip(what)}': choose one of {', '.join(COUNT_TITLES)}. "
            f"Usage: {usage}"
        )
    return Count(key, clauses.as_of or day, clauses.known_at)


def _parse_state(rest: str, today: date) -> Command:
    usage = _usage("state")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    core, day = _peel_date(clauses.core, today, "the State")
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    if not core:
        raise ParseError(f"which State? Usage: {usage}")
    _no_stray_date(core, today, "the State", usage)
    return StateProfile(
        _subject(core, "a State name", usage), clauses.as_of or day, clauses.known_at
    )


def _parse_overdue(rest: str, today: date) -> Command:
    usage = _usage("overdue")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    core, day = _peel_date(clauses.core, today)
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    words = core.lower().split()
    as_of = clauses.as_of or day
    if not words or words == ["initial"]:
        return Overdue("initial", None, as_of, clauses.known_at)
    if words[0] == "annual" and len(words) <= 2:
        year = _year(words[1], usage) if len(words) == 2 else None
        return Overdue("annual", year, as_of, clauses.known_at)
    if words[0] == "initial" and len(words) > 1:
        _no_stray_date(" ".join(words), today, "the kind of report", usage)
    raise ParseError(
        f"I understood '/overdue' but not '{_clip(core)}': ask for 'initial' or "
        f"'annual YEAR'. Usage: {usage}"
    )


def _parse_annual(rest: str, today: date) -> Command:
    usage = _usage("annual")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    core, day = _peel_date(clauses.core, today)
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    year = _year(core, usage) if core else None
    return Annual(year, clauses.as_of or day, clauses.known_at)


def _parse_obligations(rest: str, today: date) -> Command:
    usage = _usage("obligations")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    core, day = _peel_date(clauses.core, today)
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    words = core.lower().replace("art.", "").replace("article", "").split()
    if not words:
        return Obligations(4, clauses.as_of or day, clauses.known_at)
    if len(words) == 1 and words[0] in ("3", "4", "5"):
        return Obligations(int(words[0]), clauses.as_of or day, clauses.known_at)
    raise ParseError(f"which article: 3 (stockpiles), 4 (clearance) or 5 (victims)? Usage: {usage}")


def _parse_deadlines(rest: str, today: date) -> Command:
    usage = _usage("deadlines")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    words = clauses.core.lower().split()
    if words and words[-1] in ("days", "day", "d"):
        words = words[:-1]
    if not words:
        return Deadlines(DEFAULT_DEADLINE_DAYS, clauses.as_of, clauses.known_at)
    if len(words) == 1 and words[0].isdigit() and len(words[0]) <= 5:
        days = int(words[0])
        if 1 <= days <= 3650:
            return Deadlines(days, clauses.as_of, clauses.known_at)
    raise ParseError(
        f"'{_clip(clauses.core)}' is not a number of days from 1 to 3650 "
        f"(dates go after 'as of'). Usage: {usage}"
    )


def _parse_extensions(rest: str, today: date) -> Command:
    usage = _usage("extensions")
    clauses = _split_clauses(rest, today, ("known_at",), usage)
    meeting = _meeting(clauses.core, usage) if clauses.core else None
    return Extensions(meeting, clauses.known_at)


def _parse_indicators(rest: str, today: date) -> Command:
    usage = _usage("indicators")
    clauses = _split_clauses(rest, today, ("known_at",), usage)
    core, period = _peel_period(clauses.core, today)
    area = " ".join(core.split()) or None
    if area is not None:
        _no_stray_date(area, today, "the area", usage)
        area = _subject(area, "an area", usage)
    start, end = period or last_complete_reporting_year(today)
    return Indicators(start, end, area, clauses.known_at)


def _parse_report(rest: str, today: date) -> Command:
    usage = _usage("report")
    clauses = _split_clauses(rest, today, ("known_at",), usage)
    core, period = _peel_period(clauses.core, today)
    if core:
        raise ParseError(
            f"I could not read '{_clip(core)}' as a period: write 2023-24, 2024 or "
            f"2023-07-01..2024-06-30. Usage: {usage}"
        )
    start, end = period or last_complete_reporting_year(today)
    return Report(start, end, clauses.known_at)


def _parse_chart(rest: str, today: date) -> Command:
    usage = _usage("chart")
    clauses = _split_clauses(rest, today, ("as_of", "known_at"), usage)
    core, day = _peel_date(clauses.core, today)
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    what = " ".join(core.lower().split())
    if not what:
        raise ParseError(f"which chart? Usage: {usage}")
    if what.split()[-1][0].isdigit():  # chart names may hold digits ("article4"), not start so
        _no_stray_date(what, today, "the chart", usage)
    return Chart(_subject(what, "a chart name", usage), clauses.as_of or day, clauses.known_at)


def _parse_calendar(rest: str, today: date) -> Command:
    usage = _usage("calendar")
    clauses = _split_clauses(rest, today, ("as_of",), usage)
    core, day = _peel_date(clauses.core, today, "the State")
    if day is not None and clauses.as_of_given:
        raise ParseError(f"two dates given (one after 'as of'); give one. Usage: {usage}")
    if core:
        _no_stray_date(core, today, "the State", usage)
    state = _subject(core, "a State name", usage) if core else None
    return Calendar(state, clauses.as_of or day)


def _parse_export(rest: str, today: date) -> Command:
    usage = _usage("export")
    text = rest.strip().lstrip("/")
    if not text:
        raise ParseError(f"export what? Usage: {usage}")
    first = text.split()[0].lower()
    if first in COUNT_TITLES or first in COUNT_ALIASES or first.rstrip("s") == "part":
        text = "count " + text  # "/export parties" is the list behind "/count parties"
    try:
        inner = parse(text, today)
    except ParseError as exc:
        raise ParseError(f"in /export: {exc}") from None
    if not isinstance(inner, QUERY_TYPES):
        raise ParseError(
            f"/{inner.name} has no list to export; export one of "
            + ", ".join("/" + t.name for t in QUERY_TYPES)
        )
    return Export(cast(Query, inner))


_RECORD_KIND_ALIASES: dict[str, RecordKind] = {
    "annual-report": "annual-report",
    "annual": "annual-report",
    "initial-report": "initial-report",
    "initial": "initial-report",
    "deposit": "deposit",
    "ratification": "deposit",
    "accession": "deposit",
    "compliance": "compliance",
    "declaration": "compliance",
    "extension-request": "extension-request",
    "request": "extension-request",
    "extension-decision": "extension-decision",
    "decision": "extension-decision",
    "correction": "correction",
    "correct": "correction",
    "retraction": "retraction",
    "retract": "retraction",
}
_RECORD_KEYWORDS = (
    "on",
    "article",
    "meeting",
    "deadline",
    "granted",
    "refused",
    "year",
    "form",
    "instrument",
    "date",
)
_INSTRUMENTS = ("ratification", "accession", "acceptance", "approval")


def _record_usage(kind: RecordKind) -> str:
    for name, usage, example in RECORD_KINDS:
        if name == kind:
            return f"{usage} (e.g. {example})"
    return _usage("record")


def _parse_record(rest: str, today: date) -> Command:
    text = rest.strip()
    if not text:
        return RecordHelp()
    word, _, body = text.partition(" ")
    key = word.lower().replace("_", "-")
    kind = _RECORD_KIND_ALIASES.get(key)
    if kind is None:
        kinds = ", ".join(k for k, _, _ in RECORD_KINDS)
        raise ParseError(
            f"I cannot record '{_clip(word)}': choose one of {kinds}. /record alone "
            "shows how to write each"
        )
    usage = _record_usage(kind)
    fields = _record_fields(body, usage)
    source = fields.pop("source", None)
    if not source:
        raise ParseError(
            f"every record needs its source: end with 'source' and the document symbol or URL. "
            f"Usage: {usage}"
        )
    if len(source) > MAX_FREE_TEXT:
        raise ParseError(
            f"the source is too long ({len(source)} characters, at most {MAX_FREE_TEXT})"
        )
    subject = fields.pop("", "")
    on = _date(fields.pop("on"), today, "on") if "on" in fields else None
    values: dict[str, object] = {"kind": kind, "source": source, "on": on}
    if key in ("ratification", "accession"):
        values["instrument"] = key
    if kind in ("correction", "retraction"):
        try:
            values["target"] = uuid.UUID(subject.strip())
        except ValueError:
            raise ParseError(
                f"'{_clip(subject)}' is not an event id: copy it from the State's timeline "
                f"(/export state NAME). Usage: {usage}"
            ) from None
        reason = fields.pop("reason", None)
        if not reason:
            raise ParseError(f"say why: add 'reason' and a few words. Usage: {usage}")
        values["reason"] = reason[:MAX_FREE_TEXT]
        if kind == "correction":
            # The corrected valid date goes in `on`: it is when the fact really happened.
            if on is not None or "date" not in fields:
                raise ParseError(
                    f"a correction gives the corrected date after 'date'. Usage: {usage}"
                )
            values["on"] = _date(fields.pop("date"), today, "date")
        _reject_unused(fields, kind, usage)
        return Record(**values)  # type: ignore[arg-type]
    if kind == "annual-report" and "year" not in fields:
        words = subject.split()
        if words and _YEAR.match(words[-1]):
            fields["year"] = words[-1]
            subject = " ".join(words[:-1])
    if kind == "deposit" and "instrument" not in fields and "instrument" not in values:
        words = subject.split()
        if words and words[-1].lower() in _INSTRUMENTS:
            fields["instrument"] = words[-1].lower()
            subject = " ".join(words[:-1])
    state = " ".join(subject.split())
    if not state:
        raise ParseError(f"which State? Usage: {usage}")
    _no_stray_date(state, today, "the State", usage)
    values["state"] = _subject(state, "a State name", usage)
    if kind == "annual-report":
        if "year" not in fields:
            raise ParseError(f"which year does the report cover? Usage: {usage}")
        values["year"] = _year(fields.pop("year"), usage)
        if "form" in fields:
            form = fields.pop("form").lower()
            if form not in ("original", "revised"):
                raise ParseError(f"form is 'original' or 'revised'. Usage: {usage}")
            values["form"] = form
    if kind == "deposit":
        instrument = fields.pop("instrument", None) or values.get("instrument")
        if instrument not in _INSTRUMENTS:
            raise ParseError(f"which instrument: {', '.join(_INSTRUMENTS)}? Usage: {usage}")
        values["instrument"] = instrument
    if kind in ("compliance", "extension-request", "extension-decision"):
        article = fields.pop("article", "")
        if article not in ("3", "4"):
            raise ParseError(f"which article: 'article 3' or 'article 4'? Usage: {usage}")
        values["article"] = int(article)
        if "meeting" in fields:
            values["meeting"] = _meeting(fields.pop("meeting"), usage)
        elif kind != "compliance":
            raise ParseError(f"which meeting considers it (e.g. 'meeting 13MSP')? Usage: {usage}")
    if kind == "extension-request" and "deadline" in fields:
        values["deadline"] = _date(fields.pop("deadline"), today, "deadline")
    if kind == "extension-decision":
        if "granted" in fields:
            values["outcome"] = "granted"
            values["deadline"] = _date(fields.pop("granted"), today, "granted")
        elif "refused" in fields:
            if fields.pop("refused"):
                raise ParseError(f"'refused' takes no date. Usage: {usage}")
            values["outcome"] = "refused"
        else:
            raise ParseError(f"was it 'granted DATE' or 'refused'? Usage: {usage}")
    _reject_unused(fields, kind, usage)
    return Record(**values)  # type: ignore[arg-type]


def _reject_unused(fields: dict[str, str], kind: str, usage: str) -> None:
    if fields:
        extra = ", ".join(f"'{name}'" for name in fields)
        raise ParseError(f"{extra} does not apply to {kind}. Usage: {usage}")


def _record_fields(body: str, usage: str) -> dict[str, str]:
    """Split "Lao 2023 on 30 April 2024 source X" into {"": "Lao 2023", "on": …, "source": …}.

    The source (and a correction's reason) run to the end of the text, so they may hold any
    words; every other keyword ends where the next one starts.
    """
    fields: dict[str, str] = {}
    source_match = re.search(r"(?:^|\s)source(?:\s+|$)", body, re.IGNORECASE)
    if source_match:
        fields["source"] = body[source_match.end() :].strip()
        body = body[: source_match.start()]
    reason_match = re.search(r"(?:^|\s)reason(?:\s+|$)", body, re.IGNORECASE)
    if reason_match:
        fields["reason"] = body[reason_match.end() :].strip()
        body = body[: reason_match.start()]
    pattern = re.compile(
        r"(?:^|\s)(?P<key>" + "|".join(_RECORD_KEYWORDS) + r")(?=\s|$)", re.IGNORECASE
    )
    matches = list(pattern.finditer(body))
    fields[""] = body[: matches[0].start()].strip() if matches else body.strip()
    for index, match in enumerate(matches):
        key = match.group("key").lower()
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        if key in fields:
            raise ParseError(f"'{key}' is given twice. Usage: {usage}")
        fields[key] = " ".join(body[match.end() : end].split())
        if not fields[key] and key != "refused":
            raise ParseError(f"'{key}' needs a value after it. Usage: {usage}")
    return fields


def _parse_confirm(rest: str, today: date) -> Command:
    token = rest.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", token):
        raise ParseError("/confirm is sent by the Confirm button under a /record preview")
    return Confirm(token)


def _parse_cancel(rest: str, today: date) -> Command:
    token = rest.strip()
    if token and not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", token):
        raise ParseError("/cancel is sent by the Cancel button under a /record preview")
    return Cancel(token or None)


def _no_arguments(command: Command) -> Callable[[str, date], Command]:
    def parse_it(rest: str, today: date) -> Command:
        return command

    return parse_it


_PARSERS: dict[str, Callable[[str, date], Command]] = {
    "start": _parse_start,
    "help": _parse_help,
    "whoami": _no_arguments(WhoAmI()),
    "subscribe": _no_arguments(Subscribe()),
    "unsubscribe": _no_arguments(Unsubscribe()),
    "reminders": _no_arguments(ShowReminders()),
    "focalpoint": _no_arguments(FocalPoint()),
    "count": _parse_count,
    "state": _parse_state,
    "overdue": _parse_overdue,
    "annual": _parse_annual,
    "obligations": _parse_obligations,
    "deadlines": _parse_deadlines,
    "extensions": _parse_extensions,
    "indicators": _parse_indicators,
    "report": _parse_report,
    "chart": _parse_chart,
    "calendar": _parse_calendar,
    "export": _parse_export,
    "record": _parse_record,
    "confirm": _parse_confirm,
    "cancel": _parse_cancel,
}
_ALIASES: dict[str, str] = {
    "profile": "state",
    "country": "state",
    "?": "help",
    "commands": "help",
    "csv": "export",
    "ics": "calendar",
    "who": "whoami",
    "extension": "extensions",
    "indicator": "indicators",
    "deadline": "deadlines",
}


def parse(text: str, today: date) -> Command:
    """Read one command; the leading slash is optional and a ``@botname`` suffix is ignored."""
    raw = " ".join(text.split())
    if not raw:
        raise ParseError(
            "send a command, for example /count parties as of 2024-06-30; /help lists them all"
        )
    control = _CONTROL.search(raw)
    if control is not None:
        # Invisible in the reply, so any other error would name text that looks right.
        raise ParseError(
            f"the message contains an invisible control character (U+{ord(control.group()):04X}) "
            f"after '{_clip(raw[: control.start()], 40)}'; send it again without it"
        )
    word, _, rest = raw.partition(" ")
    name = word.removeprefix("/").split("@", 1)[0].lower()
    name = _ALIASES.get(name, name)
    parser = _PARSERS.get(name)
    if parser is None:
        raise ParseError(
            f"I do not know the command '{_clip(word, 40)}'. Ask like "
            "/count parties as of 2024-06-30 or /state Laos; /help lists every command"
        )
    return parser(rest, today)

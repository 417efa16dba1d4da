"""Import events from CSV or JSON Lines files, all or nothing, idempotently.

Every row is validated before anything is stored; one refused row means nothing from the file is
stored, and the report names every refused row with its number and the field at fault. Rows
without an `event_id` get a deterministic one from their identifying content (type, stream, valid
time, payload, source), so importing the same file twice adds nothing. State names are read
through `tracker.aliases`, so "Lao PDR" or "Bosnia" work; a guessed misspelling is stored under
the State it was read as and reported as a warning with its row number.

CSV: a header row; columns `type`, `occurred_on`, `source`, `recorded_by` (or the `recorded_by`
argument), optionally `event_id`, `stream`, `schema_version`, `recorded_at` (default: now),
`payload` (a JSON object), flat `payload.<field>` columns and `state` (a name or ISO3 code).
Rows are numbered as a spreadsheet shows them: the header is row 1.

JSON Lines: one event envelope per line (as `tracker export` writes them; `version` and
`position` are ignored); lines are numbered from 1, blank lines are skipped.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import json
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from events.errors import InvalidEvent
from events.schema import (
    REGISTRY,
    Event,
    StatePayload,
    default_stream,
    deterministic_id,
    parse_event,
    state_stream,
)
from events.store import EventStore, StreamAppend
from projections.ledger import Ledger
from tracker.aliases import StateLookupError, resolve
from tracker.clock import Clock, SystemClock
from tracker.recording import Actor, RuleBook, RuleViolation

__all__ = [
    "BUNDLED_FILES",
    "ImportFileError",
    "ImportPlan",
    "ImportReport",
    "Issue",
    "Progress",
    "apply_plan",
    "bundled_events",
    "load_bundled",
    "plan_import",
    "plan_text",
    "run_import",
]

#: Called as progress(rows_done, rows_total) while a file is checked.
Progress = Callable[[int, int], None]
Unit = Literal["row", "line"]

#: The bundled CCM dataset, in load order: membership first so that every later fact is about a
#: State that already has a stream, the report's facts before the figures that summarise them.
BUNDLED_PACKAGE = "tracker.data.ccm"
BUNDLED_FILES = (
    "membership.jsonl",
    "meetings.jsonl",
    "extensions.jsonl",
    "msp12-report.jsonl",
    "figures.jsonl",
    "coverage.jsonl",
)

_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods", ".numbers"}
_ENVELOPE = (
    "event_id",
    "stream",
    "type",
    "schema_version",
    "occurred_on",
    "recorded_at",
    "recorded_by",
    "source",
    "payload",
)
_REQUIRED = ("type", "occurred_on", "source", "recorded_by")
# Export output carries store-assigned numbers; they are the store's to give, not the file's.
_STORE_ASSIGNED = ("version", "position")
_PLACEHOLDER_ID = uuid.UUID(int=0)
_PROGRESS_EVERY = 200


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (missing, empty, wrong format, bad header)."""


@dataclass(frozen=True)
class Issue:
    """A refused row or a warning, located by row (CSV) or line (JSON Lines) number."""

    unit: Unit
    number: int
    message: str

    def __str__(self) -> str:
        return f"{self.unit} {self.number}: {self.message}"


@dataclass(frozen=True)
class ImportPlan:
    """A checked file: the events it would store, or why it cannot be stored."""

    source: str
    rows_read: int
    events: tuple[Event, ...]
    refused: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    #: Where each event came from: its row (CSV) or line (JSON Lines) number, in `events` order.
    numbers: tuple[int, ...] = ()
    unit: Unit = "row"

    @property
    def ok(self) -> bool:
        return not self.refused


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, for a dry run or a refused file, would have done)."""

    source: str
    dry_run: bool
    read: int
    would_add: int
    added: int
    already_present: int
    refused: tuple[Issue, ...]
    warnings: tuple[Issue, ...]

    @property
    def stored(self) -> bool:
        return not self.dry_run and not self.refused

    def summary(self) -> str:
        """A few lines for a console or a chat message."""
        if self.refused:
            head = f"{self.source}: {len(self.refused)} row(s) refused, nothing stored"
        elif self.dry_run:
            head = f"{self.source}: dry run, nothing stored"
        else:
            head = f"{self.source}: imported"
        counts = (
            f"read {self.read}, "
            + (f"added {self.added}" if self.stored else f"would add {self.would_add}")
            + f", already present {self.already_present}, refused {len(self.refused)}, "
            f"warnings {len(self.warnings)}"
        )
        lines = [head, counts]
        lines += [f"refused {issue}" for issue in self.refused]
        lines += [f"warning {issue}" for issue in self.warnings]
        return "\n".join(lines)


class _Refused(Exception):
    """One row cannot become an event; the message names the field and the reason."""


# --- planning -------------------------------------------------------------------------------


def plan_import(
    path: str | Path,
    *,
    recorded_by: str | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
    convention: str = "ccm",
) -> ImportPlan:
    """Read and check a CSV or JSONL file without touching any store."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in _SPREADSHEETS:
        raise ImportFileError(
            f"{file}: {suffix} spreadsheets cannot be imported; export it as CSV or JSONL"
        )
    if suffix not in _FORMATS:
        raise ImportFileError(
            f"{file}: unsupported file type {suffix or '(no extension)'!r}; "
            "use .csv or .jsonl (one event per line)"
        )
    if not file.exists():
        raise ImportFileError(f"{file}: file not found")
    if not file.is_file():
        raise ImportFileError(f"{file}: not a file")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    return plan_text(
        text,
        _FORMATS[suffix],
        source=str(file),
        recorded_by=recorded_by,
        progress=progress,
        clock=clock,
        convention=convention,
    )


def plan_text(
    text: str,
    fmt: str,
    *,
    source: str,
    recorded_by: str | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
    convention: str = "ccm",
) -> ImportPlan:
    """Check already-read text in format `fmt` ("csv" or "jsonl"); `source` names it in messages."""
    if not text.strip():
        raise ImportFileError(f"{source}: the file is empty")
    if fmt == "csv":
        unit: Unit = "row"
        rows = list(_csv_records(text, source, recorded_by))
    elif fmt == "jsonl":
        unit = "line"
        rows = list(_jsonl_records(text))
    else:
        raise ImportFileError(f"{source}: unknown format {fmt!r}; use 'csv' or 'jsonl'")
    builder = _Builder(
        unit=unit, recorded_by=recorded_by, clock=clock or SystemClock(), convention=convention
    )
    total = len(rows)
    if not total:
        raise ImportFileError(f"{source}: no events in the file, only a header")
    for done, (number, record) in enumerate(rows, 1):
        builder.add(number, record)
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return ImportPlan(
        source=source,
        rows_read=total,
        events=tuple(builder.events),
        refused=tuple(builder.refused),
        warnings=tuple(builder.warnings),
        numbers=tuple(builder.numbers),
        unit=unit,
    )


# A record is either a dict ready for the envelope, or the _Refused a row already earned while
# being read (bad JSON, too many cells) so that it is reported with the others, in order.
_Record = dict[str, Any] | _Refused


def _jsonl_records(text: str) -> Iterator[tuple[int, _Record]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _Refused(f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            kind = type(data).__name__
            yield number, _Refused(f"expected a JSON object (one event per line), got {kind}")
            continue
        yield number, data


def _csv_records(text: str, source: str, recorded_by: str | None) -> Iterator[tuple[int, _Record]]:
    first_line = text.splitlines()[0]
    # Spreadsheets in many locales export with ';' (or tabs); the header shows which.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip() for cell in next(reader)]
    columns = _check_header(header, source, recorded_by)
    # Row numbers as a spreadsheet shows them: the header is row 1. Rows, not physical lines,
    # so a quoted cell spanning lines does not shift later numbers.
    for number, cells in enumerate(reader, 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            yield (
                number,
                _Refused(
                    f"has {len(cells)} cells but the header has {len(columns)} columns "
                    "(an unquoted comma in a value?)"
                ),
            )
            continue
        values = {col: cell.strip() for col, cell in zip(columns, cells, strict=False)}
        try:
            yield number, _csv_to_envelope(values)
        except _Refused as refused:
            yield number, refused


def _check_header(header: list[str], source: str, recorded_by: str | None) -> list[str]:
    columns = [c if c.startswith("payload.") else c.lower() for c in header]
    seen: set[str] = set()
    for column in columns:
        if not column:
            raise ImportFileError(f"{source}: the header has an empty column name")
        if column in seen:
            raise ImportFileError(f"{source}: column {column!r} appears twice in the header")
        seen.add(column)
    unknown = [c for c in columns if c not in _ENVELOPE and c != "state"]
    unknown = [c for c in unknown if not (c.startswith("payload.") and len(c) > len("payload."))]
    if unknown:
        raise ImportFileError(
            f"{source}: unknown column(s) {', '.join(map(repr, unknown))}; columns are "
            f"{', '.join(_ENVELOPE)}, state, and payload.<field> for payload fields"
        )
    required = [c for c in _REQUIRED if not (c == "recorded_by" and recorded_by)]
    missing = [c for c in required if c not in seen]
    if missing:
        hint = " (or pass recorded_by)" if "recorded_by" in missing else ""
        raise ImportFileError(
            f"{source}: missing column(s) {', '.join(missing)}{hint}; "
            f"needed: {', '.join(_REQUIRED)}"
        )
    return columns


def _csv_to_envelope(values: Mapping[str, str]) -> dict[str, Any]:
    """Turn one CSV row (stripped strings, empty meaning absent) into an envelope dict."""
    record: dict[str, Any] = {
        k: v for k, v in values.items() if k in _ENVELOPE and k != "payload" and v
    }
    payload: dict[str, Any] = {}
    if values.get("payload"):
        try:
            loaded = json.loads(values["payload"])
        except json.JSONDecodeError as exc:
            raise _Refused(f"payload: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(loaded, dict):
            raise _Refused('payload: must be a JSON object, e.g. {"state": "LAO"}')
        payload.update(loaded)
    payload_cls = REGISTRY.get(record.get("type", ""))
    flat = {k.removeprefix("payload."): v for k, v in values.items() if k.startswith("payload.")}
    if values.get("state"):
        flat.setdefault("state", values["state"])
        if flat["state"] != values["state"]:
            raise _Refused("state: differs from payload.state; give the State once")
    for field, value in flat.items():
        if not value:
            continue
        if field in payload and payload[field] != value:
            raise _Refused(f"payload.{field}: given both in the payload JSON and as a column")
        payload[field] = _flat_value(payload_cls, field, value)
    if "schema_version" in record:
        try:
            record["schema_version"] = int(record["schema_version"])
        except ValueError:
            raise _Refused(
                f"schema_version: {record['schema_version']!r} is not a whole number"
            ) from None
    record["payload"] = payload
    return record


def _flat_value(payload_cls: type | None, field: str, value: str) -> Any:
    """A cell's text as the payload field wants it; pydantic converts numbers and dates."""
    if value.startswith(("[", "{")):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise _Refused(f"payload.{field}: not valid JSON ({exc.msg})") from None
    if payload_cls is not None and _is_sequence_field(payload_cls, field):
        # A list in one cell: "A;B;J" (or commas), the way people type it in a spreadsheet.
        return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    if (
        payload_cls is not None
        and re.fullmatch(r"\d+", value)
        and _is_int_choice(payload_cls, field)
    ):
        # pydantic compares a Literal[3, 4, 5] field with the text "4" and refuses it.
        return int(value)
    return value


def _field_options(payload_cls: type, field: str) -> tuple[Any, ...]:
    """The types a payload field accepts (the members of a union, or the one type)."""
    fields: Mapping[str, Any] = getattr(payload_cls, "model_fields", {})
    info = fields.get(field)
    if info is None:
        return ()
    annotation = info.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _is_sequence_field(payload_cls: type, field: str) -> bool:
    return any(
        typing.get_origin(option) in (tuple, list) for option in _field_options(payload_cls, field)
    )


def _is_int_choice(payload_cls: type, field: str) -> bool:
    """A field such as `article: Literal[3, 4, 5]`."""
    return any(
        typing.get_origin(option) is Literal
        and all(isinstance(arg, int) for arg in typing.get_args(option))
        for option in _field_options(payload_cls, field)
    )


@dataclass
class _Builder:
    """Turns records into events, collecting refusals and warnings in row order."""

    unit: Unit
    recorded_by: str | None
    clock: Clock
    convention: str

    def __post_init__(self) -> None:
        self.events: list[Event] = []
        self.numbers: list[int] = []
        self.refused: list[Issue] = []
        self.warnings: list[Issue] = []
        self._first_seen: dict[uuid.UUID, int] = {}
        self._by_id: dict[uuid.UUID, Event] = {}

    def add(self, number: int, record: _Record) -> None:
        try:
            if isinstance(record, _Refused):
                raise record
            event = self._event(number, record)
        except _Refused as refused:
            self.refused.append(Issue(self.unit, number, str(refused)))
            return
        first = self._first_seen.setdefault(event.event_id, number)
        if first != number:
            if _content(event) != _content(self._by_id[event.event_id]):
                self.refused.append(
                    Issue(
                        self.unit,
                        number,
                        f"event_id: {event.event_id} is already used by {self.unit} {first} "
                        "for a different event; give each event its own id",
                    )
                )
                return
            self.warnings.append(
                Issue(self.unit, number, f"same event as {self.unit} {first}; counted once")
            )
            return
        self._by_id[event.event_id] = event
        self.events.append(event)
        self.numbers.append(number)

    def _event(self, number: int, record: dict[str, Any]) -> Event:
        data = {k: v for k, v in record.items() if k not in _STORE_ASSIGNED}
        type_name = data.get("type")
        if not isinstance(type_name, str) or not type_name.strip():
            raise _Refused("type: missing event type")
        payload_cls = REGISTRY.get(type_name)
        if payload_cls is None:
            raise _Refused(_unknown_type(type_name))
        payload = data.get("payload", {})
        if not isinstance(payload, dict):
            raise _Refused("payload: must be an object")
        payload = dict(payload)
        if issubclass(payload_cls, StatePayload) and isinstance(payload.get("state"), str):
            payload["state"] = self._state(number, payload["state"])
        data["payload"] = payload
        if not data.get("recorded_by"):
            if not self.recorded_by:
                raise _Refused("recorded_by: missing (add it to the row or pass recorded_by)")
            data["recorded_by"] = self.recorded_by
        data["recorded_at"] = self._recorded_at(data.get("recorded_at"))
        given_id = data.get("event_id")
        given_stream = data.get("stream")
        data.setdefault("event_id", str(_PLACEHOLDER_ID))
        data.setdefault("stream", f"{self.convention}:pending:import")
        try:
            event = parse_event(data)
        except InvalidEvent as exc:
            raise _Refused(str(exc)) from None
        stream = given_stream or self._default_stream(event)
        if given_stream and isinstance(event.payload, StatePayload):
            expected = state_stream(event.payload.state, self.convention)
            if given_stream != expected:
                raise _Refused(
                    f"stream: {given_stream!r} does not match payload.state "
                    f"{event.payload.state} (expected {expected!r}, or leave stream empty)"
                )
        event_id = event.event_id if given_id else _content_id(event, stream)
        return event.model_copy(update={"event_id": event_id, "stream": stream})

    def _state(self, number: int, name: str) -> str:
        try:
            found = resolve(name)
        except StateLookupError as exc:
            raise _Refused(f"payload.state: {exc}") from None
        if found.warning:
            self.warnings.append(Issue(self.unit, number, f"payload.state: {found.warning}"))
        return found.iso3

    def _recorded_at(self, value: Any) -> Any:
        if value is None or value == "":
            return self.clock.now()
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            # A bare date is a knowledge *day*: read it as its first instant, in UTC.
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                raise _Refused(f"recorded_at: {value!r} is not a real calendar date") from None
            return datetime.combine(day, time(0), tzinfo=UTC)
        return value

    def _default_stream(self, event: Event) -> str:
        try:
            return default_stream(event.payload, self.convention)
        except InvalidEvent as exc:
            raise _Refused(str(exc)) from None


def _content(event: Event) -> dict[str, Any]:
    """What makes two rows the same event (the knowledge time may default to "now" per row)."""
    return event.model_dump(exclude={"recorded_at"})


def _unknown_type(type_name: str) -> str:
    near = difflib.get_close_matches(type_name, list(REGISTRY), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return (
        f"type: unknown event type {type_name!r}; {hint}known types: {', '.join(sorted(REGISTRY))}"
    )


def _content_id(event: Event, stream: str) -> uuid.UUID:
    """The id of a row that brought none: its identifying content, never its knowledge time.

    recorded_at is left out on purpose: it defaults to the time of import, and the same row
    imported tomorrow must still be recognised as already present.
    """
    payload = json.dumps(event.payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return deterministic_id("import", event.type, stream, event.occurred_on, payload, event.source)


# --- storing --------------------------------------------------------------------------------


def apply_plan(
    store: EventStore,
    plan: ImportPlan,
    *,
    dry_run: bool = False,
    rules_as_of: date | None = None,
    convention: str = "ccm",
) -> ImportReport:
    """Store a checked plan's new events in one transaction (nothing if any row was refused).

    With `rules_as_of` (today), every new event is also held to the treaty's rules, in file
    order, against what the store and the file's earlier rows already record.
    """
    present = _already_present(store, plan.events)
    if rules_as_of is not None:
        plan = _with_rule_refusals(store, plan, present, rules_as_of, convention)
    new = [event for event in plan.events if str(event.event_id) not in present]
    added = 0
    if new and plan.ok and not dry_run:
        added = len(store.append_many(_by_stream(new)))
    return ImportReport(
        source=plan.source,
        dry_run=dry_run,
        read=plan.rows_read,
        would_add=len(new),
        added=added,
        already_present=len(plan.events) - len(new),
        refused=plan.refused,
        warnings=plan.warnings,
    )


def _with_rule_refusals(
    store: EventStore, plan: ImportPlan, present: set[str], today: date, convention: str
) -> ImportPlan:
    """The plan with a refusal for each new event that breaks a treaty rule."""
    new = [
        (event, number)
        for event, number in zip(
            plan.events, plan.numbers or range(1, len(plan.events) + 1), strict=True
        )
        if str(event.event_id) not in present and event.stream.startswith(convention + ":")
    ]
    # Each new event is checked against everything else: the store and the rest of the file.
    # Order-free on purpose: a backup lists events by position and a source by paragraph, and
    # imprecise dates cannot say which of two facts came first.
    ledger = Ledger.from_events(store.read_facts())
    ledger.apply_all(event for event, _ in new)
    in_file = {str(event.event_id): event for event in plan.events}

    def lookup(event_id: str) -> Event | None:
        return in_file.get(event_id) or store.get(event_id)

    book = RuleBook(ledger, today, lookup)
    refused = list(plan.refused)
    for event, number in new:
        try:
            book.check(event)
        except RuleViolation as violation:
            refused.append(Issue(plan.unit, number, str(violation)))
    refused.sort(key=lambda issue: issue.number)
    return dataclasses.replace(plan, refused=tuple(refused))


def run_import(
    store: EventStore,
    path: str | Path,
    dry_run: bool = False,
    recorded_by: str | None = None,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
    convention: str = "ccm",
    actor: Actor | None = None,
    check_rules: bool = True,
) -> ImportReport:
    """Check `path` completely, then store its new events in one transaction, or nothing.

    File-level problems (not found, empty, unsupported type, bad header) raise ImportFileError;
    row-level problems, including events that break the treaty's rules (unless `check_rules`
    is off, for curated historical loads), are listed in the report's `refused`, and then
    nothing is stored. With an `actor`, a viewer is refused before anything is read.
    """
    if actor is not None:
        actor.require_recorder()
        recorded_by = recorded_by or actor.name
    clock = clock or SystemClock()
    plan = plan_import(
        path, recorded_by=recorded_by, progress=progress, clock=clock, convention=convention
    )
    today = clock.now().date() if check_rules else None
    return apply_plan(store, plan, dry_run=dry_run, rules_as_of=today, convention=convention)


def _already_present(store: EventStore, events: Sequence[Event]) -> set[str]:
    return store.contains([str(event.event_id) for event in events]) if events else set()


def _by_stream(events: Sequence[Event]) -> list[StreamAppend]:
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event.stream, []).append(event)
    # expected_version=None: an import adds facts, it does not decide on a stream's state.
    return [StreamAppend(stream, batch, None) for stream, batch in grouped.items()]


# --- the bundled dataset --------------------------------------------------------------------


def _bundled_plans(progress: Progress | None = None) -> list[ImportPlan]:
    texts = [
        (name, resources.files(BUNDLED_PACKAGE).joinpath(name).read_text(encoding="utf-8"))
        for name in BUNDLED_FILES
    ]
    total = sum(1 for _, text in texts for line in text.splitlines() if line.strip())
    plans: list[ImportPlan] = []
    done = 0
    for name, text in texts:

        def step(rows_done: int, _rows_total: int, offset: int = done) -> None:
            if progress is not None:
                progress(offset + rows_done, total)

        plan = plan_text(text, "jsonl", source=f"{BUNDLED_PACKAGE}/{name}", progress=step)
        done += plan.rows_read
        plans.append(plan)
    refused = [f"{plan.source} {issue}" for plan in plans for issue in plan.refused]
    if refused:
        # The bundled files are generated and tested; a refusal here is a packaging bug.
        raise ImportFileError("bundled dataset is invalid: " + "; ".join(refused[:5]))
    return plans


def bundled_events() -> list[Event]:
    """Every event of the bundled CCM dataset, in load order (not stored anywhere)."""
    return [event for plan in _bundled_plans() for event in plan.events]


def load_bundled(store: EventStore, progress: Progress | None = None) -> ImportReport:
    """Import the bundled CCM dataset in one transaction; running it again adds nothing."""
    plans = _bundled_plans(progress)
    combined = ImportPlan(
        source=f"bundled:{BUNDLED_PACKAGE}",
        rows_read=sum(plan.rows_read for plan in plans),
        events=tuple(event for plan in plans for event in plan.events),
        refused=(),
        warnings=tuple(issue for plan in plans for issue in plan.warnings),
    )
    return apply_plan(store, combined)

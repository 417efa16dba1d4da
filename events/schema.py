"""The event envelope and every event type, as frozen pydantic v2 models.

Each payload class names itself with a stable `TYPE` string (never a Python path) and a
`SCHEMA_VERSION`. Older stored versions are upcast on read by the functions registered in
`UPCASTERS`, so the rest of the code only ever sees the current shape.

Streams are namespaced by convention: ``ccm:state:LBN``, ``ccm:meeting:12MSP``,
``ccm:figures:CCM-MSP-2024-7``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from events.dates import DateRange
from events.errors import InvalidEvent, UnknownEventType

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains control characters")
    if value != value.strip():
        raise ValueError("has leading or trailing whitespace")
    return value


#: Free text stored in an event: no control characters, bounded length.
Text = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_control_chars)]
#: ISO 3166-1 alpha-3 code of a State, upper case.
ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
#: A meeting identifier such as ``12MSP``, ``2RC-2``, ``3RC``.
MeetingId = Annotated[str, Field(pattern=r"^[0-9]{1,2}(MSP|RC)(-[0-9])?$")]
#: A stream name: ``convention:kind:key``.
StreamName = Annotated[str, Field(pattern=r"^[a-z0-9]+:[a-z_]+:[A-Za-z0-9_.-]+$", max_length=200)]

Article = Literal[3, 4, 5]
InstrumentKind = Literal["ratification", "accession", "acceptance", "approval"]
#: "original" is the reporting template in use before 11MSP; "revised" the template adopted at
#: 11MSP (with Form J); None when the source does not say.
FormVersion = Literal["original", "revised"]


class Payload(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1


class StatePayload(Payload):
    """A payload about one State."""

    state: ISO3


# --- membership -------------------------------------------------------------------------------


class StateSigned(StatePayload):
    """The State signed the Convention (Art. 15). occurred_on: the signature date."""

    TYPE: ClassVar[str] = "state.signed"


class ConsentDeposited(StatePayload):
    """An instrument of ratification/accession/acceptance/approval was deposited (Art. 16)."""

    TYPE: ClassVar[str] = "state.consent_deposited"
    instrument: InstrumentKind


class WithdrawalNotified(StatePayload):
    """The Depositary received an instrument of withdrawal (Art. 20). occurred_on: receipt date.

    The withdrawal takes effect six months later unless `effective_on` records a later date
    (Art. 20(3): not before the end of an armed conflict the State is engaged in).
    """

    TYPE: ClassVar[str] = "state.withdrawal_notified"
    effective_on: date | None = None


# --- Article 7 reporting -------------------------------------------------------------------------


class InitialReportSubmitted(StatePayload):
    """The State's initial Article 7 report reached the Secretary-General."""

    TYPE: ClassVar[str] = "report.initial.submitted"
    form_version: FormVersion | None = None
    forms: tuple[str, ...] = ()


class AnnualReportSubmitted(StatePayload):
    """An annual Article 7 report covering `year_covered` reached the Secretary-General."""

    TYPE: ClassVar[str] = "report.annual.submitted"
    SCHEMA_VERSION: ClassVar[int] = 2
    year_covered: int = Field(ge=2010, le=2100)
    form_version: FormVersion | None = None
    forms: tuple[str, ...] = ()


# --- Articles 3, 4, 5 obligations -----------------------------------------------------------


class ObligationDeclared(StatePayload):
    """The State has an Article 3 (stockpiles), 4 (clearance) or 5 (victims) obligation.

    `obligation` distinguishes several obligations under one article (Art. 4(1)(b): a separate
    deadline for each later contamination, counted from `hostilities_ended_on`).
    """

    TYPE: ClassVar[str] = "obligation.declared"
    article: Article
    obligation: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] = "main"
    basis: Literal["at_entry_into_force", "later_contamination"] = "at_entry_into_force"
    hostilities_ended_on: date | None = None

    @model_validator(mode="after")
    def _later_contamination_needs_end_of_hostilities(self) -> ObligationDeclared:
        if self.basis == "later_contamination" and self.hostilities_ended_on is None:
            raise ValueError("later_contamination needs hostilities_ended_on (Art. 4(1)(b))")
        if self.basis == "later_contamination" and self.article != 4:
            raise ValueError("later_contamination applies to Article 4 only")
        return self


class ComplianceDeclared(StatePayload):
    """The State declared it has fulfilled its Article 3 or 4 obligation (Art. 3, 4(1)(c))."""

    TYPE: ClassVar[str] = "compliance.declared"
    article: Literal[3, 4]
    obligation: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] = "main"
    meeting: MeetingId | None = None


class ExtensionRequested(StatePayload):
    """A request to extend an Article 3 or 4 deadline, to be considered at `meeting`.

    occurred_on: the submission date (often known only within bounds).
    """

    TYPE: ClassVar[str] = "extension.requested"
    article: Literal[3, 4]
    obligation: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] = "main"
    meeting: MeetingId
    requested_deadline: date | None = None


class ExtensionDecided(StatePayload):
    """A meeting granted (with a deadline) or refused an extension request."""

    TYPE: ClassVar[str] = "extension.decided"
    article: Literal[3, 4]
    obligation: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")] = "main"
    meeting: MeetingId
    outcome: Literal["granted", "refused"]
    granted_deadline: date | None = None

    @model_validator(mode="after")
    def _granted_needs_deadline(self) -> ExtensionDecided:
        if self.outcome == "granted" and self.granted_deadline is None:
            raise ValueError("a granted extension needs granted_deadline")
        if self.outcome == "refused" and self.granted_deadline is not None:
            raise ValueError("a refused extension has no granted_deadline")
        return self


# --- meetings -------------------------------------------------------------------------------


class MeetingScheduled(Payload):
    """A Meeting of States Parties or Review Conference was scheduled."""

    TYPE: ClassVar[str] = "meeting.scheduled"
    meeting: MeetingId
    name: Text
    start_date: date
    end_date: date
    place: Text | None = None
    presidency: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> MeetingScheduled:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class MeetingRescheduled(Payload):
    """A scheduled meeting moved to new dates."""

    TYPE: ClassVar[str] = "meeting.rescheduled"
    meeting: MeetingId
    start_date: date
    end_date: date
    place: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> MeetingRescheduled:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


# --- other State-level facts reported in progress reports ------------------------------------

StateFact = Literal[
    "has_cluster_munition_victims",  # Art. 5 responsibility for victims
    "provided_assistance",  # Art. 6 cooperation given
    "received_assistance",  # Art. 6 cooperation received
    "disseminated_obligations",  # Art. 9 / LAP dissemination to armed forces
    "retains_cluster_munitions",  # Art. 3(6) retention
    "used_form_j",  # revised template, Form J (gender and diverse needs)
    "gender_in_other_forms",  # gender information in forms other than J
    "national_measures_adopted",  # Art. 9 legislation
    "contribution_paid",  # assessed contributions paid (Art. 14)
]


class StateFactReported(StatePayload):
    """A fact about the State named in a source for a period (victims, assistance, …)."""

    TYPE: ClassVar[str] = "state.fact_reported"
    fact: StateFact
    period_start: date | None = None
    period_end: date | None = None
    detail: Text | None = None


class AggregatePublished(Payload):
    """A figure a document publishes without naming the States behind it.

    Kept apart from counts computed from State-level events and labelled as published.
    """

    TYPE: ClassVar[str] = "aggregate.published"
    figure: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,80}$")]
    value: int | None = None
    text: Text
    period_start: date | None = None
    period_end: date | None = None
    lap_action: Annotated[str, Field(max_length=40)] | None = None


class CoverageDeclared(Payload):
    """What a dataset records completely, so that absence of an event can be read as absence.

    Example: annual reports for calendar year 2023 as known from the 12MSP Progress Report. A
    question outside every declared coverage is answered "not covered by the recorded data".
    """

    TYPE: ClassVar[str] = "coverage.declared"
    subject: Literal[
        "membership",
        "initial_reports",
        "annual_reports",
        "obligations",
        "extensions",
        "state_facts",
    ]
    period_start: date
    period_end: date
    year_covered: int | None = Field(default=None, ge=2010, le=2100)
    detail: Text | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> CoverageDeclared:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


# --- corrections ------------------------------------------------------------------------------


class EventRetracted(Payload):
    """An earlier event is withdrawn from the record from this knowledge time on."""

    TYPE: ClassVar[str] = "event.retracted"
    target_event_id: uuid.UUID
    reason: Text


class EventCorrected(Payload):
    """An earlier event is replaced, from this knowledge time on, by corrected values.

    `occurred_on` and/or `payload` give the corrected valid time and payload of the target's
    type; an omitted part keeps the target's value.
    """

    TYPE: ClassVar[str] = "event.corrected"
    target_event_id: uuid.UUID
    reason: Text
    occurred_on: DateRange | None = None
    payload: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> EventCorrected:
        if self.occurred_on is None and self.payload is None:
            raise ValueError("a correction must give a new occurred_on or payload")
        return self


PAYLOAD_TYPES: tuple[type[Payload], ...] = (
    StateSigned,
    ConsentDeposited,
    WithdrawalNotified,
    InitialReportSubmitted,
    AnnualReportSubmitted,
    ObligationDeclared,
    ComplianceDeclared,
    ExtensionRequested,
    ExtensionDecided,
    MeetingScheduled,
    MeetingRescheduled,
    StateFactReported,
    AggregatePublished,
    CoverageDeclared,
    EventRetracted,
    EventCorrected,
)

REGISTRY: dict[str, type[Payload]] = {cls.TYPE: cls for cls in PAYLOAD_TYPES}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _annual_report_v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    """v1 stored `year` and a boolean `revised_form`; v2 has `year_covered` and `form_version`."""
    new = {k: v for k, v in old.items() if k not in ("year", "revised_form")}
    new["year_covered"] = old["year"]
    revised = old.get("revised_form")
    new["form_version"] = None if revised is None else ("revised" if revised else "original")
    return new


#: (type, from_version) -> function producing the payload of from_version + 1.
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    (AnnualReportSubmitted.TYPE, 1): _annual_report_v1_to_v2,
}


def upcast(type_name: str, schema_version: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Bring a stored payload of an older schema version up to the current one."""
    cls = REGISTRY.get(type_name)
    if cls is None:
        raise UnknownEventType(
            f"type: unknown event type {type_name!r}; known types are {', '.join(sorted(REGISTRY))}"
        )
    if schema_version > cls.SCHEMA_VERSION:
        raise UnknownEventType(
            f"schema_version: {type_name} v{schema_version} is newer than this code "
            f"(v{cls.SCHEMA_VERSION}); upgrade the tracker"
        )
    data = dict(payload)
    for version in range(schema_version, cls.SCHEMA_VERSION):
        step = UPCASTERS.get((type_name, version))
        if step is None:
            raise UnknownEventType(f"schema_version: no upcaster for {type_name} v{version}")
        data = step(data)
    return data


class Event(BaseModel):
    """One immutable fact: the envelope (who, when, from where) around a typed payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    stream: StreamName
    version: int | None = Field(default=None, ge=1)
    position: int | None = Field(default=None, ge=1)
    type: str
    schema_version: int = Field(ge=1)
    occurred_on: DateRange
    recorded_at: AwareDatetime
    recorded_by: Text
    source: Text
    payload: SerializeAsAny[Payload]

    @model_validator(mode="before")
    @classmethod
    def _resolve_payload(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        payload = data.get("payload")
        if isinstance(payload, Payload):
            data.setdefault("type", payload.TYPE)
            data.setdefault("schema_version", payload.SCHEMA_VERSION)
            if data["type"] != payload.TYPE:
                raise ValueError(f"type {data['type']!r} does not match payload {payload.TYPE!r}")
            return data
        type_name = data.get("type")
        if not isinstance(type_name, str):
            raise ValueError("type: missing event type name")
        payload_cls = REGISTRY.get(type_name)
        if payload_cls is None:
            raise ValueError(f"unknown event type {type_name!r}")
        version = data.get("schema_version", payload_cls.SCHEMA_VERSION)
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("schema_version must be an integer")
        if not isinstance(payload, Mapping):
            raise ValueError("payload must be an object")
        try:
            data["payload"] = payload_cls.model_validate(upcast(type_name, version, payload))
        except ValidationError as exc:
            # Re-raised as one ValueError so the field path keeps its "payload." prefix.
            raise ValueError(describe_validation_error(exc, prefix="payload.")) from None
        data["schema_version"] = payload_cls.SCHEMA_VERSION
        return data

    @field_validator("recorded_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def convention(self) -> str:
        return self.stream.split(":", 1)[0]

    @property
    def state(self) -> str | None:
        """ISO3 of the State the event is about, if any."""
        return self.payload.state if isinstance(self.payload, StatePayload) else None

    @property
    def key(self) -> int:
        """`event_id.int`: the fold's key for the event (hashed in C, unlike a UUID)."""
        return self.event_id.int

    def to_event(self) -> Event:
        return self

    def to_record(self) -> dict[str, Any]:
        """JSON-ready dict (ISO dates, UTC times) in the envelope's field order."""
        return self.model_dump(mode="json")

    def replace(self, **update: Any) -> Event:
        """A copy with some fields changed, not re-validated (callers pass valid values)."""
        return self.model_copy(update=update)


def new_event(
    payload: Payload,
    *,
    occurred_on: DateRange | date | str,
    recorded_at: datetime,
    recorded_by: str,
    source: str,
    stream: str | None = None,
    convention: str = "ccm",
    event_id: uuid.UUID | None = None,
) -> Event:
    """Build a not-yet-stored event; the stream defaults to the payload's natural stream."""
    try:
        return Event(
            event_id=event_id or uuid.uuid4(),
            stream=stream or default_stream(payload, convention),
            type=payload.TYPE,
            schema_version=payload.SCHEMA_VERSION,
            payload=payload,
            occurred_on=occurred_on,
            recorded_at=recorded_at,
            recorded_by=recorded_by,
            source=source,
        )
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from None


def state_stream(iso3: str, convention: str = "ccm") -> str:
    return f"{convention}:state:{iso3}"


def meeting_stream(meeting: str, convention: str = "ccm") -> str:
    return f"{convention}:meeting:{meeting}"


def default_stream(payload: Payload, convention: str = "ccm") -> str:
    if isinstance(payload, StatePayload):
        return state_stream(payload.state, convention)
    if isinstance(payload, (MeetingScheduled, MeetingRescheduled)):
        return meeting_stream(payload.meeting, convention)
    if isinstance(payload, AggregatePublished):
        return f"{convention}:figures:published"
    if isinstance(payload, CoverageDeclared):
        return f"{convention}:coverage:{payload.subject}"
    raise InvalidEvent(f"stream: {payload.TYPE} events need an explicit stream")


def deterministic_id(*parts: object) -> uuid.UUID:
    """A stable event id from its identifying parts, so re-importing a source is a no-op."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "tracker:" + "|".join(str(p) for p in parts))


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem, each naming the field path and the reason."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(
            f"{prefix}{loc}: {msg}"
            if loc
            else f"{prefix.rstrip('.') or 'event'}: {msg}"
            if prefix
            else msg
        )
    return "; ".join(lines)


M = TypeVar("M", bound=BaseModel)

#: One fields-set per model class, shared by every trusted instance: pydantic only reads it and
#: copies it before adding to it (`model_copy`), so one set serves them all (a per-instance set
#: costs 200 bytes). `model_fields` is a slow class property: the names are kept here too.
_FIELD_NAMES: dict[type[BaseModel], tuple[str, ...]] = {}
_FIELDS_SET: dict[type[BaseModel], set[str]] = {}
_new_object = object.__new__
_set = object.__setattr__


def field_names(cls: type[BaseModel]) -> tuple[str, ...]:
    """The model's field names in declaration order."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(cls.model_fields)
        _FIELDS_SET[cls] = set(names)
    return names


def trusted(cls: type[M], fields: dict[str, Any]) -> M:
    """A model built from values that already passed its validators, without running them.

    For values read back from where validated models were stored (the event log, a
    checkpoint) or copied from a valid model; `fields` must name every field, and is kept.
    """
    field_names(cls)
    model = _new_object(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", _FIELDS_SET[cls])
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def parse_event(data: Mapping[str, Any]) -> Event:
    """Validate a dict (from JSON, CSV or the database) into an Event, or raise InvalidEvent."""
    try:
        return Event.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from None

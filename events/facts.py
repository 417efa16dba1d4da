"""What a fold reads: the `Fact` protocol, and `StoredEvent`, the lean form of a stored event.

A fold of the whole log touches every event once but reads the payload of only a few: it needs
the envelope (id, time, State) to place an event, and the payload's keys only for reports,
obligations, extensions, meetings and corrections. `StoredEvent` keeps the payload as the JSON
text the store holds and validates it into its pydantic model each time `payload` is read, so a
million-event ledger holds a few hundred bytes per event instead of two kilobytes, and building
one costs no pydantic work. `Event` (the validated model) satisfies `Fact` as well; code that
folds or answers questions takes `Fact`, code that writes takes `Event`.
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from events.dates import DateRange
from events.errors import InvalidEvent
from events.schema import (
    REGISTRY,
    Event,
    Payload,
    StatePayload,
    describe_validation_error,
    trusted,
)

__all__ = ["Fact", "StoredEvent", "state_of"]


class Fact(Protocol):
    """An event as the projections read it (an `Event` or a `StoredEvent`)."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def key(self) -> int:
        """`event_id.int`: hashed in C, unlike a UUID."""
        ...

    @property
    def stream(self) -> str: ...
    @property
    def version(self) -> int | None: ...
    @property
    def position(self) -> int | None: ...
    @property
    def type(self) -> str: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def occurred_on(self) -> DateRange: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def recorded_by(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def payload(self) -> Payload: ...
    @property
    def state(self) -> str | None: ...
    @property
    def convention(self) -> str: ...

    def to_event(self) -> Event:
        """The validated `Event` (itself, for an `Event`)."""
        ...

    def to_record(self) -> dict[str, Any]: ...

    def replace(self, **update: Any) -> Event:
        """A validated copy with some fields changed (as `BaseModel.model_copy(update=...)`)."""
        ...


#: Payload classes whose first field is `state`: pydantic writes fields in declaration order,
#: so their stored JSON starts with ``{"state":"XYZ"``.
_STATE_TYPES = frozenset(t for t, cls in REGISTRY.items() if issubclass(cls, StatePayload))
_STATE_PREFIX = '{"state":"'
_intern = sys.intern


def state_of(type_name: str, payload_json: str) -> str | None:
    """The State a stored payload is about, read from its first field without parsing the rest.

    Text in any other shape (written by hand, say) is parsed in full, so the answer never
    depends on the shortcut.
    """
    if type_name not in _STATE_TYPES:
        return None
    if payload_json.startswith(_STATE_PREFIX) and payload_json[13:15] in ('",', '"}'):
        # Interned: a ledger holds one per event, and there are a few hundred States.
        return _intern(payload_json[10:13])
    state: str = getattr(_validated(type_name, payload_json), "state")  # noqa: B009
    return _intern(state)


def _validated(type_name: str, payload_json: str) -> Payload:
    return REGISTRY[type_name].model_validate_json(payload_json)


class StoredEvent:
    """A stored event of the current schema version, its payload validated when read.

    Built only by the store from rows it validated on the way in (`events.sql.read_facts`);
    a payload that no longer validates raises `InvalidEvent` naming the row when it is read.
    Equal to the `Event` it stands for, field by field (`to_event`).
    """

    __slots__ = (
        "key",
        "occurred_on",
        "position",
        "raw_payload",
        "recorded_at",
        "recorded_by",
        "schema_version",
        "source",
        "state",
        "stream",
        "type",
        "version",
    )

    key: int
    stream: str
    version: int | None
    position: int | None
    type: str
    schema_version: int
    occurred_on: DateRange
    recorded_at: datetime
    recorded_by: str
    source: str
    #: The payload as stored: JSON text of the current schema version.
    raw_payload: str
    state: str | None

    def __init__(
        self,
        key: int,
        stream: str,
        version: int | None,
        position: int | None,
        type_name: str,
        schema_version: int,
        occurred_on: DateRange,
        recorded_at: datetime,
        recorded_by: str,
        source: str,
        raw_payload: str,
        state: str | None,
    ) -> None:
        self.key = key
        self.stream = stream
        self.version = version
        self.position = position
        self.type = type_name
        self.schema_version = schema_version
        self.occurred_on = occurred_on
        self.recorded_at = recorded_at
        self.recorded_by = recorded_by
        self.source = source
        self.raw_payload = raw_payload
        self.state = state

    @property
    def event_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.key)

    @property
    def payload(self) -> Payload:
        try:
            return _validated(self.type, self.raw_payload)
        except ValidationError as exc:
            reason = describe_validation_error(exc, prefix="payload.")
            raise InvalidEvent(
                f"stored event {self.event_id} at position {self.position}: {reason}"
            ) from None

    @property
    def convention(self) -> str:
        return self.stream.split(":", 1)[0]

    def to_event(self) -> Event:
        """The validated Event: the payload goes through pydantic, the envelope (validated
        when it was appended) is taken as stored."""
        return trusted(
            Event,
            {
                "event_id": self.event_id,
                "stream": self.stream,
                "version": self.version,
                "position": self.position,
                "type": self.type,
                "schema_version": self.schema_version,
                "occurred_on": self.occurred_on,
                "recorded_at": self.recorded_at,
                "recorded_by": self.recorded_by,
                "source": self.source,
                "payload": self.payload,
            },
        )

    def to_record(self) -> dict[str, Any]:
        return self.to_event().to_record()

    def replace(self, **update: Any) -> Event:
        return self.to_event().replace(**update)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (StoredEvent, Event)):
            return self.to_event() == other.to_event()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StoredEvent({self.type} {self.event_id} at position {self.position})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return StoredEvent, (
            self.key,
            self.stream,
            self.version,
            self.position,
            self.type,
            self.schema_version,
            self.occurred_on,
            self.recorded_at,
            self.recorded_by,
            self.source,
            self.raw_payload,
            self.state,
        )

"""The EventStore port: what every backend (SQLite, PostgreSQL) must do, nothing about how."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from events.facts import Fact
from events.schema import Event


@dataclass(frozen=True)
class StreamAppend:
    """Events to add to one stream, given the version the writer last saw (0: new stream).

    `expected_version=None` means "append whatever the current version is" (no check).
    """

    stream: str
    events: Sequence[Event]
    expected_version: int | None


class EventStore(Protocol):
    """Append-only, totally ordered log of events.

    - append is all-or-nothing; a wrong expected_version raises ConcurrencyError and stores
      nothing; events whose event_id is already stored are skipped (idempotent re-append).
    - read_all streams in position order and never loads the whole log into memory.
    """

    def append(
        self, stream: str, events: Sequence[Event], expected_version: int | None
    ) -> list[Event]:
        """Store `events` at the end of `stream`; return them with version and position set."""
        ...

    def append_many(self, appends: Sequence[StreamAppend]) -> list[Event]:
        """Several streams in one transaction: all are stored or none is."""
        ...

    def read_stream(self, stream: str, after_version: int = 0) -> list[Event]:
        """The stream's events in version order."""
        ...

    def read_all(self, after: int = 0, limit: int | None = None) -> Iterator[Event]:
        """Every event with position > after, in position order, at most `limit`."""
        ...

    def read_facts(self, after: int = 0, limit: int | None = None) -> Iterator[Fact]:
        """As `read_all`, in the form a fold reads fastest (payloads may be validated lazily)."""
        ...

    def stream_version(self, stream: str) -> int:
        """Current version of the stream (0 when it has no events)."""
        ...

    def head_position(self) -> int:
        """Highest position a reader may safely consume (no earlier gap can still fill)."""
        ...

    def get(self, event_id: str) -> Event | None:
        """The stored event with this id, or None."""
        ...

    def contains(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids (as strings) are already stored."""
        ...

    def close(self) -> None: ...

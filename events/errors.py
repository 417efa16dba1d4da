"""Errors raised by the event layer; each message names the problem and what to do next."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base class of every error the event store raises."""


class ConcurrencyError(EventStoreError):
    """Another writer appended to the stream first; re-read the stream and retry."""

    def __init__(self, stream: str, expected: int | None, actual: int) -> None:
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream!r} is at version {actual}, not the expected {expected}: "
            "someone else wrote to it first; re-read the stream and retry"
        )


class InvalidEvent(EventStoreError, ValueError):
    """An event failed validation; the message names the field and the reason."""


class UnknownEventType(InvalidEvent):
    """The type name is not one this code knows (nor an upcastable older one)."""


class StoreUnavailable(EventStoreError):
    """The database cannot be reached; nothing was written."""

"""An in-memory EventStore for importer tests that need no database.

It keeps the Protocol's promises that the importer relies on: append_many is all-or-nothing,
already-stored event ids are skipped, versions are contiguous per stream, positions global.
`fail_on_append` lets a test check that a failing store leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from events.errors import ConcurrencyError, InvalidEvent
from events.schema import Event
from events.store import StreamAppend


class InMemoryStore:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.append_calls = 0
        self.fail_on_append: Exception | None = None

    def append(
        self, stream: str, events: Sequence[Event], expected_version: int | None
    ) -> list[Event]:
        return self.append_many([StreamAppend(stream, events, expected_version)])

    def append_many(self, appends: Sequence[StreamAppend]) -> list[Event]:
        self.append_calls += 1
        if self.fail_on_append is not None:
            raise self.fail_on_append
        stored_ids = {e.event_id for e in self.events}
        seen: set[object] = set()
        versions: dict[str, int] = {}
        staged: list[Event] = []
        for part in appends:
            current = versions.get(part.stream, self.stream_version(part.stream))
            fresh = [e for e in part.events if e.event_id not in stored_ids]
            if fresh and part.expected_version is not None and part.expected_version != current:
                raise ConcurrencyError(part.stream, part.expected_version, current)
            for event in fresh:
                if event.stream != part.stream:
                    raise InvalidEvent(f"stream: {event.stream!r} appended to {part.stream!r}")
                if event.event_id in seen:
                    raise InvalidEvent(f"event_id: {event.event_id} appears twice in one append")
                seen.add(event.event_id)
                current += 1
                staged.append(
                    event.model_copy(
                        update={
                            "version": current,
                            "position": len(self.events) + len(staged) + 1,
                        }
                    )
                )
            versions[part.stream] = current
        # Only now, when every check passed: the whole batch or nothing.
        self.events.extend(staged)
        return staged

    def read_stream(self, stream: str, after_version: int = 0) -> list[Event]:
        return [e for e in self.events if e.stream == stream and (e.version or 0) > after_version]

    def read_all(self, after: int = 0, limit: int | None = None) -> Iterator[Event]:
        selected = [e for e in self.events if (e.position or 0) > after]
        return iter(selected if limit is None else selected[:limit])

    def read_facts(self, after: int = 0, limit: int | None = None) -> Iterator[Event]:
        return self.read_all(after, limit)

    def stream_version(self, stream: str) -> int:
        return max((e.version or 0 for e in self.events if e.stream == stream), default=0)

    def head_position(self) -> int:
        return len(self.events)

    def contains(self, event_ids: Sequence[str]) -> set[str]:
        stored = {str(e.event_id) for e in self.events}
        return {i for i in event_ids if i in stored}

    def close(self) -> None:
        pass

"""Event factories and the worker process entry point used by the contract tests.

The worker lives in an importable module (not in a test file) because "spawn" processes
re-import the function they run by module name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from events.dates import DateRange
from events.errors import ConcurrencyError
from events.schema import Event, StateSigned, new_event
from events.sql import SqlEventStore

RECORDED_AT = datetime(2024, 9, 18, 9, 30, tzinfo=UTC)


def signed(
    stream: str,
    *,
    n: int = 0,
    state: str = "LBN",
    event_id: uuid.UUID | None = None,
) -> Event:
    """A small valid event on `stream`; `n` varies its valid and knowledge times."""
    return new_event(
        StateSigned(state=state),
        occurred_on=DateRange.exact(date(2009, 1, 1) + timedelta(days=n % 5000)),
        recorded_at=RECORDED_AT + timedelta(seconds=n),
        recorded_by="contract-tests",
        source="CCM/MSP/2024/7",
        stream=stream,
        event_id=event_id,
    )


def many(stream: str, count: int, *, start: int = 0) -> list[Event]:
    return [signed(stream, n=start + i) for i in range(count)]


def append_with_retry(
    url: str,
    schema: str | None,
    stream: str,
    count: int,
    barrier: Any,
    results: Any,
) -> None:
    """Append `count` events one at a time, re-reading the version after each conflict.

    Puts (acknowledged event ids, number of conflicts) on `results`, or the error text.
    """
    try:
        store = SqlEventStore(url, schema)
        acknowledged: list[str] = []
        conflicts = 0
        barrier.wait(timeout=60)  # start together, so the appends really interleave
        for n in range(count):
            event = signed(stream, n=n)
            while True:
                expected = store.stream_version(stream)
                try:
                    stored = store.append(stream, [event], expected_version=expected)
                except ConcurrencyError:
                    conflicts += 1
                    continue
                acknowledged.extend(str(e.event_id) for e in stored)
                break
        store.close()
        results.put((acknowledged, conflicts))
    except BaseException as exc:  # reported to the parent, which fails the test with it
        results.put(f"{type(exc).__name__}: {exc}")
        raise

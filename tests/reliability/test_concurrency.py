"""Concurrency: 8 writer processes × 500 appends over 20 streams, each append with the stream's
expected version and a retry on conflict, while a catch-up reader process follows the log by
position the whole time (SQLite and PostgreSQL).

Builds on tests/contract/test_concurrent_appends.py (4 writers on one stream; a reader thread)
with the load the issue names: more writers, many streams, and the reader in its own process.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import pytest

from events.sql import SqlEventStore

from .support import STATES, catch_up_reader, concurrent_writer

if TYPE_CHECKING:
    from tests.databases import TestDatabase

WRITERS = 8
APPENDS_PER_WRITER = 500
STREAMS = [f"ccm:state:{iso3}" for iso3 in STATES[:20]]
TIMEOUT = 300


@pytest.mark.slow
def test_racing_writers_lose_and_duplicate_nothing_and_a_catch_up_reader_sees_every_event_once(
    store: SqlEventStore, db_url: TestDatabase
) -> None:
    # Arrange: the reader starts first; the writers start together at a barrier.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    reader_results = context.Queue()
    stop_reading = context.Event()
    reader = context.Process(
        target=catch_up_reader, args=(db_url.url, db_url.schema, stop_reading, reader_results)
    )
    writers = [
        context.Process(
            target=concurrent_writer,
            args=(
                db_url.url,
                db_url.schema,
                writer,
                APPENDS_PER_WRITER,
                STREAMS,
                barrier,
                results,
            ),
        )
        for writer in range(WRITERS)
    ]
    started = time.perf_counter()

    # Act
    reader.start()
    for process in writers:
        process.start()
    reports: list[dict[str, Any] | str] = [results.get(timeout=TIMEOUT) for _ in writers]
    stop_reading.set()
    read: dict[str, Any] | str = reader_results.get(timeout=TIMEOUT)
    for process in [*writers, reader]:
        process.join(timeout=30)
    elapsed = time.perf_counter() - started

    # Assert: nobody failed.
    failures = [r for r in [*reports, read] if isinstance(r, str)]
    assert failures == []
    assert all(process.exitcode == 0 for process in [*writers, reader])
    writer_reports = [r for r in reports if isinstance(r, dict)]
    assert isinstance(read, dict)

    # Every acknowledged event is stored exactly once, as it was acknowledged.
    acknowledged = [entry for report in writer_reports for entry in report["acknowledged"]]
    total = WRITERS * APPENDS_PER_WRITER
    assert len(acknowledged) == total
    stored = list(store.read_all())
    assert len(stored) == total
    by_id = {str(e.event_id): (str(e.event_id), e.stream, e.version, e.position) for e in stored}
    assert len(by_id) == total
    assert sorted(acknowledged) == sorted(by_id.values())

    # Versions contiguous per stream; positions unique and increasing in read order.
    versions: dict[str, list[int]] = defaultdict(list)
    for event in stored:
        versions[event.stream].append(event.version or 0)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    positions = [e.position or 0 for e in stored]
    assert len(set(positions)) == total
    assert positions == sorted(positions)

    # The catch-up reader saw every event exactly once, in position order, while writers ran.
    seen = read["seen"]
    assert [event_id for event_id, _ in seen] == [str(e.event_id) for e in stored]
    assert Counter(event_id for event_id, _ in seen).most_common(1)[0][1] == 1
    assert read["polls_with_news"] > 1

    conflicts = sum(report["conflicts"] for report in writer_reports)
    slowest = max(report["seconds"] for report in writer_reports)
    print(
        f"\n[concurrency, {db_url.backend}] {WRITERS} writers × {APPENDS_PER_WRITER} appends over "
        f"{len(STREAMS)} streams: {total} events checked, {conflicts} conflicts retried, "
        f"slowest writer {slowest:.1f}s ({total / slowest:.0f} appends/s), reader "
        f"{read['polls']} polls ({read['polls_with_news']} with news); {elapsed:.1f}s in all"
    )

"""Concurrent writers on both backends: separate OS processes racing on one stream, and a
reader following positions while writers commit (the PostgreSQL gap-safety property)."""

from __future__ import annotations

import multiprocessing
import queue
import random
import threading
import time
from typing import TYPE_CHECKING

import sqlalchemy as sa

from events.schema import Event
from events.sql import SqlEventStore

from .support import append_with_retry, signed

if TYPE_CHECKING:
    from tests.databases import TestDatabase

PROCESSES = 4
APPENDS_PER_PROCESS = 50


def test_processes_racing_on_one_stream_lose_and_duplicate_nothing(
    store: SqlEventStore, db_url: TestDatabase
) -> None:
    stream = "ccm:state:LBN"
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no shared engine state
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=append_with_retry,
            args=(db_url.url, db_url.schema, stream, APPENDS_PER_PROCESS, barrier, results),
        )
        for _ in range(PROCESSES)
    ]

    for worker in workers:
        worker.start()
    reports = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    failures = [report for report in reports if isinstance(report, str)]
    assert failures == []
    acknowledged = [event_id for ids, _conflicts in reports for event_id in ids]
    stored = store.read_stream(stream)
    total = PROCESSES * APPENDS_PER_PROCESS
    assert [e.version for e in stored] == list(range(1, total + 1))
    assert len(acknowledged) == len(set(acknowledged)) == total
    assert {str(e.event_id) for e in stored} == set(acknowledged)
    assert all(worker.exitcode == 0 for worker in workers)


def test_a_reader_following_positions_sees_every_event_once_while_writers_race(
    store: SqlEventStore, db_url: TestDatabase
) -> None:
    if db_url.backend == "postgres":
        _delay_every_commit(db_url)
    writers_done = threading.Event()
    seen: list[Event] = []
    polls_with_news = 0
    errors: queue.Queue[BaseException] = queue.Queue()

    def write(stream: str) -> None:
        try:
            with SqlEventStore(db_url.url, db_url.schema) as own_store:
                for n in range(40):
                    own_store.append(stream, [signed(stream, n=n)], expected_version=None)
                    time.sleep(random.uniform(0, 0.003))
        except BaseException as exc:
            errors.put(exc)

    def read() -> None:
        nonlocal polls_with_news
        try:
            while True:
                finished = writers_done.is_set()  # read before polling: the last poll is complete
                last = (seen[-1].position or 0) if seen else 0
                news = list(store.read_all(after=last))
                seen.extend(news)
                polls_with_news += bool(news)
                if finished:
                    return
                time.sleep(0.001)
        except BaseException as exc:
            errors.put(exc)

    writers = [
        threading.Thread(target=write, args=(s,)) for s in ("ccm:state:AAA", "ccm:state:BBB")
    ]
    reader = threading.Thread(target=read)
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    writers_done.set()
    reader.join(timeout=60)

    assert errors.empty(), errors.get()
    everything = list(store.read_all())
    assert len(everything) == 80
    assert [e.event_id for e in seen] == [e.event_id for e in everything]
    assert polls_with_news > 1  # the reader really ran alongside the writers


def _delay_every_commit(db: TestDatabase) -> None:
    """Make each append pause just before it commits (after its positions are allocated).

    A deferred constraint trigger runs at COMMIT. Without the append lock this lets a later
    position commit first, which is exactly the window in which a reader skips an event.
    """
    engine = db.engine()
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
                    " BEGIN PERFORM pg_sleep(random() * 0.01); RETURN NULL; END $$"
                )
            )
            connection.execute(
                sa.text(
                    "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON events"
                    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"
                )
            )
    finally:
        engine.dispose()

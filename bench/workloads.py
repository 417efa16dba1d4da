"""The measured workloads, each run in its own process by bench/run.py.

Imports run in a forked child of the process that generated the history (so the history is
built once); rebuilds, queries, appends and the bot run in a fresh interpreter
(``python -m bench.workloads TASK JSON``) so that start-up, memory and caches are their own.
Every workload returns plain JSON-ready data.
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Events per append_many call (one transaction) of a bulk import, for us and for
#: eventsourcing's insert_events alike. `tracker import` appends a whole file in one call; this
#: bounds one call's memory for histories of millions of events.
IMPORT_BATCH = 100_000
FIRST_KNOWN = datetime(2008, 12, 1, tzinfo=UTC)


def peak_rss_mb() -> float:
    """Peak resident set size of this process's own address space (VmHWM, Linux).

    Not ru_maxrss: Linux carries the parent's high-water mark across fork and exec into the
    child's ru_maxrss, and the parent here holds the generated history.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    return {
        "p50": statistics.median(ordered),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1],
        "n": len(ordered),
    }


# --- databases ------------------------------------------------------------------------------


def open_store(url: str, schema: str | None) -> Any:
    from events.sql import SqlEventStore

    return SqlEventStore(url, schema)


def fresh_database(backend: str, workdir: Path, pg_url: str, tag: str) -> tuple[str, str | None]:
    """A new, migrated database: a SQLite file, or a PostgreSQL schema created for it."""
    from events.sql import upgrade

    if backend == "sqlite":
        path = workdir / f"{tag}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        upgrade(url)
        return url, None
    schema = f"bench_{tag}_{os.getpid()}_{random.randrange(1 << 30):x}".lower()
    create_schema(pg_url, schema)
    upgrade(pg_url, schema)
    return pg_url, schema


def create_schema(pg_url: str, schema: str) -> None:
    import sqlalchemy as sa

    from events.sql import make_engine

    engine = make_engine(pg_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()


def drop_database(url: str, schema: str | None) -> None:
    if schema is None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import sqlalchemy as sa

    from events.sql import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        engine.dispose()


# --- 1. bulk import ---------------------------------------------------------------------------


def batches(events: Sequence[Any], size: int = IMPORT_BATCH) -> Iterator[list[Any]]:
    from events.store import StreamAppend

    for start in range(0, len(events), size):
        by_stream: dict[str, list[Any]] = {}
        for event in events[start : start + size]:
            by_stream.setdefault(event.stream, []).append(event)
        yield [StreamAppend(stream, part, None) for stream, part in by_stream.items()]


def import_events(url: str, schema: str | None, events: Sequence[Any]) -> dict[str, Any]:
    """Append `events` in batches through SqlEventStore.append_many (the import path)."""
    store = open_store(url, schema)
    try:
        # The batches are grouped by stream outside the clock: that is the caller's work.
        work = list(batches(events))
        started = time.perf_counter()
        stored = 0
        for appends in work:
            stored += len(store.append_many(appends))
        seconds = time.perf_counter() - started
    finally:
        store.close()
    assert stored == len(events), (stored, len(events))
    return {"events": stored, "seconds": seconds, "events_per_s": stored / seconds}


# --- eventsourcing (the same workload on the eventsourcing library) ----------------------------


def es_application(path: Path) -> Any:
    from eventsourcing.application import Application

    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    )


try:  # the optional `bench` extra
    from eventsourcing.domain import DomainEvent
except ImportError:  # pragma: no cover - reported by bench/run.py
    DomainEvent = None

if DomainEvent is not None:

    class TreatyEvent(DomainEvent):  # type: ignore[misc, valid-type]
        """One of our events as an eventsourcing domain event (JSON-ready fields)."""

        event_id: str
        type: str
        occurred_from: str
        occurred_to: str
        recorded_by: str
        source: str
        payload: dict[str, Any]


def es_import(path: Path, events: Sequence[Any]) -> dict[str, Any]:
    """Batched append through the eventsourcing recorder: each event mapped (serialized) to a
    StoredEvent by the application's mapper, inserted `IMPORT_BATCH` at a time."""
    import uuid

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    app = es_application(path)
    versions: dict[str, int] = {}
    originators: dict[str, uuid.UUID] = {}
    domain: list[Any] = []
    # Building the domain events is the caller's work (like our Event objects): not timed.
    for event in events:
        stream = event.stream
        version = versions.get(stream, 0) + 1
        versions[stream] = version
        originator = originators.get(stream)
        if originator is None:
            originator = originators[stream] = uuid.uuid5(uuid.NAMESPACE_URL, stream)
        domain.append(
            TreatyEvent(
                originator_id=originator,
                originator_version=version,
                timestamp=event.recorded_at,
                event_id=str(event.event_id),
                type=event.type,
                occurred_from=event.occurred_on.not_before.isoformat(),
                occurred_to=event.occurred_on.not_after.isoformat(),
                recorded_by=event.recorded_by,
                source=event.source,
                payload=event.payload.model_dump(mode="json"),
            )
        )
    mapper = app.mapper
    recorder = app.recorder
    started = time.perf_counter()
    for start in range(0, len(domain), IMPORT_BATCH):
        stored = [mapper.to_stored_event(e) for e in domain[start : start + IMPORT_BATCH]]
        recorder.insert_events(stored)
    seconds = time.perf_counter() - started
    app.close()
    return {"events": len(domain), "seconds": seconds, "events_per_s": len(domain) / seconds}


def es_replay(path: str) -> dict[str, Any]:
    """Every event read back through the notification log and mapped to its domain event,
    folded into a per-originator count (the least a projection does)."""
    app = es_application(Path(path))
    mapper = app.mapper
    recorder = app.recorder
    counts: dict[Any, int] = {}
    gc.disable()
    started = time.perf_counter()
    start = 1
    total = 0
    while True:
        page = recorder.select_notifications(start=start, limit=5_000)
        if not page:
            break
        for notification in page:
            event = mapper.to_domain_event(notification)
            counts[event.originator_id] = counts.get(event.originator_id, 0) + 1
        total += len(page)
        start = page[-1].id + 1
    seconds = time.perf_counter() - started
    gc.enable()
    app.close()
    return {
        "events": total,
        "seconds": seconds,
        "events_per_s": total / seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


# --- 3. rebuild from zero -------------------------------------------------------------------


def profile_for(key: str) -> Any:
    """The CCM's numbers under another convention's key (the generated conventions share
    the CCM's rules; only the names differ)."""
    from projections.profile import CCM

    return CCM if key == CCM.key else replace(CCM, key=key, name=f"Convention {key}")


def rebuild(url: str, schema: str | None) -> dict[str, Any]:
    """Every projection from zero: each convention's ledger folded from every stored event."""
    from projections.ledger import Ledger

    store = open_store(url, schema)
    ledgers: dict[str, Ledger] = {}
    # Stream names come interned from the store: one lookup routes an event to its ledger.
    by_stream: dict[str, Ledger] = {}
    gc.disable()  # as the service does during a fold (see TrackerService.refresh)
    started = time.perf_counter()
    total = 0
    for event in store.read_facts():
        ledger = by_stream.get(event.stream)
        if ledger is None:
            key = event.stream.partition(":")[0]
            ledger = ledgers.get(key)
            if ledger is None:
                ledger = ledgers[key] = Ledger(None, profile_for(key))
            by_stream[event.stream] = ledger
        ledger.apply(event)
        total += 1
    seconds = time.perf_counter() - started
    gc.enable()
    store.close()
    return {
        "events": total,
        "seconds": seconds,
        "events_per_s": total / seconds,
        "conventions": len(ledgers),
        "peak_rss_mb": peak_rss_mb(),
    }


# --- checkpoint, 4. as-of queries, 2. appends -------------------------------------------------


def end_of_history() -> datetime:
    from bench.generate import END_OF_HISTORY

    return END_OF_HISTORY


def service(url: str, schema: str | None) -> tuple[Any, Any, Any]:
    from tracker.clock import FixedClock
    from tracker.service import TrackerService
    from tracker.stores.checkpoints import SqlCheckpointStore

    store = open_store(url, schema)
    checkpoints = SqlCheckpointStore(url, schema)
    clock = FixedClock(end_of_history() + timedelta(days=1))
    return TrackerService(store, clock, checkpoints=checkpoints), store, checkpoints


def checkpoint(url: str, schema: str | None) -> dict[str, Any]:
    """Fold the service's ledger from zero and save its checkpoint."""
    svc, store, checkpoints = service(url, schema)
    started = time.perf_counter()
    folded = svc.refresh()
    fold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    svc.save_checkpoint()
    save_seconds = time.perf_counter() - started
    result = {
        "events_read": folded,
        "fold_seconds": fold_seconds,
        "save_seconds": save_seconds,
        "positions": checkpoints.positions(svc.projection),
        "peak_rss_mb": peak_rss_mb(),
    }
    checkpoints.close()
    store.close()
    return result


def random_pairs(count: int, seed: int) -> list[tuple[date, datetime]]:
    rng = random.Random(seed)
    first, last = FIRST_KNOWN.timestamp(), end_of_history().timestamp()
    days = (date(2038, 6, 30) - date(2008, 1, 1)).days
    return [
        (
            date(2008, 1, 1) + timedelta(days=rng.randint(0, days)),
            datetime.fromtimestamp(rng.uniform(first, last), UTC),
        )
        for _ in range(count)
    ]


def queries(url: str, schema: str | None, pairs: int, started_at: float) -> dict[str, Any]:
    """Cold start to the first answer, then `pairs` random (as_of, known_at) questions of
    each kind; `started_at` is the parent's time.time() just before it started this process."""
    svc, store, checkpoints = service(url, schema)
    svc.count("parties")  # the first answer: now, as known now
    first_answer = time.time() - started_at
    states = sorted(svc.known().ledger.states)
    rng = random.Random(7)
    kinds = {
        "count": lambda d, k: svc.count("parties", d, k),
        "overdue": lambda d, k: svc.overdue_initial(d, k),
        "state": lambda d, k: svc.state(rng.choice(states), d, k),
    }
    cold: dict[str, float] = {}
    for name, ask in kinds.items():
        d, k = random_pairs(1, 99 + len(cold))[0]
        t = time.perf_counter()
        ask(d, k)
        cold[name] = (time.perf_counter() - t) * 1000
    warm: dict[str, Any] = {}
    for name, ask in kinds.items() if pairs else ():
        samples = []
        for d, k in random_pairs(pairs, 2026):
            t = time.perf_counter()
            ask(d, k)
            samples.append((time.perf_counter() - t) * 1000)
        warm[name] = percentiles(samples)
    result = {
        "cold_start_s": first_answer,
        "first_query_ms": cold,
        "warm_ms": warm,
        "peak_rss_mb": peak_rss_mb(),
    }
    checkpoints.close()
    store.close()
    return result


def appends(url: str, schema: str | None, count: int) -> dict[str, Any]:
    """`count` single events through Recorder.record, as a bot /record does (rules checked
    against the ledger, expected-version append, ledger refreshed)."""
    from events.schema import StateFactReported
    from projections.membership import memberships
    from tracker.config import Role
    from tracker.recording import Actor, Recorder

    svc, store, checkpoints = service(url, schema)
    svc.refresh()
    today = svc.today()
    parties = [m.iso3 for m in memberships(svc.known().ledger) if m.is_party(today)]
    recorder = Recorder(svc)
    actor = Actor("bench", Role.RECORDER)
    rng = random.Random(11)
    samples = []
    for i in range(count):
        payload = StateFactReported(
            state=rng.choice(parties), fact="provided_assistance", detail=f"bench {i}"
        )
        t = time.perf_counter()
        recorder.record(actor, payload, today - timedelta(days=1), "bench")
        samples.append((time.perf_counter() - t) * 1000)
    checkpoints.close()
    store.close()
    return {"latency_ms": percentiles(samples)}


# --- 5. bot round trip ----------------------------------------------------------------------


def bot_round_trip(url: str, schema: str | None, count: int) -> dict[str, Any]:
    """Commands through the real PTB Application and the tests' fake Bot API server."""
    import asyncio
    import threading

    from pydantic import SecretStr

    from bot.app import build_application, run
    from tests.e2e.fake_bot_api import FakeBotApi
    from tracker.bootstrap import Tracker
    from tracker.config import Role, Settings

    user = 111
    svc, store, checkpoints = service(url, schema)
    svc.refresh()
    states = sorted(svc.known().ledger.states)
    rng = random.Random(5)
    samples: dict[str, list[float]] = {"count": [], "state": []}
    with FakeBotApi() as api:
        settings = Settings(
            database_url=url,
            database_schema=schema,
            telegram_token=SecretStr(api.token),
            telegram_base_url=api.url,
            users={user: Role.ADMIN},
            log_level="WARNING",
            webhook_url=None,
        )
        tracker = Tracker(settings=settings, store=store, service=svc, clock=svc.clock)
        application = build_application(tracker, settings, backoff=0.05)
        loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            run(application, settings, stop_signals=None)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        api.wait_for("getUpdates")

        def ask(text: str) -> float:
            before = len(api.calls_to("sendMessage"))
            t = time.perf_counter()
            api.push_message(text, user_id=user, username="bench", chat_id=None)
            api.wait_for("sendMessage", before + 1, timeout=30)
            return (time.perf_counter() - t) * 1000

        ask("/count parties")  # warm-up: connections, first fold
        for i in range(count):
            day = date(2010, 1, 1) + timedelta(days=rng.randint(0, 10_000))
            samples["count"].append(ask(f"/count parties as of {day.isoformat()}"))
            if i % 2 == 0:
                samples["state"].append(ask(f"/state {rng.choice(states)} {day.isoformat()}"))
        loop.call_soon_threadsafe(application.stop_running)
        thread.join(15)
    checkpoints.close()
    store.close()
    return {name: percentiles(values) for name, values in samples.items()}


TASKS = {
    "rebuild": lambda a: rebuild(a["url"], a["schema"]),
    "es_replay": lambda a: es_replay(a["path"]),
    "checkpoint": lambda a: checkpoint(a["url"], a["schema"]),
    "queries": lambda a: queries(a["url"], a["schema"], a["pairs"], a["started_at"]),
    "appends": lambda a: appends(a["url"], a["schema"], a["count"]),
    "bot": lambda a: bot_round_trip(a["url"], a["schema"], a["count"]),
}


def main() -> None:
    task, raw = sys.argv[1], sys.argv[2]
    result = TASKS[task](json.loads(raw))
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

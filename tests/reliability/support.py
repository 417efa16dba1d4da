"""Helpers for the fault tests: large import files, store dumps, and child-process entry points.

Child processes run functions from this importable module ("spawn" re-imports them by name).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import sys
import time
import traceback
import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from events.errors import ConcurrencyError, StoreUnavailable
from events.schema import Event, StateFactReported, new_event
from events.sql import SqlEventStore
from tracker.importer import ImportPlan

#: States the generated files write about (all real ISO3 codes the alias table knows).
STATES = (
    "AFG ALB AUT BEL BIH BGR CAN CHL COL HRV CZE DNK ECU FRA DEU GHA GRC GTM IRQ IRL ITA JPN LAO "
    "LBN LTU MEX MOZ NLD NZL NOR PER PHL PRT SEN SVK ESP SWE CHE TGO GBR ZMB"
).split()
FACTS = (
    "has_cluster_munition_victims",
    "provided_assistance",
    "received_assistance",
    "disseminated_obligations",
    "national_measures_adopted",
    "contribution_paid",
)
RECORDED_AT = datetime(2024, 9, 18, 9, 30, tzinfo=UTC)
#: Tables of derived data that any read may (re)write: projection snapshots, not facts.
CACHE_TABLES = frozenset({"projection_checkpoints"})


# --- large import files -------------------------------------------------------------------------


def _record(tag: str, n: int, rng: random.Random) -> dict[str, Any]:
    """One JSONL envelope of a real event type; `tag` keeps ids apart between files."""
    state = STATES[n % len(STATES)]
    day = date(2011, 1, 1) + timedelta(days=rng.randrange(0, 4900))
    kind = n % 10
    payload: dict[str, Any]
    if kind < 6:
        event_type = "state.fact_reported"
        payload = {
            "state": state,
            "fact": FACTS[n % len(FACTS)],
            "period_start": f"{day.year}-01-01",
            "period_end": f"{day.year}-12-31",
            "detail": f"generated fact {tag}-{n}",
        }
    elif kind < 9:
        event_type = "report.annual.submitted"
        payload = {
            "state": state,
            "year_covered": 2010 + n % 90,
            "form_version": rng.choice(["original", "revised", None]),
            "forms": ["A", "B", "J"][: 1 + n % 3],
        }
    else:
        event_type = "aggregate.published"
        payload = {"figure": f"generated.{tag}.{n}", "value": n, "text": f"figure {n}"}
    return {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"reliability:{tag}:{n}")),
        "type": event_type,
        "schema_version": 2 if event_type == "report.annual.submitted" else 1,
        "occurred_on": day.isoformat(),
        "recorded_at": (RECORDED_AT + timedelta(seconds=n)).isoformat(),
        "recorded_by": "reliability-tests",
        "source": f"generated file {tag}",
        "payload": payload,
    }


def write_large_jsonl(path: Path, count: int, tag: str) -> list[str]:
    """Write `count` events of real types as JSON Lines; returns their event ids."""
    rng = random.Random(f"{tag}:{count}")
    ids: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            record = _record(tag, n, rng)
            ids.append(record["event_id"])
            out.write(json.dumps(record) + "\n")
    return ids


# --- looking at a store without the store -------------------------------------------------------


def count_ids(engine: sa.Engine, ids: list[str]) -> int:
    """How many rows hold one of these event ids (duplicates counted, if any existed)."""
    total = 0
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            total += connection.scalar(
                sa.text("SELECT count(*) FROM events WHERE event_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            )
    return total


def dump_digest(engine: sa.Engine, only: Collection[str] | None = None) -> tuple[int, int, str]:
    """(event count, max position, sha256 of every row of every table): the store's content.

    Rows are read in a fixed order (events by position, other tables by all their columns),
    and on PostgreSQL the position sequence is included, so equal digests before and after a
    refused input mean nothing was written, nor even attempted. `only` limits the tables;
    derived caches (CACHE_TABLES: rebuilt from the events, written by reads) are left out.
    """
    digest = hashlib.sha256()
    with engine.connect() as connection:
        tables = sorted(sa.inspect(connection).get_table_names())
        for table in tables:
            if table in CACHE_TABLES or (only is not None and table not in only):
                continue
            columns = [c["name"] for c in sa.inspect(connection).get_columns(table)]
            order = "position" if table == "events" else ", ".join(f'"{c}"' for c in columns)
            digest.update(f"table {table}\n".encode())
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY {order}')):
                digest.update(repr(tuple(row)).encode() + b"\n")
        if connection.dialect.name == "postgresql":
            serial = "SELECT pg_get_serial_sequence('events', 'position')"
            sequence = connection.scalar(sa.text(serial))
            state = connection.execute(sa.text(f"SELECT last_value, is_called FROM {sequence}"))
            digest.update(repr(tuple(state.one())).encode())
        count = int(connection.scalar(sa.text("SELECT count(*) FROM events")))
        head = int(connection.scalar(sa.text("SELECT coalesce(max(position), 0) FROM events")))
    return count, head, digest.hexdigest()


def streams_are_contiguous(engine: sa.Engine) -> bool:
    """Every stream's versions run 1..n with no gap or repeat."""
    query = sa.text(
        "SELECT stream, count(*), count(DISTINCT version), min(version), max(version)"
        " FROM events GROUP BY stream"
    )
    with engine.connect() as connection:
        return all(
            count == distinct == high and low == 1
            for _stream, count, distinct, low, high in connection.execute(query)
        )


# --- importers to kill ----------------------------------------------------------------------------


def rekeyed_id(tag: str, event_id: str) -> str:
    """The id an event of the large file has in trial `tag` (each trial imports new events)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"trial:{tag}:{event_id}"))


def rekeyed_plan(plan: ImportPlan, tag: str) -> ImportPlan:
    """The same checked file with every event id replaced by its id in trial `tag`."""
    events = tuple(
        event.model_copy(update={"event_id": uuid.UUID(rekeyed_id(tag, str(event.event_id)))})
        for event in plan.events
    )
    return dataclasses.replace(plan, events=events)


def import_zygote(url: str, schema: str | None, path: str, conn: Any) -> None:
    """Check `path` once, then fork one importer per request, for the parent to kill.

    Forking from a process that has already loaded the modules and checked the file puts a
    child into the write phase of an import within milliseconds, so that each kill lands in
    the part of an import that writes (connect, duplicate check, lock, inserts, commit).
    Protocol on `conn`: ← ("ready", events); → ("fork", tag, url) ← ("forked", pid);
    → ("reap",) ← ("reaped", exit status); → ("stop",).
    """
    from tracker.clock import FixedClock
    from tracker.importer import apply_plan, plan_import

    plan = plan_import(path, clock=FixedClock(RECORDED_AT))
    conn.send(("ready", len(plan.events)))
    pid = 0
    while True:
        request = conn.recv()
        if request[0] == "fork":
            _tag, trial_url = request[1], request[2]
            trial_plan = rekeyed_plan(plan, request[1])
            pid = os.fork()
            if pid == 0:  # the importer: no store was opened before the fork
                code = 0
                try:
                    with SqlEventStore(trial_url, schema) as store:
                        apply_plan(store, trial_plan)
                except BaseException:  # an importer failing on its own: the parent says so
                    traceback.print_exc()
                    code = 3
                finally:
                    sys.stderr.flush()
                    os._exit(code)
            conn.send(("forked", pid))
        elif request[0] == "reap":
            _pid, status = os.waitpid(pid, 0)
            conn.send(("reaped", status))
        else:
            conn.close()
            return


# --- child: a concurrent writer and a catch-up reader ------------------------------------------


def _small_event(stream: str, writer: int, n: int) -> Event:
    state = stream.rsplit(":", 1)[1]
    return new_event(
        StateFactReported(state=state, fact="provided_assistance", detail=f"w{writer} n{n}"),
        occurred_on=date(2020, 1, 1) + timedelta(days=n % 1000),
        recorded_at=RECORDED_AT + timedelta(seconds=n),
        recorded_by=f"writer-{writer}",
        source="concurrency test",
        stream=stream,
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"concurrency:{writer}:{n}"),
    )


def concurrent_writer(
    url: str,
    schema: str | None,
    writer: int,
    appends: int,
    streams: list[str],
    barrier: Any,
    results: Any,
) -> None:
    """Append `appends` events, each to a random stream with its expected version, retrying.

    Puts {"writer", "acknowledged": [(event_id, stream, version, position)], "conflicts",
    "seconds"} on `results`, or an error text.
    """
    try:
        rng = random.Random(writer)
        store = SqlEventStore(url, schema)
        acknowledged: list[tuple[str, str, int, int]] = []
        conflicts = 0
        barrier.wait(timeout=120)
        started = time.perf_counter()
        for n in range(appends):
            stream = rng.choice(streams)
            event = _small_event(stream, writer, n)
            while True:
                expected = store.stream_version(stream)
                try:
                    stored = store.append(stream, [event], expected_version=expected)
                except ConcurrencyError:
                    conflicts += 1
                    continue
                except StoreUnavailable:  # SQLite busy beyond its timeout: retry the same id
                    conflicts += 1
                    time.sleep(0.01)
                    continue
                acknowledged.extend(
                    (str(e.event_id), e.stream, e.version or 0, e.position or 0) for e in stored
                )
                break
        seconds = time.perf_counter() - started
        store.close()
        results.put(
            {
                "writer": writer,
                "acknowledged": acknowledged,
                "conflicts": conflicts,
                "seconds": seconds,
            }
        )
    except BaseException as exc:  # reported to the parent, which fails the test with it
        results.put(f"writer {writer}: {type(exc).__name__}: {exc}")
        raise


def catch_up_reader(url: str, schema: str | None, stop: Any, results: Any) -> None:
    """Follow the log by position (read_all(after)) until `stop` is set, then one last poll.

    Puts {"seen": [(event_id, position)], "polls", "polls_with_news"} on `results`.
    """
    try:
        store = SqlEventStore(url, schema, page_size=500)
        seen: list[tuple[str, int]] = []
        polls = polls_with_news = 0
        while True:
            finished = stop.is_set()  # read before polling: the last poll sees everything
            after = seen[-1][1] if seen else 0
            news = [(str(e.event_id), e.position or 0) for e in store.read_all(after=after)]
            seen.extend(news)
            polls += 1
            polls_with_news += bool(news)
            if finished:
                break
            time.sleep(0.005)
        store.close()
        results.put({"seen": seen, "polls": polls, "polls_with_news": polls_with_news})
    except BaseException as exc:
        results.put(f"reader: {type(exc).__name__}: {exc}")
        raise

"""Crash safety: an import killed with SIGKILL at random points stores the whole file or none of
it, and importing the file again completes it exactly once (SQLite and PostgreSQL).

Two kinds of victim:

- forked importers: a process that has loaded the code and checked the large file forks one
  importer per trial, so that each seeded, random kill lands in the part of an import that
  writes (connect, duplicate check, lock, batched inserts, commit) or just after it;
- the real `tracker import` console script, killed while it checks the file and while it writes.

A file that a killed import left out is imported again by the next trial (which may be killed
in turn) until an attempt completes it; each completed file is then re-imported, which must add
nothing, and the store must hold every event of every completed file exactly once.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from events.sql import SqlEventStore
from tracker.clock import FixedClock
from tracker.importer import ImportPlan, apply_plan, plan_import, run_import

from .support import (
    RECORDED_AT,
    count_ids,
    import_zygote,
    rekeyed_id,
    rekeyed_plan,
    streams_are_contiguous,
    write_large_jsonl,
)

if TYPE_CHECKING:
    from tests.databases import TestDatabase

#: Events in the large file (2 MB): writing them takes about half a second on either backend,
#: long enough for most kills to land inside the write.
LARGE_FILE_EVENTS = 5_000
FORK_TRIALS = 20
CLI_TRIALS = 3
#: Kills are drawn uniformly from [0, KILL_SPAN × the time an unhindered import takes].
KILL_SPAN = 1.3
SEED = 20240918
KILLED_BEFORE_COMMIT = "killed, nothing stored"


@pytest.mark.slow
def test_an_import_killed_at_random_points_stores_all_or_nothing_and_a_reimport_completes_it(
    store: SqlEventStore, db_url: TestDatabase, tmp_path: Path
) -> None:
    # Arrange: the large file, checked once here (for the final re-imports) and in the zygote.
    started = time.perf_counter()
    rng = random.Random(f"{SEED}:{db_url.backend}")
    path = tmp_path / "large.jsonl"
    base_ids = write_large_jsonl(path, LARGE_FILE_EVENTS, tag="crash")
    plan = plan_import(path, clock=FixedClock(RECORDED_AT))
    assert plan.ok and len(plan.events) == LARGE_FILE_EVENTS
    engine = db_url.engine()
    context = multiprocessing.get_context("spawn")
    parent_end, zygote_end = context.Pipe()
    zygote = context.Process(
        target=import_zygote, args=(db_url.url, db_url.schema, str(path), zygote_end)
    )
    zygote.start()
    outcomes: Counter[str] = Counter()
    kill_delays: list[float] = []
    files_completed = 0
    try:
        assert parent_end.poll(120), "the importer zygote did not start"
        assert parent_end.recv() == ("ready", LARGE_FILE_EVENTS)

        # Calibrate: how long an unhindered forked import takes on this machine and backend.
        calibration = _fork_trial(parent_end, db_url, "calibration", kill_after=None)
        assert calibration.exited_normally
        assert count_ids(engine, _ids("calibration", base_ids)) == LARGE_FILE_EVENTS
        write_seconds = calibration.seconds

        # Act and assert, trial by trial. A file that a killed import left out is imported
        # again by the next trial (which may be killed too) until one attempt completes it.
        file_number = 0
        for _trial in range(FORK_TRIALS):
            tag = f"fork-{file_number}"
            delay = rng.uniform(0, KILL_SPAN * write_seconds)
            kill_delays.append(delay)
            before = _event_count(engine)
            result = _fork_trial(parent_end, db_url, tag, kill_after=delay)
            outcome = _check_all_or_nothing(engine, _ids(tag, base_ids), before, result)
            outcomes[outcome] += 1
            if outcome != KILLED_BEFORE_COMMIT:
                _reimport_adds_nothing(store, rekeyed_plan(plan, tag))
                file_number += 1
        files_completed += file_number
        last = f"fork-{file_number}"
        if count_ids(engine, _ids(last, base_ids)) == 0:
            _reimport_completes_it(store, engine, rekeyed_plan(plan, last), _ids(last, base_ids))
            files_completed += 1

        # The console script: killed while it checks a file, then twice while it writes;
        # a file it completed is followed by a new one, as above.
        cli_number = 0
        cli_path, cli_ids = _cli_file(tmp_path, cli_number)
        for trial in range(CLI_TRIALS):
            marker = "(50%)" if trial == 0 else "(100%)"
            delay = rng.uniform(0, 0.2 if trial == 0 else KILL_SPAN * write_seconds)
            before = _event_count(engine)
            result = _cli_trial(db_url, cli_path, f"cli-{trial}", marker, delay)
            outcome = _check_all_or_nothing(engine, cli_ids, before, result)
            outcomes["cli: " + outcome] += 1
            if outcome != KILLED_BEFORE_COMMIT:
                files_completed += 1
                cli_number += 1
                cli_path, cli_ids = _cli_file(tmp_path, cli_number)
        present = count_ids(engine, cli_ids)
        if present == 0:
            report = run_import(store, cli_path, clock=FixedClock(RECORDED_AT), check_rules=False)
            assert (report.refused, report.added) == ((), LARGE_FILE_EVENTS)
            assert count_ids(engine, cli_ids) == LARGE_FILE_EVENTS
            files_completed += 1
    finally:
        if zygote.is_alive():
            parent_end.send(("stop",))
        zygote.join(timeout=30)
        engine.dispose()

    # Assert: the store as a whole: every event exactly once, every stream contiguous.
    engine = db_url.engine()
    try:
        with engine.connect() as connection:
            rows, distinct = connection.execute(
                sa.text("SELECT count(*), count(DISTINCT event_id) FROM events")
            ).one()
        assert rows == distinct == (1 + files_completed) * LARGE_FILE_EVENTS
        assert streams_are_contiguous(engine)
    finally:
        engine.dispose()

    print(
        f"\n[crash safety, {db_url.backend}] {FORK_TRIALS} forked + {CLI_TRIALS} CLI imports of "
        f"{LARGE_FILE_EVENTS} events killed; unhindered import {write_seconds:.2f}s; kills at "
        f"{min(kill_delays):.2f}..{max(kill_delays):.2f}s; outcomes "
        f"{dict(sorted(outcomes.items()))}; {files_completed} files completed exactly once; "
        f"{rows} events checked; {time.perf_counter() - started:.1f}s in all"
    )


# --- helpers ------------------------------------------------------------------------------------


class _Trial:
    """How one victim ended: killed by our signal, or done before it came."""

    def __init__(self, status: int, seconds: float) -> None:
        self.killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        self.exited_normally = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        self.seconds = seconds


def _ids(tag: str, base_ids: list[str]) -> list[str]:
    return [rekeyed_id(tag, event_id) for event_id in base_ids]


def _trial_url(db: TestDatabase, tag: str) -> str:
    """The database URL with the trial's name on its PostgreSQL connections."""
    if db.backend != "postgres":
        return db.url
    url = sa.make_url(db.url).update_query_dict({"application_name": f"crash-{tag}"})
    return url.render_as_string(hide_password=False)


def _fork_trial(conn: Connection, db: TestDatabase, tag: str, kill_after: float | None) -> _Trial:
    """Have the zygote fork an importer for trial `tag`; kill it `kill_after` s later."""
    conn.send(("fork", tag, _trial_url(db, tag)))
    kind, pid = conn.recv()
    assert kind == "forked"
    started = time.perf_counter()
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(pid, signal.SIGKILL)  # a child that already exited is a zombie: still harmless
    conn.send(("reap",))
    kind, status = conn.recv()
    assert kind == "reaped"
    trial = _Trial(status, time.perf_counter() - started)
    _wait_for_server_to_drop(db, tag)
    return trial


def _cli_trial(db: TestDatabase, path: Path, tag: str, marker: str, delay: float) -> _Trial:
    """Run `tracker import PATH`; once its progress line `marker` appears, wait, then kill it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=_trial_url(db, tag), TRACKER_LOG_LEVEL="WARNING")
    if db.schema:
        env["TRACKER_DATABASE_SCHEMA"] = db.schema
    tracker = shutil.which("tracker", path=str(Path(sys.executable).parent))
    command = [tracker] if tracker else [sys.executable, "-m", "tracker.cli"]
    child = subprocess.Popen(
        [*command, "import", str(path), "--recorded-by", "crash-test", "--no-rules"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    assert child.stderr is not None
    for line in child.stderr:
        if marker in line:
            break
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    status = child.returncode
    # Popen reports a signal as a negative return code; rebuild a wait status from it.
    trial = _Trial(-status if status < 0 else status << 8, time.perf_counter() - started)
    _wait_for_server_to_drop(db, tag)
    return trial


def _wait_for_server_to_drop(db: TestDatabase, tag: str) -> None:
    """PostgreSQL ends a killed client's session (and rolls it back) on its own schedule."""
    if db.backend != "postgres":
        return  # SQLite: the process is gone, so are its locks; uncommitted WAL frames are ignored
    engine = db.engine()
    try:
        deadline = time.monotonic() + 30
        query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
        while True:
            with engine.connect() as connection:
                if not connection.scalar(query, {"name": f"crash-{tag}"}):
                    return
            assert time.monotonic() < deadline, f"PostgreSQL kept the session of {tag} open"
            time.sleep(0.02)
    finally:
        engine.dispose()


def _cli_file(folder: Path, number: int) -> tuple[Path, list[str]]:
    path = folder / f"cli-{number}.jsonl"
    return path, write_large_jsonl(path, LARGE_FILE_EVENTS, tag=f"cli-{number}")


def _event_count(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(sa.text("SELECT count(*) FROM events")))


def _check_all_or_nothing(engine: sa.Engine, ids: list[str], before: int, trial: _Trial) -> str:
    present = count_ids(engine, ids)
    assert present in (0, len(ids)), f"a killed import left {present} of {len(ids)} events"
    assert _event_count(engine) - before == present  # and nothing else was written
    if not trial.killed:
        assert trial.exited_normally, "the importer failed on its own (its traceback is above)"
        assert present == len(ids)
        return "finished before the kill"
    return KILLED_BEFORE_COMMIT if present == 0 else "killed after commit, all stored"


def _reimport_adds_nothing(store: SqlEventStore, plan: ImportPlan) -> None:
    report = apply_plan(store, plan)
    assert (report.added, report.already_present) == (0, len(plan.events))


def _reimport_completes_it(
    store: SqlEventStore, engine: sa.Engine, plan: ImportPlan, ids: list[str]
) -> None:
    present = count_ids(engine, ids)
    report = apply_plan(store, plan)
    assert (report.added, report.already_present) == (len(ids) - present, present)
    assert count_ids(engine, ids) == len(ids)

"""Performance at scale: one table of figures for SQLite (file, WAL) and PostgreSQL, with the
same workload on the `eventsourcing` library beside ours.

    python bench/run.py --events 1000000          # the table
    python bench/run.py --events 1000000 --json   # the table, then the figures as JSON

Groups (each figure the median of --runs, --big-runs or --rebuild-runs runs, or a
percentile of the samples):

1. bulk import throughput (events/s) of 100k events and of --events events, through
   `SqlEventStore.append_many` in calls of 100,000 events, one transaction each (a fresh
   database per run; on PostgreSQL a schema created and dropped per run);
2. single-event append latency through `Recorder.record`, as a bot /record does;
3. full rebuild of every projection from zero (one ledger per convention from every stored
   event, read with `read_facts`), events/s and the peak memory of that process (VmHWM of a
   fresh child);
4. as-of query latency at random (as_of, known_at) pairs on the big store, for a count, an
   overdue list and a State profile: the first query of each kind in a fresh process (cold)
   and the following ones (warm, p50/p95/p99); and cold start to the first answer, measured
   from spawning a fresh interpreter (imports, checkpoint load, catch-up fold, the answer);
5. bot round trip through the real python-telegram-bot Application and the fake Bot API
   server of the tests (tests/e2e/fake_bot_api.py), p50/p95;
6. groups 1 and 3 on eventsourcing (SQLite, its batched `insert_events` and its notification
   log), printed as ratios ours/theirs.

Needs the `bench` extra (eventsourcing), the repository's tests/e2e/fake_bot_api.py, and a
PostgreSQL server (--pg-url, default the tests' one; --skip-postgres to leave it out).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import workloads  # noqa: E402
from bench.generate import generate  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SMALL = 100_000
_FORK = multiprocessing.get_context("fork")

#: Histories of the parent process, inherited by forked import children.
_HISTORIES: dict[int, list[Any]] = {}


# --- running workloads --------------------------------------------------------------------


def _forked(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `target(*args)` in a forked child (which sees the parent's generated history)."""
    queue = _FORK.Queue()

    def child() -> None:
        try:
            queue.put(("ok", target(*args)))
        except BaseException as exc:
            queue.put(("error", f"{type(exc).__name__}: {exc}"))

    process = _FORK.Process(target=child)
    process.start()
    status, value = queue.get()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{target.__name__} failed: {value}")
    return value  # type: ignore[no-any-return]


def _spawned(task: str, **args: Any) -> dict[str, Any]:
    """Run a workload in a fresh interpreter and return its JSON result."""
    code = "from bench.workloads import main; main()"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code, task, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]
    raise RuntimeError(f"{task} failed:\n{done.stderr[-3000:]}")


def _import_run(
    backend: str, size: int, workdir: Path, pg_url: str, keep: bool, tag: str
) -> dict[str, Any]:
    url, schema = workloads.fresh_database(backend, workdir, pg_url, tag)
    try:
        result = workloads.import_events(url, schema, _HISTORIES[size])
    except BaseException:
        workloads.drop_database(url, schema)
        raise
    if keep:
        result["url"], result["schema"] = url, schema
    else:
        workloads.drop_database(url, schema)
    return result


def _es_import_run(size: int, path: Path) -> dict[str, Any]:
    return workloads.es_import(path, _HISTORIES[size])


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


# --- the figures --------------------------------------------------------------------------


def machine(pg_url: str | None) -> dict[str, Any]:
    import sqlite3

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        info["eventsourcing"] = metadata.version("eventsourcing")
    except metadata.PackageNotFoundError:
        info["eventsourcing"] = None
    if pg_url:
        import sqlalchemy as sa

        from events.sql import make_engine

        engine = make_engine(pg_url)
        try:
            with engine.connect() as connection:
                info["postgresql"] = connection.scalar(sa.text("SHOW server_version"))
        finally:
            engine.dispose()
    return info


def measure(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    big = args.events
    backends = ["sqlite"] + ([] if args.skip_postgres else ["postgres"])
    pg_url = None if args.skip_postgres else args.pg_url
    out: dict[str, Any] = {"machine": machine(pg_url), "events": big, "runs": args.runs}
    workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-", dir=args.workdir))
    sizes = sorted({min(SMALL, big), big})
    log = _logger(args)

    t = time.perf_counter()
    gc.disable()
    for size in sizes:
        _HISTORIES[size] = generate(size, args.seed)
    gc.freeze()  # the histories live until the end: no collection needs to walk them
    gc.enable()
    out["generate_seconds"] = time.perf_counter() - t
    log(f"generated {', '.join(map(str, sizes))} events in {out['generate_seconds']:.0f} s")

    kept: dict[str, tuple[str, str | None]] = {}
    imports: dict[str, dict[str, Any]] = {}
    try:
        # 1. bulk import
        for backend in backends:
            imports[backend] = {}
            for size in sizes:
                runs_wanted = args.runs if size <= SMALL else args.big_runs
                runs = []
                for i in range(runs_wanted):
                    last = size == big and i == runs_wanted - 1
                    tag = f"{backend[:2]}{size}r{i}"
                    runs.append(
                        _forked(_import_run, backend, size, workdir, args.pg_url, last, tag)
                    )
                    log(f"import {backend} {size}: {runs[-1]['events_per_s']:.0f} events/s")
                if size == big:
                    kept[backend] = (runs[-1]["url"], runs[-1]["schema"])
                imports[backend][str(size)] = {
                    "events_per_s": _median(runs, "events_per_s"),
                    "runs": [r["events_per_s"] for r in runs],
                }
        out["import"] = imports

        # 6a. eventsourcing import
        es_path = workdir / "eventsourcing.db"
        if not args.skip_eventsourcing:
            es: dict[str, Any] = {}
            for size in sizes:
                runs_wanted = args.runs if size <= SMALL else args.big_runs
                runs = [_forked(_es_import_run, size, es_path) for _ in range(runs_wanted)]
                es[str(size)] = {
                    "events_per_s": _median(runs, "events_per_s"),
                    "runs": [r["events_per_s"] for r in runs],
                }
                log(f"eventsourcing import {size}: {es[str(size)]['events_per_s']:.0f} events/s")
            out["eventsourcing_import"] = es
        _HISTORIES.clear()
        gc.unfreeze()
        gc.collect()

        # 3. rebuild from zero (and 6b. eventsourcing replay)
        out["rebuild"] = {}
        for backend in backends:
            url, schema = kept[backend]
            runs = [_spawned("rebuild", url=url, schema=schema) for _ in range(args.rebuild_runs)]
            out["rebuild"][backend] = {
                "events": runs[0]["events"],
                "events_per_s": _median(runs, "events_per_s"),
                "peak_rss_mb": _median(runs, "peak_rss_mb"),
                "conventions": runs[0]["conventions"],
                "runs": len(runs),
            }
            log(f"rebuild {backend}: {out['rebuild'][backend]}")
        if not args.skip_eventsourcing:
            runs = [_spawned("es_replay", path=str(es_path)) for _ in range(args.rebuild_runs)]
            out["eventsourcing_replay"] = {
                "events_per_s": _median(runs, "events_per_s"),
                "peak_rss_mb": _median(runs, "peak_rss_mb"),
                "runs": len(runs),
            }
            log(f"eventsourcing replay: {out['eventsourcing_replay']}")

        # checkpoints, 4. as-of queries, 2. appends
        out["checkpoint"], out["queries"], out["appends"] = {}, {}, {}
        for backend in backends:
            url, schema = kept[backend]
            out["checkpoint"][backend] = _spawned("checkpoint", url=url, schema=schema)
            log(f"checkpoint {backend}: {out['checkpoint'][backend]}")
            cold = []
            for _ in range(max(0, args.cold_runs - 1)):
                cold.append(
                    _spawned("queries", url=url, schema=schema, pairs=0, started_at=time.time())
                )
            full = _spawned(
                "queries", url=url, schema=schema, pairs=args.pairs, started_at=time.time()
            )
            cold.append(full)
            out["queries"][backend] = {
                "cold_start_s": _median(cold, "cold_start_s"),
                "cold_start_runs": len(cold),
                "first_query_ms": {
                    kind: statistics.median(r["first_query_ms"][kind] for r in cold)
                    for kind in full["first_query_ms"]
                },
                "warm_ms": full["warm_ms"],
                "peak_rss_mb": full["peak_rss_mb"],
            }
            log(f"queries {backend}: {out['queries'][backend]}")
            out["appends"][backend] = _spawned(
                "appends", url=url, schema=schema, count=args.appends
            )
            log(f"appends {backend}: {out['appends'][backend]}")

        # 5. bot round trip
        if args.skip_bot:
            out["bot"] = {"not_measured": "skipped (--skip-bot)"}
        else:
            try:
                import bot.app  # noqa: F401
                import tests.e2e.fake_bot_api  # noqa: F401
            except ImportError as exc:
                out["bot"] = {"not_measured": f"bot not available ({exc})"}
            else:
                url, schema = kept["sqlite"]
                out["bot"] = _spawned("bot", url=url, schema=schema, count=args.bot_count)
            log(f"bot: {out['bot']}")
    finally:
        for url, schema in kept.values():
            workloads.drop_database(url, schema)
        shutil.rmtree(workdir, ignore_errors=True)
    out["total_seconds"] = time.perf_counter() - began
    return out


def _logger(args: argparse.Namespace) -> Callable[[str], None]:
    started = time.perf_counter()

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr)

    return log


# --- the table ----------------------------------------------------------------------------


def _k(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:,.1f}k"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    return "-" if not ours or not theirs else f"{ours / theirs:.2f}x"


def table(r: dict[str, Any]) -> str:
    big = r["events"]
    m = r["machine"]
    rows: list[tuple[str, str, str, str, str, str]] = []

    def get(*path: str) -> Any:
        node: Any = r
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def add(label: str, sq: str, pg: str, es: str = "", ratio: str = "", target: str = "") -> None:
        rows.append((label, sq, pg, es, ratio, target))

    sizes = sorted({min(SMALL, big), big})
    add("1. bulk import", "", "", "", "", "")
    for size in sizes:
        ours = get("import", "sqlite", str(size), "events_per_s")
        theirs = get("eventsourcing_import", str(size), "events_per_s")
        runs = len(get("import", "sqlite", str(size), "runs") or [])
        add(
            f"   {size:,} events, events/s ({runs} run{'s' if runs > 1 else ''} each)",
            _k(ours),
            _k(get("import", "postgres", str(size), "events_per_s")),
            _k(theirs),
            _ratio(ours, theirs),
            ">= 100k, >= 2x eventsourcing" if size == big else "",
        )
    add("2. single append via Recorder.record, ms", "", "", "", "", "")
    for q in ("p50", "p95"):
        add(
            f"   {q}",
            _ms(get("appends", "sqlite", "latency_ms", q)),
            _ms(get("appends", "postgres", "latency_ms", q)),
        )
    runs = get("rebuild", "sqlite", "runs")
    plural = "run" if runs == 1 else "runs"
    add(f"3. rebuild from zero, {big:,} events ({runs} {plural} each)", "", "", "", "", "")
    ours = get("rebuild", "sqlite", "events_per_s")
    theirs = get("eventsourcing_replay", "events_per_s")
    add(
        "   events/s",
        _k(ours),
        _k(get("rebuild", "postgres", "events_per_s")),
        _k(theirs),
        _ratio(ours, theirs),
        ">= 250k, >= 2x eventsourcing",
    )
    add(
        "   peak memory, MB (VmHWM of the child)",
        _ms(get("rebuild", "sqlite", "peak_rss_mb")),
        _ms(get("rebuild", "postgres", "peak_rss_mb")),
        _ms(get("eventsourcing_replay", "peak_rss_mb")),
        "",
        "< 400",
    )
    add(f"4. as-of queries on {big:,} events", "", "", "", "", "")
    add(
        "   cold start to first answer, s",
        _ms(get("queries", "sqlite", "cold_start_s")),
        _ms(get("queries", "postgres", "cold_start_s")),
        "",
        "",
        "<= 2",
    )
    targets = {"count": 20, "overdue": 50, "state": 20}
    for kind in ("count", "overdue", "state"):
        add(
            f"   {kind}: first query (cold), ms",
            _ms(get("queries", "sqlite", "first_query_ms", kind)),
            _ms(get("queries", "postgres", "first_query_ms", kind)),
        )
        for q in ("p50", "p95", "p99"):
            add(
                f"   {kind}: warm {q}, ms",
                _ms(get("queries", "sqlite", "warm_ms", kind, q)),
                _ms(get("queries", "postgres", "warm_ms", kind, q)),
                "",
                "",
                f"<= {targets[kind]}" if q == "p95" else "",
            )
    add(
        "   checkpoint: fold s / save s",
        f"{_ms(get('checkpoint', 'sqlite', 'fold_seconds'))} / "
        f"{_ms(get('checkpoint', 'sqlite', 'save_seconds'))}",
        f"{_ms(get('checkpoint', 'postgres', 'fold_seconds'))} / "
        f"{_ms(get('checkpoint', 'postgres', 'save_seconds'))}",
    )
    add("5. bot round trip (fake Bot API), ms", "", "", "", "", "")
    if "not_measured" in (r.get("bot") or {}):
        add(f"   not measured: {r['bot']['not_measured']}", "", "")
    else:
        for kind in ("count", "state"):
            for q in ("p50", "p95"):
                add(
                    f"   /{kind} {q}",
                    _ms(get("bot", kind, q)),
                    "",
                    "",
                    "",
                    "<= 100" if q == "p95" else "",
                )
    header = ("", "SQLite", "PostgreSQL", "eventsourcing", "ours/theirs", "target (SQLite)")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(6)]
    lines = [
        f"machine: {m['nproc']} cores, Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m.get('postgresql', '-')}, eventsourcing {m.get('eventsourcing')}, "
        f"load average at start {m['load_average_at_start']}",
        f"history: {big:,} events (seed {r.get('seed')}), generated in "
        f"{r['generate_seconds']:.0f} s; whole run {r['total_seconds']:.0f} s",
        "",
    ]
    for row in [header, *rows]:
        lines.append(
            "  ".join(
                str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                for i, cell in enumerate(row)
            ).rstrip()
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    head, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        description=" ".join(head.split()),
        epilog="Example:\n  python bench/run.py --events 1000000 --json\n\n"
        + rest.partition("\n\n")[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="size of the big history (1k to 2M)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated history")
    parser.add_argument("--runs", type=int, default=3, help="runs of each cheap figure")
    parser.add_argument(
        "--big-runs", type=int, default=3, help="runs of the big import (median reported)"
    )
    parser.add_argument(
        "--rebuild-runs", type=int, default=3, help="runs of each rebuild (median reported)"
    )
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts per backend")
    parser.add_argument("--pairs", type=int, default=1000, help="as-of pairs per query kind")
    parser.add_argument("--appends", type=int, default=200, help="single appends timed")
    parser.add_argument("--bot-count", type=int, default=60, help="/count commands timed")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TRACKER_TEST_DATABASE_URL", DEFAULT_PG_URL),
        help="PostgreSQL for its column (default: the tests' server)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="no PostgreSQL column")
    parser.add_argument("--skip-eventsourcing", action="store_true", help="no eventsourcing column")
    parser.add_argument("--skip-bot", action="store_true", help="no bot round trip (group 5)")
    parser.add_argument("--workdir", help="where the SQLite files go (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if not 1_000 <= args.events <= 2_000_000:
        parser.error("--events must be between 1,000 and 2,000,000")
    if not args.skip_eventsourcing:
        try:
            import eventsourcing  # noqa: F401
        except ImportError:
            parser.error("eventsourcing is not installed: pip install -e '.[bench]'")
    result = measure(args)
    result["seed"] = args.seed
    print(table(result))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

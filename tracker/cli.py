"""The `tracker` console script: set-up, import/export and queries (see shared/INTERFACES.md)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from events.errors import EventStoreError
from tracker.aliases import StateLookupError
from tracker.answers import Answer
from tracker.bootstrap import Tracker, build, migrate
from tracker.config import Settings
from tracker.dates import DateInputError, parse_date, parse_known_at, parse_period
from tracker.importer import ImportFileError, load_bundled, run_import
from tracker.recording import Actor, PermissionDenied
from tracker.render import render_csv, render_json, render_text
from tracker.service import QueryError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

USER_ERRORS: tuple[type[Exception], ...] = (
    PermissionDenied,
    DateInputError,
    QueryError,
    StateLookupError,
    ImportFileError,
    EventStoreError,
)


class Progress:
    """A one-line progress counter on stderr for long work (imports, rebuilds)."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else done * 100 // total
        # On a terminal the line is redrawn; in a log, one line per quarter is enough.
        step = percent if self.stream.isatty() else percent // 25 * 25
        if step == self._last:
            return
        self._last = step
        text = f"{self.label}: {done}/{total} ({percent}%)"
        if self.stream.isatty():
            self.stream.write("\r" + text + ("\n" if done >= total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


#: Runs a subcommand registered by a feature module: (tracker, parsed args, stdout) -> exit code.
Handler = Callable[[Tracker, argparse.Namespace, TextIO], int]
SubParsers = argparse._SubParsersAction  # the type argparse gives `add_subparsers()`


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def add_command(
    sub: SubParsers[argparse.ArgumentParser],
    name: str,
    summary: str,
    example: str,
) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does, with an example."""
    return sub.add_parser(
        name,
        help=summary,
        description=f"{summary}\n\nexample:\n  {example}",
        formatter_class=_formatter,
    )


def time_options(parser: argparse.ArgumentParser, as_of: bool = True) -> None:
    if as_of:
        parser.add_argument(
            "--as-of", metavar="DATE", help="valid date of the question (default: today)"
        )
    parser.add_argument(
        "--known-at",
        metavar="TIME",
        help="knowledge time: answer with what was recorded up to then (default: now)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--csv", action="store_true", help="print the rows as CSV (UTF-8, header, ISO dates)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracker",
        description=(
            "Compliance tracker for the Convention on Cluster Munitions: every accession,\n"
            "report, declaration and extension request as an immutable event, answered as of\n"
            "any date.\n\n"
            "examples:\n"
            "  tracker init\n"
            "  tracker query count parties --as-of 2024-06-30\n"
            '  tracker query state "Lao PDR" --as-of 2024-06-30 --json'
        ),
        formatter_class=_formatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    add_command(
        sub,
        "init",
        "Create or migrate the schema and load the bundled CCM dataset (safe to run again).",
        "tracker init",
    )
    db = add_command(sub, "db", "Database maintenance.", "tracker db upgrade")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    add_command(db_sub, "upgrade", "Create or migrate the schema only.", "tracker db upgrade")

    imp = add_command(
        sub,
        "import",
        "Import events from a CSV or JSON Lines file: all rows or none; re-imports add nothing.",
        "tracker import reports-2025.csv --dry-run",
    )
    imp.add_argument("path", help="a .csv or .jsonl file")
    imp.add_argument("--dry-run", action="store_true", help="check and report; store nothing")
    imp.add_argument("--recorded-by", help="who is recording these events (default: cli:$USER)")
    imp.add_argument(
        "--no-rules",
        action="store_true",
        help="skip the treaty-rule checks (for curated historical loads whose rows are not in "
        "the order events happened); validation still applies",
    )

    exp = add_command(
        sub,
        "export",
        "Write every event as JSON Lines (a complete backup).",
        "tracker export backup.jsonl",
    )
    exp.add_argument("path", help="output file ('-' for standard output)")

    query = add_command(
        sub,
        "query",
        "Ask a question of the recorded events.",
        "tracker query count parties --as-of 2024-06-30",
    )
    qsub = query.add_subparsers(dest="query", metavar="QUESTION")
    qsub.required = True

    count = add_command(
        qsub,
        "count",
        "Count States in a category, with the States behind the number.",
        "tracker query count parties --as-of 2024-06-30 --known-at 2024-09-18",
    )
    count.add_argument(
        "what", help="parties, bound, signatories, signed, signed_or_joined or withdrawn"
    )
    time_options(count)

    state = add_command(
        qsub,
        "state",
        "One State's profile and timeline.",
        'tracker query state "South Sudan" --as-of 2024-06-30',
    )
    state.add_argument("name", help="a State name, alias or ISO3 code (e.g. Laos, LAO)")
    time_options(state)

    overdue = add_command(
        qsub,
        "overdue",
        "Overdue Article 7 reports: initial, or annual for a year.",
        "tracker query overdue initial --as-of 2024-06-30",
    )
    overdue.add_argument("kind", choices=("initial", "annual"))
    overdue.add_argument("--year", type=int, help="calendar year the annual report covers")
    time_options(overdue)

    annual = add_command(
        qsub,
        "annual",
        "Annual Article 7 reports for a year: expected, on time, late, missing.",
        "tracker query annual 2023 --as-of 2024-06-30",
    )
    annual.add_argument("year", type=int)
    time_options(annual)

    obligations = add_command(
        qsub,
        "obligations",
        "States Parties with open Article 3/4/5 obligations and their deadlines in force.",
        "tracker query obligations 4 --as-of 2024-06-30",
    )
    obligations.add_argument("article", type=int, choices=(3, 4, 5))
    time_options(obligations)

    extensions = add_command(
        qsub,
        "extensions",
        "Extension requests for a meeting, on time (nine months before) or late.",
        "tracker query extensions 12MSP",
    )
    extensions.add_argument("meeting", nargs="?", help="e.g. 12MSP (default: the next meeting)")
    time_options(extensions, as_of=False)

    cutoffs = add_command(
        qsub,
        "cutoffs",
        "Extension-request filing cut-offs coming up for States whose deadline is near.",
        "tracker query cutoffs --as-of 2024-01-01",
    )
    time_options(cutoffs)

    changes = add_command(
        qsub,
        "changes",
        "Who joined (deposited) or left (withdrawal took effect) in a period.",
        "tracker query changes 2023-07-01..2024-06-30",
    )
    changes.add_argument("period", help="A..B, a year (2024) or a reporting year (2023-24)")
    time_options(changes, as_of=False)

    indicators = add_command(
        qsub,
        "indicators",
        "Progress-report indicators for a period: computed with names, published labelled.",
        'tracker query indicators 2023-07-01..2024-06-30 --area "transparency"',
    )
    indicators.add_argument("period", help="A..B, a year (2024) or a reporting year (2023-24)")
    indicators.add_argument("--area", help="thematic area, e.g. transparency, clearance")
    time_options(indicators, as_of=False)

    # Feature modules add their own subcommands (each sets `handler` in its defaults).
    for register in _feature_commands():
        register(sub)
    return parser


def _feature_commands() -> list[Callable[[SubParsers[argparse.ArgumentParser]], None]]:
    """Subcommands that live next to the feature they drive, one registration each."""
    from tracker import cli_audit, cli_chat, cli_outputs, cli_reminders

    return [cli_audit.register, cli_outputs.register, cli_chat.register, cli_reminders.register]


def _as_of(args: argparse.Namespace, today: date) -> date | None:
    text = getattr(args, "as_of", None)
    return None if text is None else parse_date(text, today)


def _known_at(args: argparse.Namespace, today: date) -> datetime | None:
    text = getattr(args, "known_at", None)
    return None if text is None else parse_known_at(text, today)


def _query(tracker: Tracker, args: argparse.Namespace) -> Answer:
    service = tracker.service
    today = service.today()
    as_of, known_at = _as_of(args, today), _known_at(args, today)
    handlers: dict[str, Callable[[], Answer]] = {
        "count": lambda: service.count(args.what, as_of, known_at),
        "state": lambda: service.state(args.name, as_of, known_at),
        "annual": lambda: service.annual(args.year, as_of, known_at),
        "obligations": lambda: service.obligations(args.article, as_of, known_at),
        "extensions": lambda: service.extensions(args.meeting, known_at),
        "cutoffs": lambda: service.cutoffs(as_of, known_at),
        "changes": lambda: service.joined(*parse_period(args.period, today), known_at),
        "indicators": lambda: service.indicators(
            *parse_period(args.period, today), args.area, known_at
        ),
    }
    if args.query == "overdue":
        if args.kind == "initial":
            if args.year is not None:
                raise QueryError("--year applies to annual reports only")
            return service.overdue_initial(as_of, known_at)
        if args.year is None:
            raise QueryError("overdue annual needs --year, e.g. --year 2023")
        return service.overdue_annual(args.year, as_of, known_at)
    return handlers[args.query]()


def _init(settings: Settings, out: TextIO) -> int:
    cli_actor(settings).require_recorder()
    out.write(f"database: {settings.safe_database_url}\n")
    migrate(settings)
    tracker = build(settings)
    try:
        report = load_bundled(tracker.store, progress=Progress("loading the bundled CCM dataset"))
        out.write(
            f"bundled CCM dataset: {report.added} events added, "
            f"{report.already_present} already present\n"
        )
        for warning in report.warnings:
            out.write(f"warning: {warning}\n")
    finally:
        tracker.close()
    return EXIT_OK


def cli_actor(settings: Settings) -> Actor:
    """The person at the terminal, with the role TRACKER_CLI_ROLE gives them."""
    return Actor(f"cli:{getpass.getuser()}", settings.cli_role)


def _import(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    actor = cli_actor(tracker.settings)
    if not args.dry_run:
        actor.require_recorder()
    report = run_import(
        tracker.store,
        Path(args.path),
        dry_run=args.dry_run,
        recorded_by=args.recorded_by or actor.name,
        progress=Progress(f"checking {args.path}"),
        clock=tracker.clock,
        check_rules=not args.no_rules,
    )
    out.write(report.summary() + "\n")
    if report.refused:
        out.write("fix the refused rows and import the file again; nothing was stored\n")
        return EXIT_ERROR
    return EXIT_OK


def _export(tracker: Tracker, path: str, out: TextIO) -> int:
    total = tracker.store.head_position()
    progress = Progress("exporting events")
    written = 0
    target: TextIO = sys.stdout if path == "-" else open(path, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for event in tracker.store.read_all():
            target.write(json.dumps(event.to_record(), ensure_ascii=False) + "\n")
            written += 1
            if written % 1000 == 0 or written == total:
                progress(written, total)
    finally:
        if target is not sys.stdout:
            target.close()
    if path != "-":
        out.write(f"{written} events written to {path}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        sys.stderr.write(f"error: bad configuration: {exc}\n")
        return EXIT_USAGE
    settings.configure_logging()
    try:
        if args.command == "init":
            return _init(settings, stdout)
        if args.command == "db":
            migrate(settings)
            stdout.write(f"schema of {settings.safe_database_url} is up to date\n")
            return EXIT_OK
        tracker = build(settings)
        try:
            handler: Handler | None = getattr(args, "handler", None)
            if handler is not None:
                return handler(tracker, args, stdout)
            if args.command == "import":
                return _import(tracker, args, stdout)
            if args.command == "export":
                return _export(tracker, args.path, stdout)
            answer = _query(tracker, args)
            if getattr(args, "csv", False):
                stdout.write(render_csv(answer))
                return EXIT_OK
            stdout.write((render_json(answer) if args.json else render_text(answer)) + "\n")
            return EXIT_OK
        finally:
            tracker.close()
    except USER_ERRORS as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())

"""`tracker report`, `tracker chart`, `tracker calendar` and `tracker deadlines`.

Thin wrappers over `tracker.outputs`: parse the times, call the service-level function, write
the result to a file (`-o`) or standard output.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from tracker import outputs
from tracker.bootstrap import Tracker
from tracker.cli import SubParsers, add_command, time_options
from tracker.dates import parse_date, parse_known_at, parse_period
from tracker.render import render_csv, render_json, render_text
from tracker.report import FORMATS
from tracker.service import QueryError


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    report = add_command(
        sub,
        "report",
        "Draft the progress report for a period: LAP tables per thematic area and a summary.",
        "tracker report --period 2023-07-01..2024-06-30 --known-at 2024-09-18 "
        "--format html -o 12msp.html",
    )
    report.add_argument(
        "--period",
        help="A..B, a year or a reporting year such as 2023-24 "
        "(default: the last 1 July to 30 June period that has ended)",
    )
    report.add_argument("--format", choices=FORMATS, default="md", help="default: md")
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    time_options(report, as_of=False)
    report.set_defaults(handler=run_report)

    chart = add_command(
        sub,
        "chart",
        "Draw a chart as PNG: membership, reports or article4.",
        "tracker chart membership --as-of 2024-06-30 -o membership.png",
    )
    chart.add_argument("what", choices=outputs.CHARTS)
    chart.add_argument("-o", "--output", metavar="FILE.png", required=True)
    time_options(chart)
    chart.set_defaults(handler=run_chart)

    calendar = add_command(
        sub,
        "calendar",
        "Export every coming deadline as an iCalendar (.ics) feed, for one State or for all.",
        'tracker calendar "Lao PDR" -o lao.ics',
    )
    calendar.add_argument("state", nargs="?", help="a State name or ISO3 code (default: all)")
    calendar.add_argument("-o", "--output", metavar="FILE.ics", help="default: stdout")
    calendar.add_argument(
        "--days",
        type=int,
        default=outputs.ICS_HORIZON_DAYS,
        help=f"how many days ahead (default: {outputs.ICS_HORIZON_DAYS})",
    )
    time_options(calendar)
    calendar.set_defaults(handler=run_calendar)

    deadlines = add_command(
        sub,
        "deadlines",
        "List coming deadlines: reports, Article 3/4 deadlines, filing cut-offs, contributions.",
        "tracker deadlines --days 120 --as-of 2024-06-30",
    )
    deadlines.add_argument("--days", type=int, default=90, help="how many days ahead (default: 90)")
    deadlines.add_argument("--state", help="only this State (and deadlines for all States)")
    time_options(deadlines)
    deadlines.set_defaults(handler=run_deadlines)


def _times(tracker: Tracker, args: argparse.Namespace) -> tuple[date | None, datetime | None]:
    today = tracker.service.today()
    as_of_text = getattr(args, "as_of", None)
    known_text = getattr(args, "known_at", None)
    as_of = None if as_of_text is None else parse_date(as_of_text, today)
    known_at = None if known_text is None else parse_known_at(known_text, today)
    return as_of, known_at


def _last_reporting_period(today: date) -> tuple[date, date]:
    end_year = today.year if today >= date(today.year, 6, 30) else today.year - 1
    return date(end_year - 1, 7, 1), date(end_year, 6, 30)


def _write_text(text: str, output: str | None, out: TextIO, what: str) -> None:
    if output is None or output == "-":
        out.write(text if text.endswith("\n") else text + "\n")
        return
    Path(output).write_text(text, encoding="utf-8")
    out.write(f"{what} written to {output}\n")


def run_report(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    service = tracker.service
    today = service.today()
    start, end = parse_period(args.period, today) if args.period else _last_reporting_period(today)
    known_at = None if args.known_at is None else parse_known_at(args.known_at, today)
    report = outputs.build_report(service, start, end, known_at)
    fmt = "json" if args.json else args.format
    _write_text(outputs.render_report(report, fmt), args.output, out, f"{fmt} report")
    return 0


def run_chart(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    as_of, known_at = _times(tracker, args)
    png = outputs.chart_png(tracker.service, args.what, as_of, known_at)
    Path(args.output).write_bytes(png)
    out.write(f"{args.what} chart written to {args.output} ({len(png)} bytes)\n")
    return 0


def run_calendar(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    if args.days < 0:
        raise QueryError("--days must be zero or more")
    as_of, known_at = _times(tracker, args)
    ics = outputs.calendar_ics(tracker.service, args.state, as_of, known_at, args.days)
    if args.output is None or args.output == "-":
        out.write(ics.decode("utf-8"))
        return 0
    Path(args.output).write_bytes(ics)
    out.write(f"calendar written to {args.output}\n")
    return 0


def run_deadlines(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    as_of, known_at = _times(tracker, args)
    answer = outputs.deadlines(tracker.service, args.days, as_of, known_at, args.state)
    if args.csv:
        out.write(render_csv(answer))
    elif args.json:
        out.write(render_json(answer) + "\n")
    else:
        out.write(render_text(answer) + "\n")
    return 0

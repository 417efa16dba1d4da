"""`tracker audit`: check a progress report against itself and against the computed figures."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import TextIO

from projections.indicators import Period as IndicatorPeriod
from projections.indicators import indicators
from projections.published import published_figures
from tracker.audit import (
    Finding,
    document_date_of,
    figure_findings,
    reporting_period_of,
    text_findings,
)
from tracker.bootstrap import Tracker
from tracker.cli import SubParsers, add_command
from tracker.dates import end_of_day, parse_period
from tracker.service import QueryError

BUNDLED_SEED = "ccm-12msp-progress-report.txt"


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub,
        "audit",
        "List where a progress report disagrees with itself or with the computed figures.",
        "tracker audit --json",
    )
    parser.add_argument(
        "--document",
        metavar="PATH",
        help="the report as plain text (default: the bundled 12MSP Progress Report)",
    )
    parser.add_argument("--period", help="reporting period A..B (default: read from the text)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _read(document: str | None) -> tuple[str, str]:
    if document is None:
        text = (
            resources.files("tracker.data.ccm")
            .joinpath("sources", BUNDLED_SEED)
            .read_text(encoding="utf-8")
        )
        return "CCM/MSP/2024/7 (bundled)", text
    path = Path(document)
    if not path.is_file():
        raise QueryError(f"no such file: {document}; give the report as a plain-text file")
    return document, path.read_text(encoding="utf-8")


def run(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    name, text = _read(args.document)
    today = tracker.service.today()
    period = parse_period(args.period, today) if args.period else reporting_period_of(text)
    if period is None:
        raise QueryError("the text does not say which period it covers: pass --period A..B")
    issued = document_date_of(text) or period[1]
    findings: list[Finding] = text_findings(text, issued, period)
    known = tracker.service.known(end_of_day(issued))
    computed = indicators(known.ledger, IndicatorPeriod(*period))
    findings += figure_findings(computed, published_figures(known.ledger))
    if args.json:
        body = {
            "document": name,
            "document_date": issued.isoformat(),
            "period": [period[0].isoformat(), period[1].isoformat()],
            "findings": [asdict(f) for f in findings],
        }
        out.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(
        f"Audit of {name}, dated {issued.isoformat()}, period "
        f"{period[0].isoformat()}..{period[1].isoformat()}: {len(findings)} finding(s)\n"
    )
    for finding in findings:
        out.write(f"- [{finding.kind}] {finding.paragraph}: {finding.message}\n")
    return 0

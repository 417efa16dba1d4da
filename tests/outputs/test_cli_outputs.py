"""`tracker report`, `chart`, `calendar` and `deadlines` from the command line, on SQLite."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import icalendar
import pytest
from matplotlib import image

from tracker.cli import main

from .support import ACCEPTANCE

TIMES = ["--known-at", "2024-09-18"]
PERIOD = ["--period", "2023-07-01..2024-06-30"]

#: Runs `tracker ARGS…`; gives (exit code, what it printed).
Run = Callable[..., tuple[int, str]]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One initialised SQLite database for the module (init loads the bundled dataset)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'tracker.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRACKER_DATABASE_URL", url)
        patch.delenv("TRACKER_DATABASE_SCHEMA", raising=False)
        assert main(["init"], out=io.StringIO()) == 0
    yield url


@pytest.fixture
def run(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    monkeypatch.setenv("TRACKER_DATABASE_URL", database)
    monkeypatch.delenv("TRACKER_DATABASE_SCHEMA", raising=False)

    def call(*args: str) -> tuple[int, str]:
        out = io.StringIO()
        code = main(list(args), out=out)
        return code, out.getvalue()

    yield call


def test_tracker_report_writes_the_12msp_report_as_html(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "12msp.html"

    code, said = run("report", *PERIOD, *TIMES, "--format", "html", "-o", str(target))

    assert code == 0
    assert str(target) in said
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert 'data-figure="parties" data-basis="computed" data-value="112"' in text


def test_tracker_report_prints_csv_with_the_acceptance_figures(run: Run) -> None:
    code, text = run("report", *PERIOD, *TIMES, "--format", "csv")

    rows = {r["figure"]: r for r in csv.DictReader(io.StringIO(text))}
    assert code == 0
    assert {k: int(rows[k]["value"]) for k in ACCEPTANCE} == ACCEPTANCE


def test_tracker_report_json_flag_gives_json(run: Run) -> None:
    code, text = run("report", "--period", "2023-24", *TIMES, "--json")

    assert code == 0
    assert json.loads(text)["period_end"] == "2024-06-30"


def test_tracker_chart_writes_a_png(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "membership.png"

    code, _ = run("chart", "membership", "--as-of", "2024-06-30", *TIMES, "-o", str(target))

    assert code == 0
    assert image.imread(str(target)).shape[:2] == (900, 1200)


def test_tracker_calendar_writes_a_feed_for_one_state(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "deu.ics"

    code, _ = run("calendar", "Germany", "--as-of", "2024-06-30", *TIMES, "-o", str(target))

    calendar = icalendar.Calendar.from_ical(target.read_bytes())
    assert code == 0
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert "Germany: Article 4 deadline (extended at 9MSP)" in summaries


def test_tracker_deadlines_lists_what_is_due_as_text_json_and_csv(run: Run) -> None:
    times = ["--as-of", "2024-06-30", *TIMES, "--days", "120"]

    code, text = run("deadlines", *times)
    _, as_json = run("deadlines", *times, "--json")
    _, as_csv = run("deadlines", *times, "--csv")

    assert code == 0
    assert text.startswith("Deadlines from 2024-06-30 to 2024-10-28: 2")
    body = json.loads(as_json)
    assert [(i["iso3"], i["kind"]) for i in body["items"]] == [
        ("PER", "compliance_declaration"),
        ("ZAF", "compliance_declaration"),
    ]
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert [r["due"] for r in rows] == ["2024-09-10", "2024-09-10"]


def test_any_list_answer_prints_as_csv(run: Run) -> None:
    code, text = run("query", "count", "parties", "--as-of", "2024-06-30", *TIMES, "--csv")

    rows = list(csv.DictReader(io.StringIO(text)))
    assert code == 0
    assert len(rows) == 112
    assert rows[0].keys() == {"iso3", "name", "deposit_date"}


def test_a_bad_period_is_a_usage_error(run: Run) -> None:
    code, _ = run("report", "--period", "2024-06-30..2023-07-01")

    assert code == 2


def test_an_unknown_chart_is_refused_by_the_parser(run: Run, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        run("chart", "pie", "-o", str(tmp_path / "x.png"))

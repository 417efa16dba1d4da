"""The drafted progress report: every format renders, and the figures read back are the 12MSP's."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

import pytest

from events.schema import AggregatePublished
from events.sql import SqlEventStore
from projections.indicators import Period, indicators
from projections.ledger import Ledger
from tracker.clock import FixedClock
from tracker.importer import load_bundled
from tracker.outputs import build_report, render_report
from tracker.report import AREAS, PUBLISHED_LABEL, ProgressReport, compose_report
from tracker.service import QueryError, TrackerService

from .support import ACCEPTANCE, KNOWN_AT, NOW, PERIOD, event, memory_service


@pytest.fixture(scope="module")
def service() -> TrackerService:
    return memory_service()


@pytest.fixture(scope="module")
def report(service: TrackerService) -> ProgressReport:
    return build_report(service, *PERIOD, KNOWN_AT)


@dataclass
class Row:
    figure: str
    basis: str
    value: str
    text: str = ""
    names: list[str] = field(default_factory=list)


class ReportHTML(HTMLParser):
    """Reads back the rows (by data-figure), section headings and list items of the report."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.headings: list[str] = []
        self.external: list[str] = []
        self._row: Row | None = None
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._in.append(tag)
        if tag == "tr" and "data-figure" in found:
            self._row = Row(
                str(found["data-figure"]), str(found["data-basis"]), str(found["data-value"])
            )
            self.rows.append(self._row)
        if tag in ("link", "img", "script") and (found.get("src") or found.get("href")):
            self.external.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in:
            self._in.pop()
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "h2":
            self.headings.append(data.strip())
        if self._row is not None:
            self._row.text += data
            if self._in and self._in[-1] == "li":
                self._row.names.append(data.strip())


def _parse_html(text: str) -> ReportHTML:
    parser = ReportHTML()
    parser.feed(text)
    parser.close()
    return parser


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_12msp_report_renders_in_all_four_formats(report: ProgressReport) -> None:
    rendered = {fmt: render_report(report, fmt) for fmt in ("md", "html", "csv", "json")}

    assert rendered["md"].startswith("# Convention on Cluster Munitions")
    assert rendered["html"].startswith("<!DOCTYPE html>")
    assert _csv_rows(rendered["csv"])
    assert json.loads(rendered["json"])["kind"] == "progress_report"


def test_the_html_report_read_back_gives_the_acceptance_figures_with_their_names(
    report: ProgressReport,
) -> None:
    parsed = _parse_html(render_report(report, "html"))

    computed = {r.figure: r for r in parsed.rows if r.basis == "computed"}
    assert {key: int(computed[key].value) for key in ACCEPTANCE} == ACCEPTANCE
    assert computed["new_parties"].names == ["South Sudan"]
    assert set(computed["art3_compliance"].names) == {
        "Bulgaria",
        "Peru",
        "Slovakia",
        "South Africa",
    }
    assert all(len(computed[k].names) == ACCEPTANCE[k] for k in ACCEPTANCE)
    assert "105 of 112" in computed["initial_submitted_total"].text


def test_the_csv_report_read_back_gives_the_acceptance_figures_with_their_names(
    report: ProgressReport,
) -> None:
    rows = _csv_rows(render_report(report, "csv"))

    computed = {r["figure"]: r for r in rows if r["basis"] == "computed"}
    assert {key: int(computed[key]["value"]) for key in ACCEPTANCE} == ACCEPTANCE
    for key, value in ACCEPTANCE.items():
        names = [n for n in computed[key]["states"].split("; ") if n]
        assert len(names) == value, key
    assert computed["initial_overdue"]["states"].split("; ")[0] == "Cabo Verde"
    assert computed["initial_submitted_total"]["out_of"] == "112"


def test_each_computed_figure_appears_once_in_the_csv(report: ProgressReport) -> None:
    rows = _csv_rows(render_report(report, "csv"))

    keys = [r["figure"] for r in rows]

    assert len(keys) == len(set(keys))


def test_published_figures_are_labelled_as_published_name_no_state_and_cite_a_source(
    report: ProgressReport,
) -> None:
    rows = _csv_rows(render_report(report, "csv"))
    parsed = _parse_html(render_report(report, "html"))

    published = [r for r in rows if r["basis"] == "published"]
    assert len(published) > 60
    assert all(r["states"] == "" and r["source"].startswith("CCM/MSP/2024/7") for r in published)
    assert all(PUBLISHED_LABEL in r["note"] for r in published)
    html_published = [r for r in parsed.rows if r.basis == "published"]
    assert html_published
    assert all(PUBLISHED_LABEL in r.text and not r.names for r in html_published)


def test_every_thematic_area_of_the_12msp_report_has_its_table_in_order(
    report: ProgressReport,
) -> None:
    parsed = _parse_html(render_report(report, "html"))
    markdown = render_report(report, "md")

    expected = [f"{a.letter}. {a.name}" for a in AREAS]
    assert [h for h in parsed.headings if h[:2] in {f"{a.letter}." for a in AREAS}] == expected
    assert [a.name for a in report.areas][:11] == [a.name for a in AREAS]
    positions = [markdown.index(f"### {heading}") for heading in expected]
    assert positions == sorted(positions)


def test_each_lap_action_of_an_area_is_in_its_table(report: ProgressReport) -> None:
    actions = {a.name: {r.lap_action for r in a.rows if r.lap_action} for a in report.areas}

    for area in AREAS:
        assert {f"Action {n}" for n in area.actions} <= actions[area.name]


def test_a_computed_figure_that_differs_from_the_published_one_shows_both(
    report: ProgressReport,
) -> None:
    retention = next(f for f in report.computed if f.key == "retention")

    assert (retention.value, retention.published_value) == (11, 10)
    assert retention.note is not None and "publishes 10" in retention.note


def test_every_report_states_its_period_knowledge_time_and_sources(
    report: ProgressReport,
) -> None:
    for fmt in ("md", "html"):
        text = render_report(report, fmt)
        assert "1 July 2023 to 30 June 2024" in text
        assert "data as recorded up to 2024-09-18" in text.lower()
        assert "CCM/MSP/2024/7" in text
    body = json.loads(render_report(report, "json"))
    assert (body["period_start"], body["period_end"]) == ("2023-07-01", "2024-06-30")
    assert body["recorded_up_to"].startswith("2024-09-18")
    assert "CCM/MSP/2024/7" in body["sources"]
    csv_row = _csv_rows(render_report(report, "csv"))[0]
    assert csv_row["period"] == "2023-07-01..2024-06-30"


def test_the_summary_is_prose_generated_from_the_numbers(report: ProgressReport) -> None:
    lines = {item.area: " ".join(item.lines) for item in report.summary}

    assert (
        "51 of the 103 annual Article 7 reports expected for 2023" in lines["Transparency Measures"]
    )
    assert "South Sudan, in force from 2024-02-01" in lines["Universalization"]
    assert "124 States" in lines["Universalization"]
    assert "0 extension requests for 12MSP" in lines["Compliance"]


def test_the_html_is_one_self_contained_file_that_prints_cleanly(report: ProgressReport) -> None:
    text = render_report(report, "html")
    parsed = _parse_html(text)

    assert parsed.external == []
    assert "http://" not in text and "https://" not in text
    assert "@media print" in text
    assert "<details>" in text


def test_text_from_the_data_is_escaped_in_html() -> None:
    figure = AggregatePublished(
        figure="lap.a01.plans_integration",
        value=7,
        text="<script>alert('x')</script> & more",
        period_start=date(2023, 7, 1),
        period_end=date(2024, 6, 30),
        lap_action="Action 1",
    )
    ledger = Ledger.from_events([event(figure, "2024-06-30")])
    period = Period(*PERIOD)

    report = compose_report(ledger, indicators(ledger, period), period, KNOWN_AT, None)
    text = render_report(report, "html")

    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in text


def test_a_period_without_published_figures_says_what_is_not_recorded(
    service: TrackerService,
) -> None:
    report = build_report(service, date(2024, 7, 1), date(2025, 6, 30), NOW)

    bases = {f.basis for area in report.areas for f in area.rows}

    assert "published" not in bases
    assert {"computed", "not recorded"} <= bases


def test_a_period_that_ends_before_it_starts_is_refused(service: TrackerService) -> None:
    with pytest.raises(QueryError):
        build_report(service, date(2024, 6, 30), date(2023, 7, 1))


def test_an_unknown_format_is_refused(report: ProgressReport) -> None:
    with pytest.raises(QueryError, match="md, html, csv, json"):
        render_report(report, "pdf")


@pytest.fixture
def stored_service(store: SqlEventStore) -> Iterator[TrackerService]:
    load_bundled(store)
    yield TrackerService(store, FixedClock(NOW))


def test_the_report_from_the_database_gives_the_acceptance_figures(
    stored_service: TrackerService,
) -> None:
    report = build_report(stored_service, *PERIOD, KNOWN_AT)

    rows = _csv_rows(render_report(report, "csv"))

    computed = {r["figure"]: int(r["value"]) for r in rows if r["basis"] == "computed"}
    assert {key: computed[key] for key in ACCEPTANCE} == ACCEPTANCE

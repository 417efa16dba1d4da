"""Charts come out as PNGs of the promised size, for the bundled data and for empty data."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from matplotlib import image

from projections.ledger import Ledger
from tracker import charts
from tracker.outputs import CHARTS, chart_png
from tracker.service import QueryError

from .support import AS_OF, KNOWN_AT, bundled_ledger, deposited, memory_service, obligation

ROOT = Path(__file__).resolve().parents[2]
PIXELS = (900, 1200)  # 6 x 8 inches at 150 dpi: (height, width)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KNOWLEDGE = "As of 2024-06-30; data as recorded up to 2024-09-18"


def _pixel_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    pixels = image.imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    return height, width


@pytest.mark.parametrize(
    "draw", [charts.membership_chart, charts.reports_chart, charts.article4_chart]
)
def test_each_chart_of_the_bundled_data_is_a_phone_readable_png(draw: object) -> None:
    png = draw(bundled_ledger(), AS_OF, KNOWLEDGE)  # type: ignore[operator]

    assert _pixel_size(png) == PIXELS


def test_charts_are_reachable_through_the_service_by_name() -> None:
    service = memory_service()

    sizes = {what: _pixel_size(chart_png(service, what, AS_OF, KNOWN_AT)) for what in CHARTS}

    assert sizes == dict.fromkeys(CHARTS, PIXELS)


def test_an_unknown_chart_is_refused() -> None:
    with pytest.raises(QueryError, match="membership, reports, article4"):
        chart_png(memory_service([]), "pie", AS_OF, KNOWN_AT)


@pytest.mark.parametrize(
    "draw", [charts.membership_chart, charts.reports_chart, charts.article4_chart]
)
def test_a_chart_of_no_data_still_draws_and_says_so(draw: object) -> None:
    png = draw(Ledger.from_events([]), AS_OF, KNOWLEDGE)  # type: ignore[operator]

    assert _pixel_size(png) == PIXELS


def test_membership_counts_are_the_12msp_ones_on_the_last_day() -> None:
    dates, parties, bound, signatories = charts.membership_series(bundled_ledger(), AS_OF)

    assert dates[-1] == AS_OF
    assert (parties[-1], bound[-1], signatories[-1]) == (112, 112, 12)
    assert dates[0] == date(2008, 12, 3)


def test_an_article4_chart_of_one_state_draws() -> None:
    ledger = Ledger.from_events([deposited("LBN", "2010-11-05"), obligation("LBN", 4)])

    assert _pixel_size(charts.article4_chart(ledger, AS_OF, KNOWLEDGE)) == PIXELS


def test_the_source_line_names_documents_and_the_knowledge_time() -> None:
    line = charts.source_line(
        ["CCM/MSP/2024/7 para 43", "CCM/MSP/2024/7 para 44", "UNTC status", "ISU news"],
        KNOWLEDGE,
    )

    assert line.startswith("Source: CCM/MSP/2024/7; ")
    assert "and 1 more" in line
    assert KNOWLEDGE in line


def test_one_example_of_each_chart_is_in_docs_and_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    for what in CHARTS:
        path = ROOT / "docs" / f"chart-{what}.png"
        assert _pixel_size(path.read_bytes()) == PIXELS
        assert re.search(rf"\]\(docs/chart-{what}\.png\)", readme), what

"""Published figures and coverage declarations, kept apart from computed counts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from projections.ledger import Ledger
from projections.published import coverage_declarations, published_figures

if TYPE_CHECKING:
    from conftest import Build

PERIOD = (date(2023, 7, 1), date(2024, 6, 30))


def test_published_figures_are_filtered_by_the_period_they_describe(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.aggregate(
                "annual_reports.lap_on_time", 41, "41 SPs by 30 April", *PERIOD, lap_action="45"
            ),
            build.aggregate("donors", 20, "20 donors", date(2022, 7, 1), date(2023, 6, 30)),
            build.aggregate("isu_contributors", 45, "45 SPs contribute to the ISU budget"),
        ]
    )

    in_period = published_figures(ledger, *PERIOD)
    everything = published_figures(ledger)

    assert [(f.figure, f.value, f.lap_action) for f in in_period] == [
        ("annual_reports.lap_on_time", 41, "45")
    ]
    assert in_period[0].source == "test source"
    assert len(everything) == 3


def test_coverage_declarations_can_be_read_by_subject(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.coverage("annual_reports", *PERIOD, year_covered=2023),
            build.coverage("membership", date(2008, 12, 3), date(2025, 6, 22)),
        ]
    )

    (annual,) = coverage_declarations(ledger, "annual_reports")

    assert (annual.year_covered, annual.period_end) == (2023, date(2024, 6, 30))
    assert len(coverage_declarations(ledger)) == 2


def test_a_to_date_figure_belongs_to_the_period_its_end_falls_in(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.aggregate("national_measures", 65, "65 SPs to date", None, date(2024, 6, 30)),
            build.aggregate("older_total", 60, "60 SPs to date", None, date(2023, 6, 30)),
        ]
    )

    in_period = published_figures(ledger, *PERIOD)

    assert [(f.figure, f.value) for f in in_period] == [("national_measures", 65)]

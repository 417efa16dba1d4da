"""The treaty's date rules, checked against the sourced worked examples of ccm-rules.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.dates import DateRange
from projections.calendar import (
    annual_report_due,
    art3_deadline,
    art4_deadline,
    art4_later_deadline,
    contribution_pay_by,
    entry_into_force,
    extension_filing_cutoff,
    filing_timeliness,
    initial_report_due,
    withdrawal_effective,
)
from projections.profile import CCM


@pytest.mark.parametrize(
    ("state", "deposit", "eif"),
    [
        ("Burkina Faso and Moldova, 29th and 30th", date(2010, 2, 16), date(2010, 8, 1)),
        ("Albania, before the 30th", date(2009, 6, 16), date(2010, 8, 1)),
        ("South Sudan", date(2023, 8, 3), date(2024, 2, 1)),
        ("Nigeria", date(2023, 2, 28), date(2023, 8, 1)),
        ("Samoa, after the 30th but before 1 Aug 2010", date(2010, 4, 28), date(2010, 10, 1)),
        ("Comoros", date(2010, 7, 28), date(2011, 1, 1)),
        ("Hungary", date(2012, 7, 3), date(2013, 1, 1)),
        ("Iceland", date(2015, 8, 31), date(2016, 2, 1)),
        ("Vanuatu", date(2025, 9, 5), date(2026, 3, 1)),
    ],
)
def test_entry_into_force_follows_article_17(state: str, deposit: date, eif: date) -> None:
    assert entry_into_force(deposit) == eif, state


def test_the_day_of_the_deposit_month_does_not_matter() -> None:
    assert entry_into_force(date(2012, 3, 1)) == entry_into_force(date(2012, 3, 31))


@given(st.dates(min_value=date(2008, 12, 3), max_value=date(2090, 12, 31)))
def test_entry_into_force_is_a_first_of_month_after_the_deposit(deposit: date) -> None:
    eif = entry_into_force(deposit)
    assert eif.day == 1
    assert eif > deposit


@pytest.mark.parametrize(
    ("eif", "due"),
    [
        (date(2024, 2, 1), date(2024, 7, 30)),  # South Sudan, a leap year
        (date(2023, 8, 1), date(2024, 1, 28)),  # Nigeria
        (date(2010, 8, 1), date(2011, 1, 28)),  # the first 30 States
        (date(2019, 7, 1), date(2019, 12, 28)),  # Philippines
        (date(2013, 1, 1), date(2013, 6, 30)),  # Hungary
    ],
)
def test_initial_report_is_due_180_days_after_entry_into_force(eif: date, due: date) -> None:
    assert initial_report_due(eif) == due


def test_annual_report_for_a_year_is_due_on_30_april_of_the_next() -> None:
    assert annual_report_due(2023) == date(2024, 4, 30)


def test_article_3_deadline_is_eight_years_after_entry_into_force() -> None:
    assert art3_deadline(date(2013, 3, 1)) == date(2021, 3, 1)  # Peru
    assert art3_deadline(date(2010, 8, 1)) == date(2018, 8, 1)  # the first 30 States


def test_article_4_deadline_is_ten_years_after_entry_into_force() -> None:
    assert art4_deadline(date(2010, 8, 1)) == date(2020, 8, 1)  # Germany, Lao PDR, Montenegro
    assert art4_deadline(date(2011, 3, 1)) == date(2021, 3, 1)  # Bosnia and Herzegovina


def test_later_contamination_runs_ten_years_from_the_end_of_hostilities() -> None:
    assert art4_later_deadline(date(2014, 6, 15)) == date(2024, 6, 15)


@pytest.mark.parametrize(
    ("meeting", "start", "cutoff"),
    [
        ("8MSP", date(2018, 9, 3), date(2017, 12, 3)),
        ("9MSP", date(2019, 9, 2), date(2018, 12, 2)),
        ("2RC part 2", date(2021, 9, 20), date(2020, 12, 20)),
        ("10MSP", date(2022, 8, 30), date(2021, 11, 30)),
        ("11MSP", date(2023, 9, 11), date(2022, 12, 11)),
        ("12MSP", date(2024, 9, 10), date(2023, 12, 10)),
        ("13MSP", date(2025, 9, 16), date(2024, 12, 16)),
    ],
)
def test_extension_requests_are_due_nine_calendar_months_before_the_meeting(
    meeting: str, start: date, cutoff: date
) -> None:
    assert extension_filing_cutoff(start) == cutoff, meeting


def test_a_request_on_the_cutoff_day_is_on_time_and_flagged() -> None:
    cutoff = date(2023, 12, 10)
    assert filing_timeliness(DateRange.exact(date(2023, 12, 9)), cutoff) == "on_time"
    assert filing_timeliness(DateRange.exact(cutoff), cutoff) == "on_cutoff_day"
    assert filing_timeliness(DateRange.exact(date(2023, 12, 11)), cutoff) == "late"


def test_a_request_known_only_within_a_range_across_the_cutoff_has_unknown_timeliness() -> None:
    cutoff = date(2023, 12, 10)
    straddling = DateRange(date(2023, 12, 1), date(2024, 1, 31))
    assert filing_timeliness(straddling, cutoff) == "unknown"
    assert filing_timeliness(DateRange(date(2023, 11, 1), date(2023, 11, 30)), cutoff) == "on_time"
    assert filing_timeliness(DateRange(date(2024, 1, 1), date(2024, 1, 31)), cutoff) == "late"


def test_germany_request_for_12msp_after_the_cutoff_is_late() -> None:
    cutoff = extension_filing_cutoff(date(2024, 9, 10))
    assert filing_timeliness(DateRange(date(2024, 1, 1), date(2024, 3, 31)), cutoff) == "late"


def test_withdrawal_takes_effect_six_calendar_months_after_receipt() -> None:
    assert withdrawal_effective(date(2024, 9, 6)) == date(2025, 3, 6)  # Lithuania
    assert withdrawal_effective(date(2024, 8, 31)) == date(2025, 2, 28)  # clamps to month end


def test_contributions_are_due_three_months_before_the_meeting() -> None:
    assert contribution_pay_by(date(2024, 9, 10)) == date(2024, 6, 10)  # 12MSP
    assert contribution_pay_by(date(2025, 9, 16)) == date(2025, 6, 16)  # 13MSP
    assert contribution_pay_by(date(2023, 9, 11)) == date(2023, 6, 11)  # 11MSP


def test_another_convention_is_a_different_profile_not_different_rules() -> None:
    other_treaty = replace(CCM, key="other", initial_report_days=365, art4_years=5)
    assert initial_report_due(date(2024, 1, 1), other_treaty) == date(2024, 12, 31)
    assert art4_deadline(date(2024, 1, 1), other_treaty) == date(2029, 1, 1)

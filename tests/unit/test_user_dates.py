"""Dates as users type them, read the same way by the CLI, the console and the bot."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.dates import DateInputError, parse_date, parse_known_at, parse_period

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-30", date(2024, 6, 30)),
        ("30 June 2024", date(2024, 6, 30)),
        ("June 30, 2024", date(2024, 6, 30)),
        ("30/06/2024", date(2024, 6, 30)),
        ("30.06.2024", date(2024, 6, 30)),
        ("today", TODAY),
        ("Yesterday", date(2026, 11, 26)),
        ("end of 2023", date(2023, 12, 31)),
        ("start of 2024", date(2024, 1, 1)),
        ("end of February 2024", date(2024, 2, 29)),
    ],
)
def test_common_date_forms_are_understood(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2024-02-30", "read as day 30, month 2, year 2024"),
        ("31/02/2024", "not a real day"),
        ("June 2024", "names no day"),
        ("soon", "no four-digit year"),
        ("1999-12-31", "outside 2008"),
        ("2150-01-01", "check the year"),
        ("", "no date given"),
    ],
)
def test_a_date_that_cannot_be_read_says_what_was_understood(text: str, says: str) -> None:
    with pytest.raises(DateInputError, match=says):
        parse_date(text, TODAY)


def test_periods_come_as_ranges_years_or_reporting_years() -> None:
    assert parse_period("2023-07-01..2024-06-30", TODAY) == (date(2023, 7, 1), date(2024, 6, 30))
    assert parse_period("2023-24", TODAY) == (date(2023, 7, 1), date(2024, 6, 30))
    assert parse_period("2024", TODAY) == (date(2024, 1, 1), date(2024, 12, 31))
    with pytest.raises(DateInputError, match="ends"):
        parse_period("2024-06-30..2023-07-01", TODAY)


def test_a_knowledge_day_means_the_end_of_that_day_in_utc() -> None:
    assert parse_known_at("2024-09-18", TODAY) == datetime(
        2024, 9, 18, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert parse_known_at("2024-09-18T12:00:00Z", TODAY) == datetime(2024, 9, 18, 12, tzinfo=UTC)

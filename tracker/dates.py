"""Dates as people type them: "2024-06-30", "30 June 2024", "30/06/2024", "today", "end of 2023".

Pure: "today" is passed in by the caller (from the clock), never read here. An input that
cannot be read, or names an impossible day, raises DateInputError saying what was understood.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta

from dateutil import parser as dateutil_parser

from events.dates import EARLIEST_VALID_DATE, LATEST_VALID_DATE


class DateInputError(ValueError):
    """A date the user typed could not be read; the message says what was understood."""


_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_EDGE = re.compile(r"^(start|beginning|end)\s+of\s+(.+)$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")


def parse_date(text: str, today: date) -> date:
    """Read one date; day-first for numeric forms (30/06/2024), as the treaty's documents write."""
    raw = " ".join(text.strip().split())
    lowered = raw.lower().rstrip(".")
    if not lowered:
        raise DateInputError("no date given: write it like 2024-06-30 or 30 June 2024")
    relative = {"today": 0, "now": 0, "yesterday": -1, "tomorrow": 1}
    if lowered in relative:
        return _check_range(today + timedelta(days=relative[lowered]), raw)
    edge = _EDGE.match(lowered)
    if edge:
        return _check_range(_edge_of(edge.group(1) != "end", edge.group(2), raw), raw)
    iso = _ISO.match(lowered)
    if iso:
        return _check_range(_build(int(iso[1]), int(iso[2]), int(iso[3]), raw), raw)
    numeric = _NUMERIC.match(lowered)
    if numeric:
        return _check_range(_build(int(numeric[3]), int(numeric[2]), int(numeric[1]), raw), raw)
    if not re.search(r"\d{4}", lowered):
        raise DateInputError(
            f"'{raw}' has no four-digit year: write it like 30 June 2024 or 2024-06-30"
        )
    try:
        parsed = dateutil_parser.parse(raw, dayfirst=True, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as exc:
        reason = str(exc).split(":")[0]
        raise DateInputError(
            f"'{raw}' is not a date I can read ({reason}); write it like 30 June 2024 or 2024-06-30"
        ) from None
    if not re.search(r"\b\d{1,2}\b", re.sub(r"\d{4}", "", lowered)):
        raise DateInputError(
            f"'{raw}' names no day; I would read it as {parsed.date().isoformat()}: "
            f"say 'end of {raw}' or give the day"
        )
    return _check_range(parsed.date(), raw)


def parse_period(text: str, today: date) -> tuple[date, date]:
    """A period as "A..B", "A to B", a year ("2024") or a reporting year ("2023-24")."""
    raw = text.strip()
    reporting = re.fullmatch(r"(\d{4})[-/](\d{2}|\d{4})", raw)
    if reporting and len(raw) in (7, 9):
        start_year = int(reporting[1])
        end_year = (
            int(reporting[2])
            if len(reporting[2]) == 4
            else start_year // 100 * 100 + int(reporting[2])
        )
        if end_year == start_year + 1:
            return date(start_year, 7, 1), date(end_year, 6, 30)
    if re.fullmatch(r"\d{4}", raw):
        return _check_range(date(int(raw), 1, 1), raw), _check_range(date(int(raw), 12, 31), raw)
    for separator in ("..", " to ", " - ", " – "):
        if separator in raw:
            left, right = raw.split(separator, 1)
            start, end = parse_date(left, today), parse_date(right, today)
            if end < start:
                raise DateInputError(
                    f"the period '{raw}' ends ({end.isoformat()}) before it starts "
                    f"({start.isoformat()})"
                )
            return start, end
    raise DateInputError(
        f"'{raw}' is not a period: write 2023-07-01..2024-06-30, a year (2024) or a "
        "reporting year (2023-24)"
    )


def parse_known_at(text: str, today: date) -> datetime:
    """Knowledge time from user input: a day means the end of that day, UTC."""
    raw = text.strip()
    if "T" in raw:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise DateInputError(
                f"'{raw}' is not an ISO 8601 time (2024-09-18T12:00:00Z)"
            ) from None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    day = parse_date(raw, today)
    return end_of_day(day)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _build(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(
            f"'{raw}' is not a real day: read as day {day}, month {month}, year {year}"
        ) from None


def _edge_of(start: bool, rest: str, raw: str) -> date:
    year_only = re.fullmatch(r"\d{4}", rest)
    if year_only:
        year = int(rest)
        return date(year, 1, 1) if start else date(year, 12, 31)
    month_year = re.fullmatch(r"([a-z]+)\s+(\d{4})", rest)
    if month_year and month_year[1] in _MONTHS:
        year, month = int(month_year[2]), _MONTHS[month_year[1]]
        return date(year, month, 1 if start else calendar.monthrange(year, month)[1])
    raise DateInputError(f"'{raw}': write 'end of 2023' or 'start of June 2024'")


def _check_range(day: date, raw: str) -> date:
    if not EARLIEST_VALID_DATE <= day <= LATEST_VALID_DATE:
        raise DateInputError(
            f"'{raw}' was read as {day.isoformat()}, outside "
            f"{EARLIEST_VALID_DATE.year}–{LATEST_VALID_DATE.year}; check the year"
        )
    return day

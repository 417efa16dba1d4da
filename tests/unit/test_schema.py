"""The event envelope: validation that names the field, imprecise dates, upcasting."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from events.dates import DateRange
from events.errors import InvalidEvent, UnknownEventType
from events.schema import (
    AnnualReportSubmitted,
    ExtensionDecided,
    ObligationDeclared,
    deterministic_id,
    new_event,
    parse_event,
    upcast,
)

RECORDED = datetime(2024, 9, 18, tzinfo=UTC)


def report(**overrides: Any) -> dict[str, Any]:
    event = new_event(
        AnnualReportSubmitted(state="LBN", year_covered=2023, form_version="revised"),
        occurred_on="2024-01-01..2024-04-30",
        recorded_at=RECORDED,
        recorded_by="dataset:ccm",
        source="CCM/MSP/2024/7 para 100",
    )
    return {**event.to_record(), **overrides}


def test_an_event_survives_a_round_trip_through_json() -> None:
    record = report()

    assert parse_event(record).to_record() == record


def test_an_imprecise_date_keeps_both_bounds_and_says_so() -> None:
    when = DateRange.parse("2024-01-01..2024-04-30")

    assert (when.not_before, when.not_after, when.is_exact) == (
        date(2024, 1, 1),
        date(2024, 4, 30),
        False,
    )
    assert when.describe() == "between 2024-01-01 and 2024-04-30"
    assert when.straddles(date(2024, 3, 1)) and not when.straddles(date(2024, 4, 30))
    assert str(DateRange.exact(date(2024, 4, 30))) == "2024-04-30"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"occurred_on": "2024-02-30"}, "occurred_on: '2024-02-30' is not a real calendar date"),
        ({"occurred_on": "2024-05-01..2024-04-01"}, "ends (2024-04-01) before it starts"),
        ({"occurred_on": "1999-01-01"}, "outside 2008-01-01"),
        ({"payload": {"state": "lbn", "year_covered": 2023}}, "payload.state"),
        ({"payload": {"state": "LBN", "year_covered": "soon"}}, "payload.year_covered"),
        ({"payload": {"state": "LBN", "year_covered": 2023, "x": 1}}, "payload.x"),
        ({"type": "report.weekly.submitted"}, "unknown event type"),
        ({"recorded_by": "ana\x07"}, "recorded_by: Value error, contains control characters"),
        ({"source": ""}, "source"),
        ({"recorded_at": "2024-09-18T00:00:00"}, "recorded_at"),
        ({"stream": "no spaces allowed"}, "stream"),
    ],
)
def test_an_invalid_event_is_refused_with_the_field_and_reason(
    change: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        parse_event(report(**change))

    assert named.split(": Value error")[0] in str(refused.value)


def test_knowledge_time_is_kept_in_utc() -> None:
    geneva = timezone(timedelta(hours=2))

    event = parse_event(report(recorded_at=datetime(2024, 9, 18, 2, 0, tzinfo=geneva)))

    assert event.recorded_at == datetime(2024, 9, 18, 0, 0, tzinfo=UTC)


def test_a_version_1_annual_report_is_upcast_to_the_current_shape() -> None:
    old = report(schema_version=1, payload={"state": "LBN", "year": 2023, "revised_form": False})

    event = parse_event(old)

    assert event.schema_version == 2
    assert event.payload == AnnualReportSubmitted(
        state="LBN", year_covered=2023, form_version="original"
    )


def test_a_schema_version_newer_than_the_code_is_refused() -> None:
    with pytest.raises(UnknownEventType, match="newer than this code"):
        upcast("report.annual.submitted", 3, {})


def test_payload_rules_are_checked_where_they_belong() -> None:
    with pytest.raises(ValueError, match="granted_deadline"):
        ExtensionDecided(state="DEU", article=4, meeting="12MSP", outcome="granted")
    with pytest.raises(ValueError, match="hostilities_ended_on"):
        ObligationDeclared(state="LAO", article=4, basis="later_contamination")


def test_deterministic_ids_are_stable_and_distinct() -> None:
    first = deterministic_id("membership", "LBN", "2010-11-05")

    assert first == deterministic_id("membership", "LBN", "2010-11-05")
    assert first != deterministic_id("membership", "LBN", "2010-11-06")
    assert isinstance(first, uuid.UUID)

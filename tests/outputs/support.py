"""Helpers for the output tests: tiny in-memory event lists, and the bundled dataset folded once.

The bundled dataset is folded or stored once per module (the acceptance figures are read
as of 30 June 2024, known at 18 September 2024, like the 12MSP report).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache

from events.dates import DateRange
from events.schema import (
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    Event,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingScheduled,
    ObligationDeclared,
    Payload,
    new_event,
)
from projections.ledger import Ledger

AS_OF = date(2024, 6, 30)
KNOWN_AT = datetime(2024, 9, 18, 23, 59, 59, tzinfo=UTC)
PERIOD = (date(2023, 7, 1), AS_OF)
RECORDED = datetime(2024, 9, 18, tzinfo=UTC)

When = DateRange | date | str


def event(payload: Payload, on: When) -> Event:
    return new_event(
        payload, occurred_on=on, recorded_at=RECORDED, recorded_by="test", source="test source"
    )


def deposited(iso3: str, on: When) -> Event:
    return event(ConsentDeposited(state=iso3, instrument="accession"), on)


def initial_report(iso3: str, on: When) -> Event:
    return event(InitialReportSubmitted(state=iso3), on)


def annual_report(iso3: str, year: int, on: When) -> Event:
    return event(AnnualReportSubmitted(state=iso3, year_covered=year), on)


def obligation(iso3: str, article: int) -> Event:
    return event(ObligationDeclared(state=iso3, article=article), "2011-01-28")


def compliance(iso3: str, article: int, on: When, meeting: str | None = None) -> Event:
    return event(ComplianceDeclared(state=iso3, article=article, meeting=meeting), on)


def requested(iso3: str, article: int, meeting: str, on: When) -> Event:
    return event(ExtensionRequested(state=iso3, article=article, meeting=meeting), on)


def granted(iso3: str, article: int, meeting: str, on: When, deadline: date) -> Event:
    payload = ExtensionDecided(
        state=iso3, article=article, meeting=meeting, outcome="granted", granted_deadline=deadline
    )
    return event(payload, on)


def meeting(meeting_id: str, start: date) -> Event:
    payload = MeetingScheduled(
        meeting=meeting_id, name=f"{meeting_id} meeting", start_date=start, end_date=start
    )
    return event(payload, start)


@cache
def bundled_ledger() -> Ledger:
    """The bundled dataset as known when the 12MSP report was published (folded once)."""
    from tracker.importer import bundled_events

    return Ledger.from_events(bundled_events(), KNOWN_AT)

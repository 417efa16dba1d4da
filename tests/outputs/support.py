"""Helpers for the output tests: tiny in-memory event lists, and the bundled dataset folded once.

The bundled dataset is folded or stored once per module (the acceptance figures are read
as of 30 June 2024, known at 18 September 2024, like the 12MSP report).
"""

from __future__ import annotations

from collections.abc import Iterator
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
from tracker.clock import FixedClock
from tracker.service import TrackerService

AS_OF = date(2024, 6, 30)
KNOWN_AT = datetime(2024, 9, 18, 23, 59, 59, tzinfo=UTC)
PERIOD = (date(2023, 7, 1), AS_OF)
RECORDED = datetime(2024, 9, 18, tzinfo=UTC)
NOW = datetime(2026, 11, 27, tzinfo=UTC)

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


class MemoryStore:
    """Just enough of an EventStore for the service: events in position order, read after."""

    def __init__(self, events: list[Event]) -> None:
        self.events = [e.model_copy(update={"position": n}) for n, e in enumerate(events, 1)]

    def read_all(self, after: int = 0, limit: int | None = None) -> Iterator[Event]:
        selected = self.events[after:]
        return iter(selected if limit is None else selected[:limit])

    def head_position(self) -> int:
        return len(self.events)

    def read_facts(self, after: int = 0, limit: int | None = None) -> Iterator[Event]:
        return self.read_all(after, limit)


def memory_service(events: list[Event] | None = None) -> TrackerService:
    """A service over the given events (default: the bundled dataset), clock in late 2026."""
    from tracker.importer import bundled_events

    store = MemoryStore(bundled_events() if events is None else events)
    return TrackerService(store, FixedClock(NOW))  # type: ignore[arg-type]


#: The 12MSP acceptance table (as of 2024-06-30, known at 2024-09-18), by indicator key.
ACCEPTANCE: dict[str, int] = {
    "parties": 112,
    "signatories": 12,
    "signed_or_joined": 124,
    "new_parties": 1,
    "annual_expected": 103,
    "annual_submitted": 51,
    "annual_on_time": 39,
    "annual_late": 12,
    "initial_received": 2,
    "initial_submitted_total": 105,
    "initial_overdue": 7,
    "revised_form": 24,
    "overdue_earlier_submitted": 16,
    "form_j": 9,
    "gender_other_forms": 5,
    "art3_compliance": 4,
    "art4_open": 10,
    "art4_compliance": 1,
    "art4_requests": 3,
    "requests_on_time": 0,
    "victims": 12,
    "assistance_provided": 23,
    "assistance_received": 13,
    "disseminated": 22,
}

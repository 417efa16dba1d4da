"""Event builders for projection tests: small event lists in memory, no database, no clock."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from events.dates import DateRange
from events.schema import (
    AggregatePublished,
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    CoverageDeclared,
    Event,
    EventCorrected,
    EventRetracted,
    ExtensionDecided,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingRescheduled,
    MeetingScheduled,
    ObligationDeclared,
    Payload,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
    new_event,
)

When = DateRange | date | str


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


#: Knowledge time of test events unless a test says otherwise: the 12MSP report's date.
RECORDED = utc(2024, 9, 18)


class Build:
    """One method per event type; every event is recorded at `RECORDED` unless `recorded=`."""

    recorded = RECORDED
    utc = staticmethod(utc)

    def event(
        self,
        payload: Payload,
        on: When,
        recorded: datetime | None = None,
        stream: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Event:
        return new_event(
            payload,
            occurred_on=on,
            recorded_at=recorded or RECORDED,
            recorded_by="test",
            source="test source",
            stream=stream,
            event_id=event_id,
        )

    def signed(self, iso3: str, on: When, **kw: Any) -> Event:
        return self.event(StateSigned(state=iso3), on, **kw)

    def deposited(self, iso3: str, on: When, instrument: str = "ratification", **kw: Any) -> Event:
        return self.event(ConsentDeposited(state=iso3, instrument=instrument), on, **kw)

    def withdrew(
        self, iso3: str, received: When, effective_on: date | None = None, **kw: Any
    ) -> Event:
        return self.event(WithdrawalNotified(state=iso3, effective_on=effective_on), received, **kw)

    def initial_report(
        self, iso3: str, on: When, form_version: str | None = None, **kw: Any
    ) -> Event:
        payload = InitialReportSubmitted(state=iso3, form_version=form_version)
        return self.event(payload, on, **kw)

    def annual_report(
        self, iso3: str, year: int, on: When, form_version: str | None = None, **kw: Any
    ) -> Event:
        payload = AnnualReportSubmitted(state=iso3, year_covered=year, form_version=form_version)
        return self.event(payload, on, **kw)

    def obligation(
        self,
        iso3: str,
        article: int,
        on: When = "2011-01-28",
        obligation: str = "main",
        hostilities_ended_on: date | None = None,
        **kw: Any,
    ) -> Event:
        basis = "at_entry_into_force" if hostilities_ended_on is None else "later_contamination"
        payload = ObligationDeclared(
            state=iso3,
            article=article,
            obligation=obligation,
            basis=basis,
            hostilities_ended_on=hostilities_ended_on,
        )
        return self.event(payload, on, **kw)

    def compliance(
        self, iso3: str, article: int, on: When, meeting: str | None = None, **kw: Any
    ) -> Event:
        payload = ComplianceDeclared(state=iso3, article=article, meeting=meeting)
        return self.event(payload, on, **kw)

    def requested(
        self,
        iso3: str,
        article: int,
        meeting: str,
        on: When,
        requested_deadline: date | None = None,
        **kw: Any,
    ) -> Event:
        payload = ExtensionRequested(
            state=iso3,
            article=article,
            meeting=meeting,
            requested_deadline=requested_deadline,
        )
        return self.event(payload, on, **kw)

    def decided(
        self,
        iso3: str,
        article: int,
        meeting: str,
        on: When,
        granted_deadline: date | None = None,
        **kw: Any,
    ) -> Event:
        payload = ExtensionDecided(
            state=iso3,
            article=article,
            meeting=meeting,
            outcome="granted" if granted_deadline else "refused",
            granted_deadline=granted_deadline,
        )
        return self.event(payload, on, **kw)

    def meeting(self, meeting: str, start: date, end: date, **kw: Any) -> Event:
        payload = MeetingScheduled(
            meeting=meeting, name=f"{meeting} meeting", start_date=start, end_date=end
        )
        return self.event(payload, start, **kw)

    def rescheduled(self, meeting: str, start: date, end: date, on: When, **kw: Any) -> Event:
        payload = MeetingRescheduled(meeting=meeting, start_date=start, end_date=end)
        return self.event(payload, on, **kw)

    def coverage(
        self, subject: str, start: date, end: date, year_covered: int | None = None, **kw: Any
    ) -> Event:
        payload = CoverageDeclared(
            subject=subject,
            period_start=start,
            period_end=end,
            year_covered=year_covered,
        )
        return self.event(payload, end, **kw)

    def fact(self, iso3: str, fact: str, on: When, detail: str | None = None, **kw: Any) -> Event:
        payload = StateFactReported(state=iso3, fact=fact, detail=detail)
        return self.event(payload, on, **kw)

    def aggregate(
        self,
        figure: str,
        value: int | None,
        text: str,
        start: date | None = None,
        end: date | None = None,
        lap_action: str | None = None,
        **kw: Any,
    ) -> Event:
        payload = AggregatePublished(
            figure=figure,
            value=value,
            text=text,
            period_start=start,
            period_end=end,
            lap_action=lap_action,
        )
        return self.event(payload, end or date(2024, 9, 18), **kw)

    def retract(self, target: Event, recorded: datetime, reason: str = "source misread") -> Event:
        payload = EventRetracted(target_event_id=target.event_id, reason=reason)
        return self.event(payload, recorded.date(), recorded=recorded, stream=target.stream)

    def correct(
        self,
        target: Event,
        recorded: datetime,
        occurred_on: When | None = None,
        payload: dict[str, Any] | None = None,
        reason: str = "source corrected",
    ) -> Event:
        change = EventCorrected(
            target_event_id=target.event_id,
            reason=reason,
            occurred_on=occurred_on,
            payload=payload,
        )
        return self.event(change, recorded.date(), recorded=recorded, stream=target.stream)


@pytest.fixture(scope="session")
def build() -> Build:
    return Build()

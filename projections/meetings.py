"""Meetings of States Parties and Review Conferences, with their current dates.

A meeting's dates are those of its latest recorded rescheduling, if any, else of its latest
recorded scheduling (later knowledge wins). Meeting dates are not filtered by `as_of`: a
source records a meeting's dates, not the day they were set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from events.facts import Fact
from events.schema import MeetingRescheduled, MeetingScheduled
from projections.ledger import Facts, Ledger, MeetingRecord


@dataclass(frozen=True)
class MeetingView:
    meeting: str
    #: None when only a rescheduling is recorded.
    name: str | None
    start_date: date
    end_date: date
    place: str | None
    presidency: str | None
    rescheduled: bool
    #: The start date first scheduled, when the meeting was moved.
    original_start: date | None
    source: str


def meeting(ledger: Ledger, meeting_id: str) -> MeetingView | None:
    record = ledger.meetings.get(meeting_id)
    return None if record is None else _view(record)


def meetings(ledger: Ledger) -> tuple[MeetingView, ...]:
    """Every known meeting, in order of (current) start date."""
    views = [v for v in map(_view, ledger.meetings.values()) if v is not None]
    return tuple(sorted(views, key=lambda v: (v.start_date, v.meeting)))


def _latest(facts: Facts) -> Fact | None:
    return max(facts.values(), key=_knowledge_order, default=None)


def _knowledge_order(event: Fact) -> tuple[datetime, date, str]:
    return (event.recorded_at, event.occurred_on.not_after, str(event.event_id))


def _view(record: MeetingRecord) -> MeetingView | None:
    scheduled_event = _latest(record.scheduled)
    moved_event = _latest(record.rescheduled)
    scheduled = None if scheduled_event is None else cast(MeetingScheduled, scheduled_event.payload)
    if moved_event is not None:
        moved = cast(MeetingRescheduled, moved_event.payload)
        return MeetingView(
            meeting=record.meeting,
            name=None if scheduled is None else scheduled.name,
            start_date=moved.start_date,
            end_date=moved.end_date,
            place=moved.place or (None if scheduled is None else scheduled.place),
            presidency=None if scheduled is None else scheduled.presidency,
            rescheduled=True,
            original_start=None if scheduled is None else scheduled.start_date,
            source=moved_event.source,
        )
    if scheduled is None or scheduled_event is None:
        return None
    return MeetingView(
        meeting=record.meeting,
        name=scheduled.name,
        start_date=scheduled.start_date,
        end_date=scheduled.end_date,
        place=scheduled.place,
        presidency=scheduled.presidency,
        rescheduled=False,
        original_start=None,
        source=scheduled_event.source,
    )

"""Figures documents publish without naming States, and what the data declares it covers.

Published figures are kept apart from counts computed from State-level events and are always
labelled with their source, so a report can show both side by side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from events.schema import AggregatePublished, CoverageDeclared
from projections.ledger import Ledger


@dataclass(frozen=True)
class PublishedFigure:
    figure: str
    value: int | None
    text: str
    source: str
    lap_action: str | None
    period_start: date | None
    period_end: date | None
    published_on: date
    recorded_at: datetime
    event_id: uuid.UUID


def published_figures(
    ledger: Ledger, period_start: date | None = None, period_end: date | None = None
) -> tuple[PublishedFigure, ...]:
    """Published figures, by figure name; with a period, only those whose own period lies
    within it, and "to date" figures (no start) whose end lies within it. A figure recorded
    without any period matches only an unfiltered call."""
    figures = []
    for event in ledger.aggregates.values():
        payload = cast(AggregatePublished, event.payload)
        if period_start is not None or period_end is not None:
            if payload.period_end is None:
                continue
            # A figure with no start is a "to date" total: it belongs to the period its end
            # date falls in (e.g. "65 States Parties have adopted national measures").
            if (
                period_start is not None
                and (payload.period_start or payload.period_end) < period_start
            ):
                continue
            if period_end is not None and payload.period_end > period_end:
                continue
        figures.append(
            PublishedFigure(
                figure=payload.figure,
                value=payload.value,
                text=payload.text,
                source=event.source,
                lap_action=payload.lap_action,
                period_start=payload.period_start,
                period_end=payload.period_end,
                published_on=event.occurred_on.not_after,
                recorded_at=event.recorded_at,
                event_id=event.event_id,
            )
        )
    return tuple(sorted(figures, key=lambda f: (f.figure, f.published_on, str(f.event_id))))


@dataclass(frozen=True)
class Coverage:
    subject: str
    period_start: date
    period_end: date
    year_covered: int | None
    detail: str | None
    source: str
    event_id: uuid.UUID


def coverage_declarations(ledger: Ledger, subject: str | None = None) -> tuple[Coverage, ...]:
    """What the data declares complete, optionally for one subject ("annual_reports" …)."""
    found = []
    for event in ledger.coverage.values():
        payload = cast(CoverageDeclared, event.payload)
        if subject is not None and payload.subject != subject:
            continue
        found.append(
            Coverage(
                subject=payload.subject,
                period_start=payload.period_start,
                period_end=payload.period_end,
                year_covered=payload.year_covered,
                detail=payload.detail,
                source=event.source,
                event_id=event.event_id,
            )
        )
    return tuple(sorted(found, key=lambda c: (c.subject, c.period_start, str(c.event_id))))

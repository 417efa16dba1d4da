"""Outputs people use, as service-level functions the CLI and the bot share.

The progress report (Markdown, HTML, CSV, JSON), charts (PNG), the iCalendar feed of coming
deadlines and the deadlines list as an `Answer`. Each takes the `TrackerService` and explicit
times; "now" comes from the service's clock, never from here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from projections.deadlines import Deadline, upcoming_deadlines
from projections.indicators import Period
from tracker.aliases import display_name
from tracker.answers import Answer, Cell, cell
from tracker.calendar_export import deadlines_ics
from tracker.report import FORMATS, ProgressReport, compose_report, render, state_name
from tracker.service import QueryError, TrackerService

ChartKind = Literal["membership", "reports", "article4"]
CHARTS: tuple[str, ...] = ("membership", "reports", "article4")

#: How far ahead the calendar feed looks: two meeting cycles covers every kind of deadline
#: that can be computed from recorded facts without guessing future meetings.
ICS_HORIZON_DAYS = 2 * 366


def build_report(
    service: TrackerService, start: date, end: date, known_at: datetime | None = None
) -> ProgressReport:
    """The progress report for `start`..`end`, figures as of `end`, as known at `known_at`
    (default: now)."""
    if end < start:
        raise QueryError(f"the period ends ({end}) before it starts ({start})")
    moment = known_at or service.clock.now()
    items, known = service.indicator_set(start, end, moment)
    return compose_report(known.ledger, items, Period(start, end), moment, known.recorded_up_to)


def render_report(report: ProgressReport, fmt: str) -> str:
    """The report as text in `fmt` ("md", "html", "csv" or "json")."""
    if fmt not in FORMATS:
        raise QueryError(f"unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return render(report, fmt)


def chart_png(
    service: TrackerService,
    what: str,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> bytes:
    """One chart as PNG bytes: "membership", "reports" or "article4"."""
    day = as_of or service.today()
    moment = known_at or service.clock.now()
    known = service.known(moment)
    knowledge = f"As of {day.isoformat()}; data as recorded up to "
    knowledge += _recorded(known.recorded_up_to, moment)
    # matplotlib takes about a second to import: only the commands that draw pay for it.
    from tracker import charts

    if what == "membership":
        return charts.membership_chart(known.ledger, day, knowledge)
    if what == "reports":
        return charts.reports_chart(known.ledger, day, knowledge)
    if what == "article4":
        return charts.article4_chart(known.ledger, day, knowledge)
    raise QueryError(f"unknown chart {what!r}: choose one of {', '.join(CHARTS)}")


def _recorded(recorded_up_to: datetime | None, known_at: datetime) -> str:
    moment = min(recorded_up_to or known_at, known_at)
    return moment.date().isoformat()


def upcoming(
    service: TrackerService,
    days: int,
    as_of: date | None = None,
    known_at: datetime | None = None,
    state: str | None = None,
) -> tuple[tuple[Deadline, ...], date, datetime, datetime | None]:
    """Deadlines from `as_of` to `as_of + days`, optionally for one State (plus those for all
    States Parties), with the times they were computed for."""
    if days < 0:
        raise QueryError("--days must be zero or more")
    day = as_of or service.today()
    moment = known_at or service.clock.now()
    known = service.known(moment)
    found = upcoming_deadlines(known.ledger, day, day + timedelta(days=days))
    if state is not None:
        iso3 = service.resolve_state(state).iso3
        found = tuple(d for d in found if d.iso3 in (iso3, None))
    return found, day, moment, known.recorded_up_to


def deadlines(
    service: TrackerService,
    days: int = 90,
    as_of: date | None = None,
    known_at: datetime | None = None,
    state: str | None = None,
) -> Answer:
    """Coming deadlines as an answer (a list: renders as text, JSON or CSV)."""
    found, day, moment, recorded = upcoming(service, days, as_of, known_at, state)
    rows: tuple[dict[str, Cell], ...] = tuple(
        {
            "due": cell(d.due),
            "kind": d.kind,
            "iso3": d.iso3,
            "name": "all States Parties" if d.iso3 is None else state_name(d.iso3),
            "what": d.title,
            "detail": d.detail,
            "key": d.key,
        }
        for d in found
    )
    until = day + timedelta(days=days)
    who = "" if state is None else f" for {display_name(service.resolve_state(state).iso3)}"
    return Answer(
        kind="deadlines",
        title=f"Deadlines from {day.isoformat()} to {until.isoformat()}{who}",
        as_of=day,
        known_at=moment,
        recorded_up_to=recorded,
        value=len(rows),
        columns=("due", "kind", "iso3", "name", "what", "detail", "key"),
        rows=rows,
        notes=(
            "computed from the recorded events: a deadline the data cannot establish (a meeting "
            "not yet scheduled, a completion not yet recorded) is not listed",
        ),
        sources=tuple(dict.fromkeys(d.source_hint for d in found)),
        data={"until": until, "days": days},
    )


def calendar_ics(
    service: TrackerService,
    state: str | None = None,
    as_of: date | None = None,
    known_at: datetime | None = None,
    days: int = ICS_HORIZON_DAYS,
) -> bytes:
    """An iCalendar feed of every future deadline, for one State or for all."""
    found, _, moment, _ = upcoming(service, days, as_of, known_at, state)
    name = (
        "all States Parties" if state is None else display_name(service.resolve_state(state).iso3)
    )
    return deadlines_ics(found, calendar_name=f"CCM deadlines: {name}", generated=moment)

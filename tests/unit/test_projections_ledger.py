"""The Ledger fold: incremental apply equals a rebuild, and knowledge time is respected."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.schema import Event
from projections.asof import known_events
from projections.ledger import Ledger
from projections.membership import COUNTS, count, state_status
from projections.reporting import annual_status, overdue_initial

if TYPE_CHECKING:
    from conftest import Build

STATES = ("AAA", "BBB", "CCC")
KNOWLEDGE_TIMES = tuple(datetime(2020 + i, 1, 1, tzinfo=UTC) for i in range(6))


def test_applying_events_one_by_one_equals_rebuilding_from_zero(build: Build) -> None:
    events = [
        build.signed("DEU", "2008-12-03"),
        build.deposited("DEU", "2009-07-08"),
        build.obligation("DEU", 4),
        build.annual_report("DEU", 2023, "2024-04-30"),
    ]
    incremental = Ledger(known_at=None)

    for event in events:
        incremental.apply(event)

    assert incremental == Ledger.from_events(events)


def test_a_retracted_fact_leaves_the_ledger_as_if_never_seen(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03")
    ledger = Ledger.from_events([deposit, build.retract(deposit, recorded=build.utc(2025, 1, 1))])

    assert ledger == Ledger()


def test_another_conventions_events_are_left_out(build: Build) -> None:
    other = build.deposited("SSD", "2023-08-03", stream="apmbc:state:SSD")

    assert Ledger.from_events([other]) == Ledger()


def test_the_ledger_remembers_the_last_position_it_was_given(build: Build) -> None:
    event = build.deposited("SSD", "2023-08-03").model_copy(update={"position": 42})

    assert Ledger.from_events([event]).position == 42


# --- properties over random event sequences --------------------------------------------------

days = st.dates(min_value=date(2009, 1, 1), max_value=date(2026, 12, 31))
recorded_times = st.sampled_from(KNOWLEDGE_TIMES)
FACT_KINDS = (
    "signed",
    "deposited",
    "withdrew",
    "initial",
    "annual",
    "obligation",
    "compliance",
    "requested",
    "decided",
    "meeting",
    "rescheduled",
    "coverage",
)


def draw_events(draw: Any, build: Build) -> list[Event]:
    """Facts about a few States, with retractions, corrections (some invalid) and duplicates,
    recorded at assorted knowledge times, in an arbitrary position order."""
    events: list[Event] = []
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        recorded = draw(recorded_times)
        action = draw(st.sampled_from(("fact",) * 4 + ("retract", "correct", "repeat")))
        if action != "fact" and events:
            target = draw(st.sampled_from(events))
            if action == "repeat":
                events.append(target)
            elif action == "retract":
                events.append(build.retract(target, recorded=recorded))
            else:
                events.append(_correction(draw, build, target, recorded))
            continue
        events.append(_fact(draw, build, draw(st.sampled_from(FACT_KINDS)), recorded))
    return events


def _fact(draw: Any, build: Build, kind: str, recorded: datetime) -> Event:
    iso3 = draw(st.sampled_from(STATES))
    on = draw(days)
    year = draw(st.integers(min_value=2012, max_value=2024))
    meeting = draw(st.sampled_from(("11MSP", "12MSP", "13MSP")))
    article = draw(st.sampled_from((3, 4)))
    kw = {"recorded": recorded}
    match kind:
        case "signed":
            return build.signed(iso3, on, **kw)
        case "deposited":
            return build.deposited(iso3, on, **kw)
        case "withdrew":
            return build.withdrew(iso3, on, **kw)
        case "initial":
            return build.initial_report(iso3, on, **kw)
        case "annual":
            return build.annual_report(iso3, year, on, **kw)
        case "obligation":
            return build.obligation(iso3, article, on, **kw)
        case "compliance":
            return build.compliance(iso3, article, on, **kw)
        case "requested":
            return build.requested(iso3, article, meeting, on, **kw)
        case "decided":
            return build.decided(iso3, article, meeting, on, granted_deadline=on, **kw)
        case "meeting":
            return build.meeting(meeting, on, on, **kw)
        case "rescheduled":
            return build.rescheduled(meeting, on, on, on, **kw)
        case _:
            return build.coverage("annual_reports", on, on, year_covered=year, **kw)


def _correction(draw: Any, build: Build, target: Event, recorded: datetime) -> Event:
    if target.type == "report.annual.submitted" and draw(st.booleans()):
        year = draw(st.sampled_from((1900, 2019, 2023)))  # 1900 does not validate
        return build.correct(target, recorded, payload={"year_covered": year})
    return build.correct(target, recorded, occurred_on=draw(days))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_incremental_apply_from_any_split_point_equals_a_rebuild(
    build: Build, data: st.DataObject
) -> None:
    events = draw_events(data.draw, build)
    known_at = data.draw(st.sampled_from((None, *KNOWLEDGE_TIMES)))
    split = data.draw(st.integers(min_value=0, max_value=len(events)))
    resumed = Ledger.from_events(events[:split], known_at)

    for event in events[split:]:
        resumed.apply(event)

    assert resumed == Ledger.from_events(events, known_at)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from((None, *KNOWLEDGE_TIMES)))
def test_folding_corrections_incrementally_equals_folding_the_corrected_facts(
    build: Build, data: st.DataObject, known_at: datetime | None
) -> None:
    events = draw_events(data.draw, build)
    incremental = Ledger.from_events(events, known_at).snapshot()
    resolved = Ledger.from_events(known_events(events, known_at), known_at).snapshot()

    for snapshot in (incremental, resolved):
        snapshot.pop("problems")
    assert incremental == resolved


@settings(max_examples=150, deadline=None)
@given(st.data(), st.sampled_from(KNOWLEDGE_TIMES))
def test_an_event_recorded_after_known_at_never_changes_the_answers(
    build: Build, data: st.DataObject, known_at: datetime
) -> None:
    events = draw_events(data.draw, build)
    known_then = [e for e in events if e.recorded_at <= known_at]

    everything = Ledger.from_events(events, known_at)
    only_known = Ledger.from_events(known_then, known_at)

    assert everything == only_known
    as_of = date(2024, 6, 30)
    assert _answers(everything, as_of) == _answers(only_known, as_of)


def _answers(ledger: Ledger, as_of: date) -> tuple[object, ...]:
    return (
        tuple(count(ledger, what, as_of) for what in COUNTS),  # type: ignore[arg-type]
        tuple(state_status(ledger, iso3, as_of) for iso3 in STATES),
        overdue_initial(ledger, as_of),
        annual_status(ledger, 2023, as_of),
    )

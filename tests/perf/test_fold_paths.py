"""The fast paths give the answers of the plain ones (correctness only: no timing here).

On a generated history (bench/generate.py: several conventions, corrections, retractions of
corrections, imprecise dates, events appended out of knowledge order):

- events read through the trusted-row path equal those `parse_event` builds;
- a ledger updated incrementally, batch after batch, equals one rebuilt from zero;
- `Ledger.as_known_at` (what the service uses for an earlier knowledge time) answers the
  count, overdue and State questions exactly as a ledger folded from zero at that time;
- `recorded_up_to` keeps its meaning.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.generate import END_OF_HISTORY, generate
from events.schema import (
    ConsentDeposited,
    Event,
    EventCorrected,
    EventRetracted,
    InitialReportSubmitted,
    StateSigned,
    new_event,
    parse_event,
)
from events.sql import SqlEventStore
from events.store import StreamAppend
from projections import membership as mem
from projections import reporting as rep
from projections.ledger import STATE_TYPES, Ledger, Slice
from projections.timeline import state_profile, timeline
from tracker.clock import FixedClock
from tracker.service import _INITIAL, _MEMBERSHIP, TrackerService, _state_need

SHAPE = {"states": 12, "facts_per_year": 2, "correction_rate": 12.0}


@pytest.fixture(scope="module")
def history() -> list[Event]:
    return generate(2_500, seed=7, **SHAPE)


def _append(store: SqlEventStore, events: list[Event]) -> None:
    by_stream: dict[str, list[Event]] = {}
    for event in events:
        by_stream.setdefault(event.stream, []).append(event)
    store.append_many([StreamAppend(s, part, None) for s, part in by_stream.items()])


def test_the_generator_is_deterministic_and_every_event_validates(history: list[Event]) -> None:
    again = generate(2_500, seed=7, **SHAPE)
    assert [e.event_id for e in again] == [e.event_id for e in history]
    for event in history:
        assert parse_event(event.to_record()) == event
    types = {e.type for e in history}
    assert {EventCorrected.TYPE, EventRetracted.TYPE, ConsentDeposited.TYPE} <= types
    assert len({e.stream.split(":")[0] for e in history}) >= 2
    # Some events are appended after later-known ones (a backfill).
    assert any(a.recorded_at > b.recorded_at for a, b in itertools.pairwise(history))


def test_trusted_reads_equal_validated_reads(store: SqlEventStore, history: list[Event]) -> None:
    _append(store, history[:1_200])
    fast = list(store.read_all())
    assert [e.position for e in fast] == sorted(e.position for e in fast)
    slow = {e.event_id: e for s in {e.stream for e in fast} for e in store.read_stream(s)}
    for event in fast:
        reference = slow[event.event_id]
        assert event == reference
        assert type(event.payload) is type(reference.payload)
        assert event.recorded_at.tzinfo is UTC
        assert event.event_id.int == reference.event_id.int
        assert parse_event(event.to_record()) == event
    # A copy made the pydantic way still works on a trusted-row event.
    moved = fast[0].model_copy(update={"source": "elsewhere"})
    assert moved.source == "elsewhere" and fast[0].source != "elsewhere"


def test_incremental_refresh_equals_rebuild_from_zero(
    store: SqlEventStore, history: list[Event]
) -> None:
    service = TrackerService(store, FixedClock(END_OF_HISTORY))
    for start in range(0, len(history), 700):
        _append(store, history[start : start + 700])
        service.refresh()
    rebuilt = Ledger.from_events(store.read_all())
    assert service.known().ledger.snapshot() == rebuilt.snapshot()
    # Only the store's version and position tell the two apart.
    plain = Ledger.from_events(
        e.model_copy(update={"version": None, "position": None}) for e in store.read_all()
    )
    assert plain == Ledger.from_events(history)


def _moments(count: int, seed: int) -> list[tuple[date, datetime]]:
    rng = random.Random(seed)
    first = datetime(2008, 12, 1, tzinfo=UTC).timestamp()
    last = END_OF_HISTORY.timestamp()
    return [
        (
            date(2008, 6, 1) + timedelta(days=rng.randint(0, 11_000)),
            datetime.fromtimestamp(rng.uniform(first, last), UTC),
        )
        for _ in range(count)
    ]


def _same_answers(latest: Ledger, events: list[Event], day: date, moment: datetime) -> None:
    full = Ledger.from_events(events, moment)
    count = latest.as_known_at(moment, (_MEMBERSHIP,))
    for what in mem.COUNTS:
        assert mem.count(count, what, day) == mem.count(full, what, day)  # type: ignore[arg-type]
    overdue = latest.as_known_at(moment, (_INITIAL,))
    assert rep.overdue_initial(overdue, day) == rep.overdue_initial(full, day)
    assert overdue.coverage == full.coverage
    for iso3 in sorted(full.states)[:4]:
        one = latest.as_known_at(moment, _state_need(iso3))
        assert state_profile(one, iso3, day) == state_profile(full, iso3, day)
        assert timeline(one, iso3) == timeline(full, iso3)
        assert one.snapshot()["states"].get(iso3) == full.snapshot()["states"].get(iso3)
    everything = latest.as_known_at(moment)
    assert everything.snapshot() == full.snapshot()


def test_as_known_at_answers_as_a_fold_from_zero_at_that_time(history: list[Event]) -> None:
    latest = Ledger.from_events(history)
    for day, moment in _moments(12, seed=3):
        _same_answers(latest, history, day, moment)


def _at(day: int) -> datetime:
    return datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day)


def test_as_known_at_follows_a_fact_a_correction_moves_to_another_state() -> None:
    def event(payload: object, on: date, recorded: datetime, **kw: object) -> Event:
        return new_event(
            payload,  # type: ignore[arg-type]
            occurred_on=on,
            recorded_at=recorded,
            recorded_by="test",
            source="test source",
            **kw,  # type: ignore[arg-type]
        )

    lbn = event(ConsentDeposited(state="LBN", instrument="ratification"), date(2011, 1, 5), _at(0))
    wrong = event(
        ConsentDeposited(state="LAO", instrument="ratification"), date(2012, 3, 1), _at(1)
    )
    lbn_signed = event(StateSigned(state="LBN"), date(2008, 12, 3), _at(2))
    report = event(
        InitialReportSubmitted(state="LBN"), date(2012, 1, 1), _at(3), event_id=uuid.uuid4()
    )
    # The correction of the report arrives before the report itself (an import out of order).
    early = event(
        EventCorrected(
            target_event_id=report.event_id, reason="date", occurred_on=date(2011, 12, 1)
        ),
        date(2020, 1, 10),
        _at(4),
        stream=report.stream,
    )
    moved = event(
        EventCorrected(target_event_id=wrong.event_id, reason="state", payload={"state": "MLI"}),
        date(2020, 1, 20),
        _at(20),
        stream=wrong.stream,
    )
    undone = event(
        EventRetracted(target_event_id=moved.event_id, reason="was right"),
        date(2020, 2, 1),
        _at(40),
        stream=wrong.stream,
    )
    events = [lbn, wrong, lbn_signed, early, report, moved, undone]
    events = [e.model_copy(update={"position": i}) for i, e in enumerate(events, 1)]
    latest = Ledger.from_events(events)
    for moment in (_at(0), _at(3), _at(4), _at(19), _at(20), _at(39), _at(40), _at(99)):
        for day in (date(2011, 12, 15), date(2013, 1, 1), date(2030, 1, 1)):
            _same_answers(latest, events, day, moment)
        mli = latest.as_known_at(moment, (Slice(STATE_TYPES, frozenset({"MLI"})),))
        full = Ledger.from_events(events, moment)
        assert mli.snapshot()["states"].get("MLI") == full.snapshot()["states"].get("MLI")


def test_recorded_up_to_is_the_newest_knowledge_time_not_after_the_question(
    store: SqlEventStore, history: list[Event]
) -> None:
    _append(store, history)
    service = TrackerService(store, FixedClock(END_OF_HISTORY))
    times = sorted(e.recorded_at for e in history)
    for _, moment in _moments(20, seed=5):
        expected = max((t for t in times if t <= moment), default=None)
        assert service.known(moment).recorded_up_to == expected
        assert service.count("parties", date(2020, 1, 1), moment).recorded_up_to == expected
    assert service.known().recorded_up_to == times[-1]


def test_the_stored_payload_text_is_what_pydantic_writes(history: list[Event]) -> None:
    from events.sql import _payload_json

    for event in history:
        assert _payload_json(event.payload) == event.payload.model_dump_json()


def test_appended_events_carry_the_positions_they_are_read_back_with(
    store: SqlEventStore, history: list[Event]
) -> None:
    _append(store, history[:300])
    by_stream: dict[str, list[Event]] = {}
    for event in history[300:1_300]:
        by_stream.setdefault(event.stream, []).append(event)

    stored = store.append_many([StreamAppend(s, part, None) for s, part in by_stream.items()])

    read = {e.event_id: (e.position, e.version) for e in store.read_all(after=300)}
    assert {e.event_id: (e.position, e.version) for e in stored} == read

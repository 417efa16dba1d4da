"""Ledger checkpoints: a service that starts from one ends where a fold from zero ends.

The checkpoint store is a cache keyed by (projection, position, code version): a round trip
gives back an equal ledger, a service resumed from it and fed more events equals a fresh
fold, a checkpoint of other code is never read, and the unpickler refuses anything that is
not part of a ledger.
"""

from __future__ import annotations

import decimal
import pickle
from array import array
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bench.generate import END_OF_HISTORY, generate
from events.dates import DateRange
from events.schema import Event
from events.sql import SqlEventStore
from events.store import StreamAppend
from projections.ledger import Ledger
from tracker.clock import FixedClock
from tracker.service import SavedLedger, TrackerService
from tracker.stores.checkpoints import SqlCheckpointStore, checkpoints, dumps, loads

SHAPE = {"states": 10, "facts_per_year": 2, "correction_rate": 12.0}


@pytest.fixture(scope="module")
def history() -> list[Event]:
    return generate(1_800, seed=11, **SHAPE)


@pytest.fixture
def saved(store: SqlEventStore, db_url: Any) -> Iterator[SqlCheckpointStore]:
    checkpoint_store = SqlCheckpointStore(db_url.url, db_url.schema)
    try:
        yield checkpoint_store
    finally:
        checkpoint_store.close()


def _append(store: SqlEventStore, events: list[Event]) -> None:
    by_stream: dict[str, list[Event]] = {}
    for event in events:
        by_stream.setdefault(event.stream, []).append(event)
    store.append_many([StreamAppend(s, part, None) for s, part in by_stream.items()])


def _service(store: SqlEventStore, saved: SqlCheckpointStore | None) -> TrackerService:
    return TrackerService(store, FixedClock(END_OF_HISTORY), checkpoints=saved)


def test_a_round_trip_gives_back_an_equal_ledger(history: list[Event]) -> None:
    ledger = Ledger.from_events(history)
    copy = loads(dumps(SavedLedger(ledger, array("q", [1, 2]), history[-1].recorded_at)))
    assert copy.ledger == ledger
    assert copy.ledger.as_known_at(END_OF_HISTORY) == ledger.as_known_at(END_OF_HISTORY)
    moment = history[len(history) // 2].recorded_at
    assert copy.ledger.as_known_at(moment) == Ledger.from_events(history, moment)
    # Rebuilt events behave as events: copies, records, comparisons.
    event = next(iter(copy.ledger._knowledge.effective()))
    assert event.model_copy(update={"source": "x"}).source == "x"
    assert event.to_record()["event_id"] == str(event.event_id)


def test_a_service_resumed_from_a_checkpoint_equals_a_fold_from_zero(
    store: SqlEventStore, saved: SqlCheckpointStore, history: list[Event]
) -> None:
    half = len(history) // 2
    _append(store, history[:half])
    first = _service(store, saved)
    first.save_checkpoint()
    assert saved.positions(first.projection) == [store.head_position()]
    _append(store, history[half:])

    resumed = _service(store, saved)
    assert resumed.refresh() == len(history) - half  # only what came after the checkpoint
    fresh = _service(store, None)
    fresh.refresh()
    assert resumed.known().ledger == fresh.known().ledger
    assert resumed.known().recorded_up_to == fresh.known().recorded_up_to
    day = date(2020, 6, 30)
    for event in history[::300]:
        moment = event.recorded_at
        assert resumed.count("parties", day, moment) == fresh.count("parties", day, moment)
        assert resumed.state("AFG", day, moment) == fresh.state("AFG", day, moment)
        assert resumed.overdue_initial(day, moment) == fresh.overdue_initial(day, moment)


def test_only_the_newest_checkpoints_of_the_running_code_are_kept_and_read(
    store: SqlEventStore, saved: SqlCheckpointStore, db_url: Any, history: list[Event]
) -> None:
    service = _service(store, saved)
    for part in (history[:600], history[600:1200], history[1200:]):
        _append(store, part)
        service.save_checkpoint()
    assert saved.positions(service.projection) == sorted(
        [store.head_position(), 1200], reverse=True
    )
    # A checkpoint at a position the store does not have yet is not used.
    assert saved.load(service.projection, 1199) is None
    # Another code version's rows are neither read nor kept.
    engine = db_url.engine()
    try:
        with engine.begin() as connection:
            connection.execute(
                checkpoints.update().values(code_version="older-code"),
            )
    finally:
        engine.dispose()
    assert saved.load(service.projection, store.head_position()) is None
    restarted = _service(store, saved)
    assert restarted.refresh() == len(history)  # folded from zero
    restarted.save_checkpoint()
    assert saved.positions(service.projection) == [store.head_position()]


def test_the_unpickler_refuses_anything_but_a_ledger() -> None:
    with pytest.raises(pickle.UnpicklingError):
        loads(pickle.dumps(decimal.Decimal(1)))
    with pytest.raises(pickle.UnpicklingError):
        loads(pickle.dumps({"not": "a checkpoint"}))


class _FrozenDate(date):
    """Like freezegun's FakeDate: what `date` is in a module first imported under freeze_time."""


def test_a_date_of_a_date_subclass_is_saved_as_a_plain_date(history: list[Event]) -> None:
    odd = history[0].model_copy(
        update={"occurred_on": DateRange(_FrozenDate(2010, 1, 5), _FrozenDate(2010, 1, 6))}
    )
    ledger = Ledger.from_events([odd, *history[1:]])

    copy = loads(dumps(SavedLedger(ledger, array("q", [1]), history[-1].recorded_at)))

    assert copy.ledger == ledger
    (restored,) = [e for e in copy.ledger._knowledge.effective() if e.event_id == odd.event_id]
    assert type(restored.occurred_on.not_before) is date

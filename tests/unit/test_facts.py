"""StoredEvent, the lean form a fold reads, stands for the validated Event it was stored as."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime

import pytest

from events.dates import DateRange
from events.errors import InvalidEvent
from events.facts import StoredEvent, state_of
from events.schema import ConsentDeposited, MeetingScheduled, new_event


def _deposit() -> tuple[StoredEvent, object]:
    event = new_event(
        ConsentDeposited(state="LBN", instrument="ratification"),
        occurred_on=date(2010, 11, 5),
        recorded_at=datetime(2024, 9, 18, 11, 30, tzinfo=UTC),
        recorded_by="isu-desk",
        source="CCM/MSP/2024/7",
    )
    stored = StoredEvent(
        event.event_id.int,
        event.stream,
        3,
        41,
        event.type,
        event.schema_version,
        event.occurred_on,
        event.recorded_at,
        event.recorded_by,
        event.source,
        event.payload.model_dump_json(),
        "LBN",
    )
    return stored, event.replace(version=3, position=41)


def test_a_stored_event_equals_the_event_it_was_stored_as() -> None:
    stored, event = _deposit()

    assert stored == event
    assert stored.to_event() == event
    assert stored.event_id == event.event_id  # type: ignore[attr-defined]
    assert stored.to_record() == event.to_record()  # type: ignore[attr-defined]
    assert stored.convention == "ccm"


def test_a_changed_copy_of_a_stored_event_is_a_validated_event_and_leaves_it_alone() -> None:
    stored, _ = _deposit()

    moved = stored.replace(occurred_on=DateRange(date(2010, 1, 1), date(2010, 12, 31)))

    assert moved.occurred_on.not_before == date(2010, 1, 1)
    assert stored.occurred_on.not_before == date(2010, 11, 5)


def test_a_stored_event_survives_pickling_for_a_checkpoint() -> None:
    stored, _ = _deposit()

    assert pickle.loads(pickle.dumps(stored)) == stored


def test_a_payload_that_no_longer_validates_names_the_stored_event() -> None:
    stored, _ = _deposit()
    broken = StoredEvent(*(stored.__reduce__()[1][:10]), '{"state":"LBN"}', "LBN")

    with pytest.raises(InvalidEvent, match=r"at position 41: payload.instrument: Field required"):
        _ = broken.payload


@pytest.mark.parametrize(
    ("type_name", "payload", "state"),
    [
        ("state.consent_deposited", '{"state":"LBN","instrument":"accession"}', "LBN"),
        ("state.signed", '{"state":"LBN"}', "LBN"),
        ("state.consent_deposited", '{"instrument":"accession","state":"FRA"}', "FRA"),
        ("state.signed", '{ "state" : "NOR" }', "NOR"),
        (MeetingScheduled.TYPE, '{"meeting":"12MSP"}', None),
    ],
)
def test_the_state_is_read_from_the_payload_whatever_its_layout(
    type_name: str, payload: str, state: str | None
) -> None:
    assert state_of(type_name, payload) == state

"""Knowledge time: what was known at `known_at`, with retractions and corrections applied."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pytest

from events.dates import DateRange
from projections.asof import Knowledge, known_events
from projections.ledger import Ledger
from projections.membership import state_status

if TYPE_CHECKING:
    from conftest import Build


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


K = utc(2025, 1, 15)
BEFORE_K = utc(2025, 1, 14)


def test_an_event_recorded_after_known_at_is_not_known(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03", recorded=utc(2023, 8, 7))

    assert known_events([deposit], known_at=utc(2023, 8, 6)) == []
    assert known_events([deposit], known_at=utc(2023, 8, 7)) == [deposit]


def test_everything_is_known_when_known_at_is_none(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03", recorded=utc(2099, 1, 1))

    assert known_events([deposit], known_at=None) == [deposit]


def test_a_retraction_removes_its_target_from_its_knowledge_time_on(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03", recorded=utc(2023, 8, 7))
    retraction = build.retract(deposit, recorded=K)
    events = [deposit, retraction]

    assert known_events(events, known_at=BEFORE_K) == [deposit]
    assert known_events(events, known_at=K) == []
    assert known_events(events, known_at=utc(2030, 1, 1)) == []


def test_a_correction_replaces_the_date_from_its_knowledge_time_on(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-02", recorded=utc(2023, 8, 7))
    correction = build.correct(deposit, recorded=K, occurred_on="2023-08-03")
    events = [deposit, correction]

    (before,) = known_events(events, known_at=BEFORE_K)
    (after,) = known_events(events, known_at=K)

    assert before.occurred_on == DateRange.exact(date(2023, 8, 2))
    assert after.occurred_on == DateRange.exact(date(2023, 8, 3))
    assert after.event_id == deposit.event_id


def test_a_correction_merges_its_payload_over_the_target_and_revalidates(build: Build) -> None:
    report = build.annual_report("BEL", 2022, "2024-04-12", form_version="original")
    correction = build.correct(report, recorded=K, payload={"year_covered": 2023})

    (corrected,) = known_events([report, correction], known_at=K)

    assert corrected.payload.year_covered == 2023  # type: ignore[attr-defined]
    assert corrected.payload.form_version == "original"  # type: ignore[attr-defined]


def test_a_correction_that_does_not_validate_is_set_aside_and_named(build: Build) -> None:
    report = build.annual_report("BEL", 2023, "2024-04-12")
    bad = build.correct(report, recorded=K, payload={"year_covered": 1900})
    knowledge = Knowledge(K)

    for event in (report, bad):
        knowledge.admit(event)

    assert knowledge.effective() == [report]
    assert bad.event_id in knowledge.problems


def test_retracting_a_correction_restores_the_original(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-02")
    correction = build.correct(deposit, recorded=K, occurred_on="2023-08-03")
    undo = build.retract(correction, recorded=utc(2025, 2, 1))
    events = [deposit, correction, undo]

    assert known_events(events, known_at=K)[0].occurred_on.not_before == date(2023, 8, 3)
    assert known_events(events, known_at=utc(2025, 2, 1)) == [deposit]


def test_retracting_a_retraction_brings_the_fact_back(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03")
    retraction = build.retract(deposit, recorded=K)
    undo = build.retract(retraction, recorded=utc(2025, 2, 1))
    events = [deposit, retraction, undo]

    assert known_events(events, known_at=K) == []
    assert known_events(events, known_at=utc(2025, 2, 1)) == [deposit]


def test_a_retraction_stored_before_its_target_still_removes_it(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03", recorded=utc(2023, 8, 7))
    retraction = build.retract(deposit, recorded=K)

    assert known_events([retraction, deposit], known_at=K) == []


def test_several_corrections_apply_in_order(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-01")
    first = build.correct(deposit, recorded=K, occurred_on="2023-08-02")
    second = build.correct(deposit, recorded=utc(2025, 2, 1), payload={"instrument": "accession"})

    (current,) = known_events([deposit, first, second], known_at=utc(2025, 3, 1))

    assert current.occurred_on.not_before == date(2023, 8, 2)
    assert current.payload.instrument == "accession"  # type: ignore[attr-defined]


def test_the_same_event_admitted_twice_counts_once(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-03")

    assert known_events([deposit, deposit], known_at=None) == [deposit]


def test_a_naive_known_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Knowledge(datetime(2024, 9, 18))


def test_the_ledger_applies_a_retraction_only_from_its_knowledge_time(build: Build) -> None:
    events = [
        build.signed("LTU", "2008-12-03"),
        deposit := build.deposited("LTU", "2011-03-24"),
        build.retract(deposit, recorded=K),
    ]

    assert state_status(Ledger.from_events(events, BEFORE_K), "LTU", date(2024, 6, 30)).is_party
    after = state_status(Ledger.from_events(events, K), "LTU", date(2024, 6, 30))
    assert after.status == "signatory"


def test_a_retracted_bad_correction_is_no_longer_a_problem(build: Build) -> None:
    report = build.annual_report("BEL", 2023, "2024-04-12")
    bad = build.correct(report, recorded=K, payload={"year_covered": 1900})
    knowledge = Knowledge(None)

    for event in (report, bad, build.retract(bad, recorded=utc(2025, 2, 1))):
        knowledge.admit(event)

    assert knowledge.problems == {}
    assert knowledge.corrections_of(report.event_id) == ()

"""Recording through the service: roles, treaty rules, expected versions, corrections."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from events.schema import (
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    EventCorrected,
    EventRetracted,
    ExtensionDecided,
    InitialReportSubmitted,
    StateSigned,
)
from events.sql import SqlEventStore
from tracker.clock import FixedClock, SystemClock
from tracker.config import Role
from tracker.importer import load_bundled
from tracker.recording import Actor, PermissionDenied, Recorder, RuleViolation
from tracker.service import TrackerService

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
RECORDER = Actor("telegram:222 (ana)", Role.RECORDER)
VIEWER = Actor("telegram:333 (bo)", Role.VIEWER)


@pytest.fixture
def service(store: SqlEventStore) -> Iterator[TrackerService]:
    load_bundled(store)
    yield TrackerService(store, FixedClock(NOW))


@pytest.fixture
def recorder(service: TrackerService) -> Recorder:
    return Recorder(service)


def test_a_recorder_stores_an_annual_report_with_who_recorded_it(
    recorder: Recorder, service: TrackerService
) -> None:
    payload = AnnualReportSubmitted(state="TGO", year_covered=2023, form_version="revised")

    stored = recorder.record(RECORDER, payload, "2025-01-10", "note verbale 2025/12")

    assert stored.position is not None and stored.version is not None
    assert stored.recorded_by == "telegram:222 (ana)"
    assert stored.recorded_at == NOW
    assert service.store.read_stream("ccm:state:TGO")[-1].event_id == stored.event_id


def test_a_viewer_cannot_record_anything(recorder: Recorder, service: TrackerService) -> None:
    before = service.store.head_position()

    with pytest.raises(PermissionDenied, match="viewer"):
        recorder.record(
            VIEWER, AnnualReportSubmitted(state="AUT", year_covered=2023), "2025-01-10", "x"
        )

    assert service.store.head_position() == before


@pytest.mark.parametrize(
    ("payload", "occurred_on", "reason"),
    [
        (AnnualReportSubmitted(state="AGO", year_covered=2023), "2024-05-01", "not a State Party"),
        (
            AnnualReportSubmitted(state="SSD", year_covered=2022),
            "2024-05-01",
            "not a State Party in 2022",
        ),
        (AnnualReportSubmitted(state="DEU", year_covered=2023), "2024-05-01", "already recorded"),
        (
            AnnualReportSubmitted(state="TGO", year_covered=2024),
            "2024-12-01",
            "cannot be submitted before",
        ),
        (InitialReportSubmitted(state="DEU"), "2024-05-01", "already recorded"),
        (
            ComplianceDeclared(state="FRA", article=4),
            "2024-05-01",
            "no recorded Article 4 obligation",
        ),
        (ComplianceDeclared(state="BIH", article=4), "2024-05-01", "already declared compliance"),
        (
            ExtensionDecided(state="CHL", article=4, meeting="11MSP", outcome="refused"),
            "2023-09-14",
            "no extension request",
        ),
        (
            ConsentDeposited(state="DEU", instrument="ratification"),
            "2024-05-01",
            "already deposited",
        ),
        (StateSigned(state="USA"), "2012-01-01", "open for signature"),
        (AnnualReportSubmitted(state="TGO", year_covered=2024), "2025-06-01", "in the future"),
    ],
)
def test_an_event_that_contradicts_the_record_is_refused_and_nothing_is_stored(
    recorder: Recorder, service: TrackerService, payload: object, occurred_on: str, reason: str
) -> None:
    before = service.store.head_position()

    with pytest.raises(RuleViolation, match=reason):
        recorder.record(RECORDER, payload, occurred_on, "test")  # type: ignore[arg-type]

    assert service.store.head_position() == before


def test_a_retraction_removes_a_fact_only_from_the_time_it_was_recorded(
    store: SqlEventStore,
) -> None:
    load_bundled(store)
    clock = FixedClock(NOW)
    service = TrackerService(store, clock)
    recorder = Recorder(service)
    report = recorder.record(
        RECORDER, AnnualReportSubmitted(state="AUT", year_covered=2023), "2025-01-10", "x"
    )
    clock.set(datetime(2025, 2, 1, tzinfo=UTC))

    recorder.record(
        RECORDER,
        EventRetracted(target_event_id=report.event_id, reason="sent by mistake"),
        "2025-02-01",
        "ISU email",
    )

    def togo_2023(known_at: datetime) -> bool:
        rows = service.annual(2023, date(2025, 1, 31), known_at).rows
        return any(r["iso3"] == "AUT" for r in rows if r["status"] != "missing")

    assert togo_2023(datetime(2025, 1, 20, tzinfo=UTC)) is True
    assert togo_2023(datetime(2025, 2, 2, tzinfo=UTC)) is False


def test_a_correction_of_a_date_applies_from_its_knowledge_time(store: SqlEventStore) -> None:
    load_bundled(store)
    clock = FixedClock(NOW)
    service = TrackerService(store, clock)
    recorder = Recorder(service)
    report = recorder.record(
        RECORDER, AnnualReportSubmitted(state="AUT", year_covered=2023), "2025-01-10", "x"
    )
    clock.set(datetime(2025, 2, 1, tzinfo=UTC))

    recorder.record(
        RECORDER,
        EventCorrected(target_event_id=report.event_id, reason="typo", occurred_on="2024-04-10"),
        "2025-02-01",
        "ISU email",
    )

    def togo(known_at: datetime) -> str:
        rows = service.annual(2023, date(2025, 3, 1), known_at).rows
        return next(str(r["submitted"]) for r in rows if r["iso3"] == "AUT")

    assert togo(datetime(2025, 1, 20, tzinfo=UTC)) == "2025-01-10"
    assert togo(datetime(2025, 2, 2, tzinfo=UTC)) == "2024-04-10"


def test_retracting_an_event_that_does_not_exist_is_refused(recorder: Recorder) -> None:
    missing = EventRetracted(
        target_event_id="00000000-0000-4000-8000-000000000000",  # type: ignore[arg-type]
        reason="x",
    )

    with pytest.raises(RuleViolation, match="no event"):
        recorder.record(RECORDER, missing, "2025-01-10", "x")


def test_without_dates_a_question_is_about_today_as_known_now(store: SqlEventStore) -> None:
    load_bundled(store)
    service = TrackerService(store, SystemClock())

    with freeze_time("2025-04-01 12:00:00"):
        answer = service.count("parties")

    assert answer.as_of == date(2025, 4, 1)
    assert answer.value == 111  # Lithuania's withdrawal took effect on 2025-03-06
    assert "LTU" not in {r["iso3"] for r in answer.rows}

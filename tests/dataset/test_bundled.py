"""The bundled CCM dataset: valid, sourced, idempotent, and consistent with the 12MSP figures.

The counts below are plain counts of the names behind each acceptance figure, taken straight
from the events (no projections): they pin the dataset, not the code that will fold it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from events.schema import (
    AggregatePublished,
    AnnualReportSubmitted,
    ComplianceDeclared,
    ConsentDeposited,
    CoverageDeclared,
    Event,
    ExtensionRequested,
    InitialReportSubmitted,
    MeetingScheduled,
    ObligationDeclared,
    StateFactReported,
    StateSigned,
    WithdrawalNotified,
)
from events.store import EventStore
from tracker.importer import BUNDLED_FILES, bundled_events, load_bundled

from .fakes import InMemoryStore

ROOT = Path(__file__).resolve().parents[2]
REPORT_KNOWN = datetime(2024, 9, 18, tzinfo=UTC)
PERIOD_START, PERIOD_END = date(2023, 7, 1), date(2024, 6, 30)
CITES_PARAGRAPH = re.compile(r"CCM/MSP/2024/7 para \d+")


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return bundled_events()


def known(events: list[Event], at: datetime = REPORT_KNOWN) -> list[Event]:
    return [e for e in events if e.recorded_at <= at]


def of(events: list[Event], kind: type) -> list[Event]:
    return [e for e in events if isinstance(e.payload, kind)]


def states(events: list[Event]) -> set[str]:
    return {e.state for e in events}


def in_period(e: Event) -> bool:
    return e.occurred_on.not_before >= PERIOD_START and e.occurred_on.not_after <= PERIOD_END


# --- validity and sources -------------------------------------------------------------------------


def test_every_bundled_event_parses_and_has_a_source(events: list[Event]) -> None:
    assert len(events) > 600
    assert len({e.event_id for e in events}) == len(events)
    for e in events:
        assert e.source.strip(), e
        assert e.recorded_by == "dataset:ccm"
        assert e.version is None and e.position is None


def test_report_derived_events_cite_a_paragraph_and_the_report_date(events: list[Event]) -> None:
    report = [e for e in events if e.recorded_at == REPORT_KNOWN]
    assert len(report) > 300
    for e in report:
        assert CITES_PARAGRAPH.search(e.source), e.source


def test_bundled_files_are_the_generator_output() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_dataset.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_bundled_file_is_loaded() -> None:
    shipped = {p.name for p in (ROOT / "tracker" / "data" / "ccm").glob("*.jsonl")}
    assert shipped == set(BUNDLED_FILES)


def test_later_facts_are_not_known_at_the_report_date(events: list[Event]) -> None:
    vanuatu = [e for e in of(events, ConsentDeposited) if e.state == "VUT"]
    (withdrawal,) = of(events, WithdrawalNotified)
    assert withdrawal.payload.state == "LTU"
    assert str(withdrawal.occurred_on) == "2024-09-06"
    for e in [*vanuatu, withdrawal]:
        assert e.recorded_at > REPORT_KNOWN
    for e in of(events, ExtensionRequested):
        if e.payload.meeting == "13MSP":
            assert e.recorded_at > REPORT_KNOWN


def test_assumed_signature_days_are_stored_as_bounds(events: list[Event]) -> None:
    signed = {e.state: e for e in of(events, StateSigned)}
    assert str(signed["ESP"].occurred_on) == "2008-12-03..2008-12-04"
    assert str(signed["MDA"].occurred_on) == "2008-12-03"


def test_meetings(events: list[Event]) -> None:
    meetings = {e.payload.meeting: e.payload for e in of(events, MeetingScheduled)}
    assert len(meetings) == 16
    assert meetings["12MSP"].start_date == date(2024, 9, 10)


# --- loading ----------------------------------------------------------------------------------


def test_load_bundled_twice_adds_nothing() -> None:
    store = InMemoryStore()
    progress: list[tuple[int, int]] = []
    first = load_bundled(store, progress=lambda d, t: progress.append((d, t)))
    assert first.added == len(store.events) == first.read
    assert store.append_calls == 1
    assert progress[-1][0] == progress[-1][1] == first.read
    second = load_bundled(store)
    assert (second.added, second.already_present) == (0, first.added)


def test_load_bundled_into_the_sql_store(store: EventStore) -> None:
    first = load_bundled(store)
    assert first.added > 600 and first.refused == ()
    assert load_bundled(store).added == 0
    assert store.head_position() == first.added


# --- the acceptance figures, counted from the names -------------------------------------------


def test_membership_as_of_30_june_2024(events: list[Event]) -> None:
    now = known(events)
    deposited = {
        e.state: e.occurred_on.not_after
        for e in of(now, ConsentDeposited)
        if e.occurred_on.not_after <= PERIOD_END
    }
    signed = {e.state for e in of(now, StateSigned) if e.occurred_on.not_after <= PERIOD_END}
    assert of(now, WithdrawalNotified) == []
    assert len(deposited) == 112
    signatories = signed - set(deposited)
    assert len(signatories) == 12
    assert len(signatories | set(deposited)) == 124
    new = {s for s, d in deposited.items() if d >= PERIOD_START}
    assert new == {"SSD"}


def test_initial_reports(events: list[Event]) -> None:
    now = known(events)
    parties = {
        e.state: e.occurred_on.not_after
        for e in of(now, ConsentDeposited)
        if e.occurred_on.not_after <= PERIOD_END
    }
    initial = of(now, InitialReportSubmitted)
    assert len(states(initial)) == len(initial) == 105
    assert states([e for e in initial if in_period(e)]) == {"NGA", "SSD"}
    owed = set(parties) - states(initial)
    assert owed == {"CPV", "COM", "TGO", "COG", "GIN", "RWA", "MDG"}


def test_annual_reports_2023(events: list[Event]) -> None:
    now = known(events)
    parties = {
        e.state: e.occurred_on.not_after
        for e in of(now, ConsentDeposited)
        if e.occurred_on.not_after <= PERIOD_END
    }
    # Bound on 1 January 2023 means in force by then: deposit by 31 July 2022 (Art. 17(2)).
    bound = {s for s, d in parties.items() if d <= date(2022, 7, 31)}
    with_initial = states(of(now, InitialReportSubmitted))
    assert len(bound & with_initial) == 103
    annual = [e for e in of(now, AnnualReportSubmitted) if e.payload.year_covered == 2023]
    assert len(annual) == len(states(annual)) == 51
    assert states(annual) <= bound & with_initial
    on_time = [e for e in annual if e.occurred_on.not_after <= date(2024, 4, 30)]
    late = [e for e in annual if e.occurred_on.not_before > date(2024, 4, 30)]
    assert (len(on_time), len(late)) == (39, 12)
    assert all(e.occurred_on.not_after <= PERIOD_END for e in annual)


def test_revised_form_and_gender_reporting(events: list[Event]) -> None:
    now = known(events)
    reports = of(now, AnnualReportSubmitted) + of(now, InitialReportSubmitted)
    revised = states([e for e in reports if e.payload.form_version == "revised"])
    assert len(revised) == 24
    facts = defaultdict(set)
    for e in of(now, StateFactReported):
        facts[e.payload.fact].add(e.state)
    assert len(facts["used_form_j"]) == 9
    assert facts["used_form_j"] <= revised
    assert len(facts["gender_in_other_forms"]) == 5
    assert len(facts["has_cluster_munition_victims"]) == 12
    assert (len(facts["provided_assistance"]), len(facts["received_assistance"])) == (23, 13)
    assert len(facts["disseminated_obligations"]) == 22
    assert len(facts["retains_cluster_munitions"]) == 11


def test_overdue_earlier_reports_submitted_in_the_period(events: list[Event]) -> None:
    earlier = [
        e
        for e in of(known(events), AnnualReportSubmitted)
        if e.payload.year_covered < 2023 and in_period(e)
    ]
    assert len(states(earlier)) == 16


def test_obligations_and_compliance(events: list[Event]) -> None:
    now = known(events)
    by_article: dict[int, set[str]] = defaultdict(set)
    for e in of(now, ObligationDeclared):
        by_article[e.payload.article].add(e.state)
    complied: dict[int, dict[str, Event]] = defaultdict(dict)
    for e in of(now, ComplianceDeclared):
        if e.occurred_on.not_after <= PERIOD_END:
            complied[e.payload.article][e.state] = e
    art3_in_period = {s for s, e in complied[3].items() if in_period(e)}
    assert art3_in_period == {"BGR", "PER", "SVK", "ZAF"}
    assert by_article[3] - set(complied[3]) == set()
    open_art4 = by_article[4] - set(complied[4])
    assert open_art4 == {"AFG", "TCD", "CHL", "DEU", "IRQ", "LAO", "LBN", "MRT", "SOM", "SSD"}
    art4_in_period = {s: e for s, e in complied[4].items() if in_period(e)}
    assert list(art4_in_period) == ["BIH"]
    assert str(art4_in_period["BIH"].occurred_on) == "2023-08-31"


def test_extension_requests_for_12msp_none_on_time(events: list[Event]) -> None:
    requests = [e for e in of(known(events), ExtensionRequested) if e.payload.meeting == "12MSP"]
    assert states(requests) == {"TCD", "DEU", "LAO"}
    cutoff = date(2023, 12, 10)  # 12MSP opened 10 Sep 2024; nine months earlier
    assert all(e.occurred_on.not_before > cutoff for e in requests)


def test_published_figures_and_coverage(events: list[Event]) -> None:
    figures = {e.payload.figure: e.payload for e in of(events, AggregatePublished)}
    assert figures["lap.a47.all_national_measures"].value == 65
    assert figures["lap.a43.reports_by_30_april"].lap_action == "Action 43"
    assert figures["lap.a09.contributions_on_time"].value is None
    subjects = {e.payload.subject for e in of(known(events), CoverageDeclared)}
    assert {"membership", "initial_reports", "annual_reports", "state_facts"} <= subjects

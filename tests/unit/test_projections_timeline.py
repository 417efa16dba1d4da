"""One State's profile as of a date, and its timeline of recorded facts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from projections.ledger import Ledger
from projections.timeline import state_profile, timeline

if TYPE_CHECKING:
    from conftest import Build


def south_sudan(build: Build) -> Ledger:
    deposit = build.deposited("SSD", "2023-08-02", instrument="accession")
    return Ledger.from_events(
        [
            deposit,
            build.correct(deposit, recorded=build.utc(2024, 9, 19), occurred_on="2023-08-03"),
            build.initial_report("SSD", "2024-07-15", form_version="revised"),
            build.obligation("SSD", 4, "2024-07-16"),
            build.fact("SSD", "received_assistance", "2024-07-17", detail="clearance support"),
            build.annual_report("SSD", 2024, "2025-04-20"),
        ]
    )


def test_the_profile_combines_status_reports_obligations_and_facts(build: Build) -> None:
    profile = state_profile(south_sudan(build), "SSD", date(2024, 8, 1))

    assert profile.status.status == "bound"
    assert profile.status.entry_into_force == date(2024, 2, 1)
    assert profile.initial_report_due == date(2024, 7, 30)
    assert profile.initial_overdue is None
    assert [r.form_version for r in profile.initial_reports] == ["revised"]
    assert profile.annual_reports == ()  # the 2024 report comes after as_of
    assert [(o.article, o.original_deadline) for o in profile.obligations] == [
        (4, date(2034, 2, 1))
    ]
    assert [f.fact for f in profile.facts] == ["received_assistance"]


def test_the_profile_names_an_overdue_initial_report(build: Build) -> None:
    ledger = Ledger.from_events([build.deposited("CPV", "2010-10-19")])

    profile = state_profile(ledger, "CPV", date(2024, 6, 30))

    assert profile.initial_overdue is not None
    assert profile.initial_overdue.year_due == 2011


def test_the_timeline_lists_facts_in_date_order_with_their_corrections(build: Build) -> None:
    entries = timeline(south_sudan(build), "SSD")

    assert [e.type for e in entries] == [
        "state.consent_deposited",
        "report.initial.submitted",
        "obligation.declared",
        "state.fact_reported",
        "report.annual.submitted",
    ]
    deposit = entries[0]
    assert deposit.occurred_on.not_before == date(2023, 8, 3)
    assert deposit.summary == "deposited its instrument of accession"
    assert deposit.corrections == ("source corrected",)
    assert entries[1].summary == "submitted its initial Article 7 report (revised form)"
    assert entries[3].summary == "received assistance: clearance support"


def test_the_timeline_as_known_before_a_correction_shows_the_old_date(build: Build) -> None:
    deposit = build.deposited("SSD", "2023-08-02")
    events = [
        deposit,
        build.correct(deposit, recorded=build.utc(2024, 9, 19), occurred_on="2023-08-03"),
    ]

    (entry,) = timeline(Ledger.from_events(events, known_at=build.utc(2024, 9, 18)), "SSD")

    assert entry.occurred_on.not_before == date(2023, 8, 2)
    assert entry.corrections == ()


def test_an_unknown_state_has_an_empty_timeline(build: Build) -> None:
    assert timeline(Ledger(), "XXX") == ()

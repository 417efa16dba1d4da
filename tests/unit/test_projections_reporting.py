"""Article 7 reports: overdue initial reports and the annual reporting status of a year."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from events.schema import Event
from projections.ledger import Ledger
from projections.membership import StateRef
from projections.reporting import (
    OverdueInitial,
    annual_status,
    overdue_initial,
    reports_received,
    revised_form_users,
)

if TYPE_CHECKING:
    from conftest import Build

AS_OF = date(2024, 6, 30)


def bound_since_2010(build: Build, *iso3s: str, with_initial: bool = True) -> list[Event]:
    events = []
    for iso3 in iso3s:
        events.append(build.deposited(iso3, "2009-12-01"))
        if with_initial:
            events.append(build.initial_report(iso3, "2011-01-20"))
    return events


@pytest.fixture
def reports_2023(build: Build) -> list[Event]:
    return [
        *bound_since_2010(build, "AAA", "BBB", "CCC", "DDD", "FFF"),
        *bound_since_2010(build, "EEE", with_initial=False),
        build.deposited("NGA", "2023-02-28"),
        build.initial_report("NGA", "2024-01-20"),
        build.annual_report("AAA", 2023, "2024-04-12", form_version="revised"),
        build.annual_report("BBB", 2023, "2024-05-20"),
        build.annual_report("CCC", 2023, "2024-04-01..2024-05-31"),
        build.annual_report("FFF", 2023, "2024-06-01..2024-07-31"),
        build.annual_report("NGA", 2023, "2024-04-25"),
    ]


@pytest.fixture
def covered_2023(build: Build) -> Event:
    return build.coverage("annual_reports", date(2023, 7, 1), AS_OF, year_covered=2023)


def test_annual_status_sorts_reports_by_timing(
    reports_2023: list[Event], covered_2023: Event
) -> None:
    status = annual_status(Ledger.from_events([*reports_2023, covered_2023]), 2023, AS_OF)

    assert status.due == date(2024, 4, 30)
    assert status.expected == ("AAA", "BBB", "CCC", "DDD", "FFF")
    assert [r.iso3 for r in status.on_time] == ["AAA"]
    assert [r.iso3 for r in status.late] == ["BBB"]
    assert [r.iso3 for r in status.timing_unknown] == ["CCC"]
    assert [r.iso3 for r in status.uncertain] == ["FFF"]
    assert status.missing == ("DDD",)
    assert status.submitted == 3


def test_a_state_owing_its_initial_report_is_not_expected_to_send_an_annual_one(
    reports_2023: list[Event], covered_2023: Event
) -> None:
    status = annual_status(Ledger.from_events([*reports_2023, covered_2023]), 2023, AS_OF)

    assert "EEE" not in status.expected
    assert "EEE" not in status.missing


def test_a_state_not_bound_for_the_whole_year_is_not_expected_and_its_report_is_kept_apart(
    reports_2023: list[Event], covered_2023: Event
) -> None:
    status = annual_status(Ledger.from_events([*reports_2023, covered_2023]), 2023, AS_OF)

    assert "NGA" not in status.expected
    assert [r.iso3 for r in status.unexpected] == ["NGA"]


def test_without_declared_coverage_nobody_is_listed_as_missing(
    reports_2023: list[Event],
) -> None:
    status = annual_status(Ledger.from_events(reports_2023), 2023, AS_OF)

    assert not status.covered
    assert status.missing == ()
    assert "does not say it holds every annual report for 2023" in status.coverage_note
    assert [r.iso3 for r in status.on_time] == ["AAA"]  # what is recorded is still shown


def test_coverage_ending_before_as_of_does_not_list_anyone_as_missing(
    reports_2023: list[Event], covered_2023: Event
) -> None:
    status = annual_status(
        Ledger.from_events([*reports_2023, covered_2023]), 2023, date(2024, 12, 31)
    )

    assert not status.covered
    assert status.missing == ()
    assert "only up to 2024-06-30" in status.coverage_note


def test_a_state_whose_withdrawal_takes_effect_before_the_due_date_owes_no_report(
    build: Build,
) -> None:
    events = [
        *bound_since_2010(build, "LTU"),
        build.withdrew("LTU", "2024-09-06"),
        build.coverage("annual_reports", date(2024, 7, 1), date(2025, 6, 30), year_covered=2024),
    ]

    status = annual_status(Ledger.from_events(events), 2024, date(2025, 6, 30))

    assert status.expected == ()
    assert status.missing == ()


def test_a_report_on_the_due_date_is_on_time(build: Build) -> None:
    events = [*bound_since_2010(build, "AAA"), build.annual_report("AAA", 2023, "2024-04-30")]

    status = annual_status(Ledger.from_events(events), 2023, AS_OF)

    assert [r.iso3 for r in status.on_time] == ["AAA"]


def test_the_earliest_of_two_reports_for_a_year_decides_timeliness(build: Build) -> None:
    events = [
        *bound_since_2010(build, "AAA"),
        build.annual_report("AAA", 2023, "2024-06-01"),
        build.annual_report("AAA", 2023, "2024-04-02"),
    ]

    status = annual_status(Ledger.from_events(events), 2023, AS_OF)

    assert [r.submitted.not_before for r in status.on_time] == [date(2024, 4, 2)]
    assert status.late == ()


def test_initial_reports_overdue_name_their_due_year(build: Build) -> None:
    events = [
        build.deposited("CPV", "2010-10-19"),  # EIF 2011-04-01, due 2011-09-28
        build.deposited("COM", "2010-07-28"),  # EIF 2011-01-01, due 2011-06-30
        *bound_since_2010(build, "AAA"),
    ]

    overdue = overdue_initial(Ledger.from_events(events), AS_OF)

    assert overdue == (
        OverdueInitial("COM", date(2011, 6, 30), (AS_OF - date(2011, 6, 30)).days, 2011, False),
        OverdueInitial("CPV", date(2011, 9, 28), (AS_OF - date(2011, 9, 28)).days, 2011, False),
    )


def test_south_sudan_initial_report_is_not_overdue_before_30_july_2024(build: Build) -> None:
    ledger = Ledger.from_events([build.deposited("SSD", "2023-08-03")])

    assert overdue_initial(ledger, date(2024, 6, 30)) == ()
    assert overdue_initial(ledger, date(2024, 7, 30)) == ()
    assert [o.iso3 for o in overdue_initial(ledger, date(2024, 7, 31))] == ["SSD"]


def test_a_submitted_initial_report_ends_the_overdue_listing(build: Build) -> None:
    ledger = Ledger.from_events(
        [build.deposited("NGA", "2023-02-28"), build.initial_report("NGA", "2024-03-15")]
    )

    assert [o.iso3 for o in overdue_initial(ledger, date(2024, 3, 14))] == ["NGA"]
    assert overdue_initial(ledger, date(2024, 3, 15)) == ()


def test_an_initial_report_dated_across_as_of_is_uncertain_not_guessed(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.deposited("NGA", "2023-02-28"),
            build.initial_report("NGA", "2024-01-01..2024-12-31"),
        ]
    )

    (overdue,) = overdue_initial(ledger, AS_OF)

    assert overdue.uncertain
    assert overdue.due == date(2024, 1, 28)


def test_a_state_party_not_yet_bound_owes_no_initial_report(build: Build) -> None:
    ledger = Ledger.from_events([build.deposited("VUT", "2025-09-05")])

    assert overdue_initial(ledger, date(2025, 12, 31)) == ()


def test_reports_received_lists_certain_reports_then_partly_overlapping_ones(
    reports_2023: list[Event],
) -> None:
    received = reports_received(Ledger.from_events(reports_2023), date(2023, 7, 1), AS_OF)

    certain = [(r.iso3, r.kind) for r in received if not r.uncertain]
    partial = [(r.iso3, r.kind) for r in received if r.uncertain]
    assert certain == [
        ("AAA", "annual"),
        ("BBB", "annual"),
        ("CCC", "annual"),
        ("NGA", "initial"),
        ("NGA", "annual"),
    ]
    assert partial == [("FFF", "annual")]


def test_revised_form_users_are_states_that_used_the_11msp_template(
    reports_2023: list[Event],
) -> None:
    users = revised_form_users(Ledger.from_events(reports_2023), date(2023, 7, 1), AS_OF)

    assert users == (StateRef("AAA", date(2024, 4, 12)),)

"""Extension requests: the nine-month cut-off, the deadline in force, and coming cut-offs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from events.schema import Event
from projections.extensions import Cutoff, requests_for_meeting, requests_of, upcoming_cutoffs
from projections.ledger import Ledger

if TYPE_CHECKING:
    from conftest import Build


@pytest.fixture
def meetings(build: Build) -> list[Event]:
    return [
        build.meeting("11MSP", date(2023, 9, 11), date(2023, 9, 14)),
        build.meeting("12MSP", date(2024, 9, 10), date(2024, 9, 13)),
        build.meeting("13MSP", date(2025, 9, 16), date(2025, 9, 19)),
    ]


@pytest.fixture
def germany(build: Build, meetings: list[Event]) -> list[Event]:
    return [
        *meetings,
        build.deposited("DEU", "2009-07-08"),
        build.obligation("DEU", 4),
        build.decided("DEU", 4, "9MSP", "2019-09-04", granted_deadline=date(2025, 8, 1)),
    ]


def test_germany_request_for_12msp_submitted_after_the_cutoff_is_late(
    build: Build, germany: list[Event]
) -> None:
    request = build.requested(
        "DEU", 4, "12MSP", "2024-01-01..2024-03-31", requested_deadline=date(2030, 8, 1)
    )
    decision = build.decided("DEU", 4, "12MSP", "2024-09-13", granted_deadline=date(2030, 8, 1))

    (view,) = requests_for_meeting(Ledger.from_events([*germany, request, decision]), "12MSP")

    assert (view.cutoff, view.timeliness) == (date(2023, 12, 10), "late")
    assert view.deadline_at_submission == date(2025, 8, 1)
    assert view.before_deadline_expiry is True
    assert view.requested_deadline == date(2030, 8, 1)
    assert view.decision is not None
    assert (view.decision.outcome, view.decision.granted_deadline) == ("granted", date(2030, 8, 1))


def test_a_request_on_the_cutoff_day_is_flagged(build: Build, germany: list[Event]) -> None:
    request = build.requested("DEU", 4, "12MSP", "2023-12-10")

    (view,) = requests_for_meeting(Ledger.from_events([*germany, request]), "12MSP")

    assert view.timeliness == "on_cutoff_day"


def test_a_request_dated_across_the_cutoff_has_unknown_timeliness(
    build: Build, germany: list[Event]
) -> None:
    request = build.requested("DEU", 4, "12MSP", "2023-12-01..2024-01-31")

    (view,) = requests_for_meeting(Ledger.from_events([*germany, request]), "12MSP")

    assert view.timeliness == "unknown"


def test_a_request_for_an_unrecorded_meeting_has_no_cutoff(build: Build) -> None:
    ledger = Ledger.from_events([build.requested("DEU", 4, "3RC", "2025-10-01")])

    (view,) = requests_for_meeting(ledger, "3RC")

    assert (view.meeting_start, view.cutoff, view.timeliness) == (None, None, "unknown")


def test_a_rescheduled_meeting_moves_the_cutoff(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.meeting("2RC-2", date(2021, 2, 4), date(2021, 2, 5)),
            build.rescheduled("2RC-2", date(2021, 9, 20), date(2021, 9, 21), "2021-01-15"),
            build.requested("AFG", 4, "2RC-2", "2020-12-15"),
        ]
    )

    (view,) = requests_for_meeting(ledger, "2RC-2")

    assert (view.meeting_start, view.cutoff) == (date(2021, 9, 20), date(2020, 12, 20))
    assert view.timeliness == "on_time"


def test_an_article_4_request_after_the_deadline_expired_is_flagged(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.deposited("XXX", "2009-07-08"),
            build.obligation("XXX", 4),
            build.requested("XXX", 4, "9MSP", "2020-08-02"),
        ]
    )

    (view,) = requests_of(ledger, "XXX")

    assert view.deadline_at_submission == date(2020, 8, 1)
    assert view.before_deadline_expiry is False


def test_germany_cutoff_for_12msp_is_upcoming_after_11msp(germany: list[Event]) -> None:
    cutoffs = upcoming_cutoffs(Ledger.from_events(germany), date(2023, 9, 20))

    assert cutoffs == (
        Cutoff(
            iso3="DEU",
            article=4,
            obligation="main",
            deadline_in_force=date(2025, 8, 1),
            meeting="12MSP",
            meeting_start=date(2024, 9, 10),
            cutoff=date(2023, 12, 10),
            file_by=date(2023, 12, 10),
            meeting_after_deadline=False,
            request_filed=False,
        ),
    )


def test_a_deadline_after_the_meeting_after_next_has_no_cutoff_yet(germany: list[Event]) -> None:
    assert upcoming_cutoffs(Ledger.from_events(germany), date(2023, 6, 1)) == ()


def test_a_cutoff_already_passed_is_not_upcoming(germany: list[Event]) -> None:
    assert upcoming_cutoffs(Ledger.from_events(germany), date(2023, 12, 11)) == ()


def test_a_deadline_before_the_next_meeting_still_points_at_it(
    build: Build, meetings: list[Event]
) -> None:
    ledger = Ledger.from_events(
        [*meetings, build.deposited("TCD", "2013-03-26"), build.obligation("TCD", 4)]
    )
    ledger.apply(build.decided("TCD", 4, "11MSP", "2023-09-14", granted_deadline=date(2024, 8, 1)))

    (cutoff,) = upcoming_cutoffs(ledger, date(2023, 9, 20))

    assert (cutoff.meeting, cutoff.meeting_after_deadline) == ("12MSP", True)
    assert cutoff.file_by == date(2023, 12, 10)


def test_a_filed_request_is_marked_but_still_listed(build: Build, germany: list[Event]) -> None:
    request = build.requested("DEU", 4, "12MSP", "2023-11-01")

    (cutoff,) = upcoming_cutoffs(Ledger.from_events([*germany, request]), date(2023, 11, 15))

    assert cutoff.request_filed


def test_with_one_future_meeting_the_next_is_assumed_a_cycle_later(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.meeting("13MSP", date(2025, 9, 16), date(2025, 9, 19)),
            build.deposited("LBN", "2010-11-05"),  # EIF 2011-05-01, deadline 2021-05-01
            build.obligation("LBN", 4),
            build.decided("LBN", 4, "10MSP", "2022-09-02", granted_deadline=date(2026, 5, 1)),
        ]
    )

    (cutoff,) = upcoming_cutoffs(ledger, date(2024, 10, 1))

    assert (cutoff.meeting, cutoff.cutoff) == ("13MSP", date(2024, 12, 16))


def test_without_a_future_meeting_no_cutoff_is_computed(germany: list[Event]) -> None:
    assert upcoming_cutoffs(Ledger.from_events(germany), date(2026, 1, 1)) == ()

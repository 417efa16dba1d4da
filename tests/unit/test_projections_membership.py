"""Membership as of a date: status of one State, counts, joiners and leavers."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from projections.ledger import Ledger
from projections.membership import (
    Joined,
    Left,
    StateRef,
    count,
    joined_between,
    left_between,
    state_status,
)

if TYPE_CHECKING:
    from conftest import Build


@pytest.fixture
def ledger(build: Build) -> Ledger:
    return Ledger.from_events(
        [
            build.signed("LTU", "2008-12-03"),
            build.deposited("LTU", "2011-03-24"),
            build.withdrew("LTU", "2024-09-06"),
            build.signed("NGA", "2009-06-12"),
            build.deposited("NGA", "2023-02-28"),
            build.deposited("SSD", "2023-08-03", instrument="accession"),
            build.signed("AGO", "2008-12-03"),
            build.deposited("VUT", "2025-09-05", instrument="accession"),
        ]
    )


def test_south_sudan_is_a_state_party_from_deposit_and_bound_from_1_february_2024(
    ledger: Ledger,
) -> None:
    joined = state_status(ledger, "SSD", date(2023, 9, 1))
    bound = state_status(ledger, "SSD", date(2024, 2, 1))

    assert (joined.status, joined.is_party, joined.is_bound) == ("state_party", True, False)
    assert joined.entry_into_force == date(2024, 2, 1)
    assert joined.instrument == "accession"
    assert (bound.status, bound.is_bound) == ("bound", True)


def test_nigeria_is_a_signatory_until_it_ratifies(ledger: Ledger) -> None:
    status = state_status(ledger, "NGA", date(2020, 1, 1))

    assert status.status == "signatory"
    assert status.signed_on == date(2009, 6, 12)
    assert status.deposit_date is None
    assert status.entry_into_force is None


def test_lithuania_is_still_a_party_on_30_june_2024(ledger: Ledger) -> None:
    status = state_status(ledger, "LTU", date(2024, 6, 30))

    assert (status.status, status.is_party, status.is_bound) == ("bound", True, True)
    assert status.withdrawal_received is None


def test_lithuania_has_notified_but_is_still_bound_until_6_march_2025(ledger: Ledger) -> None:
    status = state_status(ledger, "LTU", date(2025, 3, 5))

    assert status.status == "bound"
    assert status.withdrawal_received == date(2024, 9, 6)
    assert status.withdrawal_effective == date(2025, 3, 6)


def test_lithuania_is_withdrawn_from_6_march_2025(ledger: Ledger) -> None:
    status = state_status(ledger, "LTU", date(2025, 3, 6))

    assert (status.status, status.is_party, status.is_bound) == ("withdrawn", False, False)


def test_a_state_never_recorded_has_not_signed(ledger: Ledger) -> None:
    assert state_status(ledger, "USA", date(2024, 6, 30)).status == "not_signed"


def test_counts_on_30_june_2024(ledger: Ledger) -> None:
    as_of = date(2024, 6, 30)

    assert count(ledger, "parties", as_of).items == (
        StateRef("LTU", date(2011, 3, 24)),
        StateRef("NGA", date(2023, 2, 28)),
        StateRef("SSD", date(2023, 8, 3)),
    )
    assert count(ledger, "bound", as_of).value == 3
    assert count(ledger, "signatories", as_of).items == (StateRef("AGO", date(2008, 12, 3)),)
    assert count(ledger, "signed", as_of).value == 3  # AGO, LTU, NGA
    assert count(ledger, "signed_or_joined", as_of).value == 4
    assert count(ledger, "withdrawn", as_of).value == 0


def test_after_withdrawal_lithuanias_signature_stops_counting(ledger: Ledger) -> None:
    as_of = date(2025, 6, 22)

    assert [r.iso3 for r in count(ledger, "parties", as_of).items] == ["NGA", "SSD"]
    assert [r.iso3 for r in count(ledger, "signed", as_of).items] == ["AGO", "NGA"]
    assert [r.iso3 for r in count(ledger, "signed_or_joined", as_of).items] == [
        "AGO",
        "NGA",
        "SSD",
    ]
    assert count(ledger, "withdrawn", as_of).items == (StateRef("LTU", date(2025, 3, 6)),)


def test_a_state_that_deposited_counts_as_a_party_before_it_is_bound(ledger: Ledger) -> None:
    as_of = date(2025, 10, 1)  # Vanuatu deposited 5 Sep 2025, bound from 1 Mar 2026

    assert "VUT" in [r.iso3 for r in count(ledger, "parties", as_of).items]
    assert "VUT" not in [r.iso3 for r in count(ledger, "bound", as_of).items]


def test_an_unknown_count_names_the_choices(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="parties"):
        count(ledger, "friends", date(2024, 6, 30))  # type: ignore[arg-type]


def test_joined_between_lists_deposits_in_the_period_with_entry_into_force(
    ledger: Ledger,
) -> None:
    joined = joined_between(ledger, date(2023, 7, 1), date(2024, 6, 30))

    assert joined == (Joined("SSD", date(2023, 8, 3), "accession", date(2024, 2, 1)),)


def test_left_between_lists_withdrawals_that_took_effect_in_the_period(ledger: Ledger) -> None:
    assert left_between(ledger, date(2024, 7, 1), date(2025, 6, 30)) == (
        Left("LTU", date(2024, 9, 6), date(2025, 3, 6)),
    )
    assert left_between(ledger, date(2023, 7, 1), date(2024, 6, 30)) == ()


def test_a_deposit_known_only_within_a_range_across_as_of_is_flagged(build: Build) -> None:
    ledger = Ledger.from_events([build.deposited("XXX", "2024-06-01..2024-07-31")])

    status = state_status(ledger, "XXX", date(2024, 6, 30))
    parties = count(ledger, "parties", date(2024, 6, 30))

    assert status.status == "not_signed"
    assert status.uncertain
    assert parties.value == 0
    assert parties.uncertain == ("XXX",)


def test_withdrawal_takes_effect_on_the_recorded_later_date_during_armed_conflict(
    build: Build,
) -> None:
    ledger = Ledger.from_events(
        [
            build.deposited("XXX", "2012-01-10"),
            build.withdrew("XXX", "2024-09-06", effective_on=date(2026, 1, 1)),
        ]
    )

    assert state_status(ledger, "XXX", date(2025, 6, 1)).status == "bound"
    assert state_status(ledger, "XXX", date(2026, 1, 1)).status == "withdrawn"

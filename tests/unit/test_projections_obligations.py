"""Articles 3, 4 and 5: deadlines in force after extensions, compliance, overdue."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from projections.ledger import Ledger
from projections.obligations import (
    GrantedExtension,
    compliance_declared_between,
    obligations,
    open_obligations,
)

if TYPE_CHECKING:
    from conftest import Build


def germany(build: Build) -> Ledger:
    return Ledger.from_events(
        [
            build.deposited("DEU", "2009-07-08"),
            build.obligation("DEU", 4),
            build.decided("DEU", 4, "9MSP", "2019-09-04", granted_deadline=date(2025, 8, 1)),
        ]
    )


def bosnia(build: Build) -> Ledger:
    return Ledger.from_events(
        [
            build.deposited("BIH", "2010-09-07"),
            build.obligation("BIH", 4, "2011-08-30"),
            build.decided("BIH", 4, "2RC-2", "2021-02-26", granted_deadline=date(2022, 9, 1)),
            build.compliance("BIH", 4, "2023-08-31"),
        ]
    )


def test_germany_article_4_deadline_is_ten_years_after_entry_into_force(build: Build) -> None:
    (view,) = obligations(germany(build), "DEU", date(2019, 6, 1))

    assert view.original_deadline == date(2020, 8, 1)
    assert view.deadline_in_force == date(2020, 8, 1)
    assert view.extensions_granted == ()
    assert view.status == "open"


def test_germany_deadline_follows_the_extension_granted_at_9msp(build: Build) -> None:
    (view,) = obligations(germany(build), "DEU", date(2020, 1, 1))

    assert view.original_deadline == date(2020, 8, 1)
    assert view.deadline_in_force == date(2025, 8, 1)
    at_9msp = GrantedExtension("9MSP", deadline=date(2025, 8, 1), decided_on=date(2019, 9, 4))
    assert view.extensions_granted == (at_9msp,)


def test_bosnia_complied_after_its_extended_deadline(build: Build) -> None:
    ledger = bosnia(build)

    (before,) = obligations(ledger, "BIH", date(2021, 1, 1))
    (extended,) = obligations(ledger, "BIH", date(2022, 1, 1))
    (lapsed,) = obligations(ledger, "BIH", date(2023, 1, 1))
    (complied,) = obligations(ledger, "BIH", date(2023, 8, 31))

    assert (before.deadline_in_force, before.status) == (date(2021, 3, 1), "open")
    assert (extended.deadline_in_force, extended.status) == (date(2022, 9, 1), "open")
    assert lapsed.status == "deadline_passed"  # the data does not say it holds every decision
    assert (complied.status, complied.compliance_declared_on) == ("complied", date(2023, 8, 31))


def test_peru_article_3_deadline_is_eight_years_after_entry_into_force(build: Build) -> None:
    ledger = Ledger.from_events(
        [build.deposited("PER", "2012-09-26"), build.obligation("PER", 3, "2013-08-28")]
    )

    (view,) = obligations(ledger, "PER", date(2020, 1, 1))

    assert view.original_deadline == date(2021, 3, 1)


def test_article_5_has_no_deadline_and_stays_open(build: Build) -> None:
    ledger = Ledger.from_events([build.deposited("LAO", "2009-03-18"), build.obligation("LAO", 5)])

    (view,) = obligations(ledger, "LAO", date(2030, 1, 1))

    assert (view.article, view.original_deadline, view.status) == (5, None, "open")


def test_later_contamination_counts_from_the_end_of_hostilities(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.deposited("XXX", "2009-03-18"),
            build.obligation(
                "XXX", 4, "2015-01-01", obligation="2014", hostilities_ended_on=date(2014, 6, 15)
            ),
        ]
    )

    assert obligations(ledger, "XXX", date(2014, 1, 1)) == ()
    (view,) = obligations(ledger, "XXX", date(2020, 1, 1))
    assert (view.obligation, view.basis) == ("2014", "later_contamination")
    assert view.original_deadline == date(2024, 6, 15)


def test_an_obligation_named_only_by_a_request_is_still_listed(build: Build) -> None:
    ledger = Ledger.from_events(
        [build.deposited("TCD", "2013-03-26"), build.requested("TCD", 4, "12MSP", "2024-02-01")]
    )

    (view,) = obligations(ledger, "TCD", date(2024, 3, 1))

    assert (view.article, view.declared_on, view.original_deadline) == (4, None, date(2023, 9, 1))


def test_a_withdrawn_state_has_no_obligations_left(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.deposited("LTU", "2011-03-24"),
            build.obligation("LTU", 3),
            build.withdrew("LTU", "2024-09-06"),
        ]
    )

    assert len(obligations(ledger, "LTU", date(2025, 3, 5))) == 1
    assert obligations(ledger, "LTU", date(2025, 3, 6)) == ()


def test_open_obligations_leave_out_the_complied(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.deposited("DEU", "2009-07-08"),
            build.obligation("DEU", 4),
            build.deposited("MNE", "2010-01-25"),
            build.obligation("MNE", 4),
            build.compliance("MNE", 4, "2020-07-31"),
        ]
    )

    assert [v.iso3 for v in open_obligations(ledger, 4, date(2020, 8, 1))] == ["DEU"]


def test_compliance_declared_between_separates_partly_overlapping_dates(build: Build) -> None:
    ledger = Ledger.from_events(
        [
            build.compliance("BIH", 4, "2023-08-31"),
            build.compliance("SVK", 3, "2023-10-02"),
            build.compliance("PER", 3, "2024-06-01..2024-09-30"),
            build.compliance("BGR", 3, "2023-09-12", meeting="11MSP"),
        ]
    )

    declared = compliance_declared_between(ledger, 3, date(2023, 7, 1), date(2024, 6, 30))

    assert [(d.iso3, d.uncertain) for d in declared] == [
        ("BGR", False),
        ("SVK", False),
        ("PER", True),
    ]
    assert declared[0].meeting == "11MSP"


def test_a_passed_deadline_is_overdue_only_where_every_extension_decision_is_recorded(
    build: Build,
) -> None:
    events = [
        build.deposited("CHL", "2010-12-16"),
        build.obligation("CHL", 4, "2011-06-01"),
    ]
    unsure = Ledger.from_events(events)
    sure = Ledger.from_events(
        [*events, build.coverage("extensions", date(2010, 8, 1), date(2024, 6, 30))]
    )

    (unsure_view,) = obligations(unsure, "CHL", date(2022, 1, 1))
    (sure_view,) = obligations(sure, "CHL", date(2022, 1, 1))

    assert unsure_view.status == "deadline_passed"
    assert sure_view.status == "overdue"

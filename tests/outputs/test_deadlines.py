"""Deadlines still ahead: who owes what by when, with keys that stay the same between runs."""

from __future__ import annotations

from datetime import date

from projections.deadlines import upcoming_deadlines
from projections.ledger import Ledger

from .support import (
    AS_OF,
    annual_report,
    bundled_ledger,
    compliance,
    deposited,
    granted,
    initial_report,
    meeting,
    obligation,
    requested,
)


def test_a_new_state_party_owes_its_initial_report_180_days_after_entry_into_force() -> None:
    ledger = Ledger.from_events([deposited("SSD", "2023-08-03")])

    (deadline,) = upcoming_deadlines(ledger, date(2024, 3, 1), date(2024, 12, 31))

    assert (deadline.kind, deadline.iso3, deadline.due) == (
        "initial_report",
        "SSD",
        date(2024, 7, 30),
    )
    assert deadline.key == "initial_report:SSD:initial:2024-07-30"


def test_an_initial_report_already_in_is_not_owed() -> None:
    events = [deposited("SSD", "2023-08-03"), initial_report("SSD", "2024-05-02")]

    deadlines = upcoming_deadlines(Ledger.from_events(events), date(2024, 6, 1), date(2024, 12, 31))

    assert [d.kind for d in deadlines] == []


def test_every_state_expected_to_report_owes_the_next_annual_report_until_it_sends_it() -> None:
    events = [
        deposited("NOR", "2008-12-03"),
        initial_report("NOR", "2011-01-20"),
        deposited("BEL", "2008-12-03"),
        initial_report("BEL", "2011-01-20"),
        annual_report("BEL", 2024, "2025-02-01"),
    ]

    deadlines = upcoming_deadlines(Ledger.from_events(events), date(2025, 3, 1), date(2025, 5, 1))

    assert [(d.kind, d.iso3, d.due, d.ref) for d in deadlines] == [
        ("annual_report", "NOR", date(2025, 4, 30), "2024")
    ]


def test_an_open_article_4_deadline_in_force_after_an_extension_is_listed() -> None:
    events = [
        deposited("DEU", "2009-07-08"),
        obligation("DEU", 4),
        granted("DEU", 4, "9MSP", "2019-09-04", date(2025, 8, 1)),
    ]

    deadlines = upcoming_deadlines(Ledger.from_events(events), AS_OF, date(2025, 12, 31))

    art4 = [d for d in deadlines if d.kind == "article4_deadline"]
    assert [(d.iso3, d.due, d.ref) for d in art4] == [("DEU", date(2025, 8, 1), "art4:main")]
    assert "extended at 9MSP" in art4[0].title


def test_a_complied_obligation_has_no_deadline_left() -> None:
    events = [
        deposited("BGR", "2011-04-08"),
        obligation("BGR", 3),
        compliance("BGR", 3, "2015-09-01"),
    ]

    deadlines = upcoming_deadlines(Ledger.from_events(events), date(2018, 1, 1), date(2020, 1, 1))

    assert [d.kind for d in deadlines if d.kind.startswith("article")] == []


def test_the_filing_cutoff_is_listed_until_the_request_is_recorded() -> None:
    base = [
        meeting("12MSP", date(2024, 9, 10)),
        meeting("13MSP", date(2025, 9, 16)),
        deposited("DEU", "2009-07-08"),
        obligation("DEU", 4),
        granted("DEU", 4, "9MSP", "2019-09-04", date(2025, 8, 1)),
    ]
    as_of, until = date(2023, 10, 1), date(2023, 12, 31)

    before = upcoming_deadlines(Ledger.from_events(base), as_of, until)
    filed = [*base, requested("DEU", 4, "12MSP", "2023-09-20")]
    after = upcoming_deadlines(Ledger.from_events(filed), as_of, until)

    cutoffs = [d for d in before if d.kind == "extension_cutoff"]
    assert [(d.iso3, d.due, d.ref) for d in cutoffs] == [
        ("DEU", date(2023, 12, 10), "art4:main:12MSP")
    ]
    assert [d for d in after if d.kind == "extension_cutoff"] == []


def test_contributions_are_due_three_months_before_each_future_meeting_for_everyone() -> None:
    events = [meeting("12MSP", date(2024, 9, 10)), meeting("13MSP", date(2025, 9, 16))]

    deadlines = upcoming_deadlines(Ledger.from_events(events), date(2024, 1, 1), date(2025, 12, 31))

    assert [(d.kind, d.iso3, d.due, d.ref) for d in deadlines] == [
        ("contribution_pay_by", None, date(2024, 6, 10), "12MSP"),
        ("contribution_pay_by", None, date(2025, 6, 16), "13MSP"),
    ]
    assert deadlines[0].key == "contribution_pay_by:ALL:12MSP:2024-06-10"


def test_a_compliance_declared_between_meetings_is_due_at_the_next_meeting() -> None:
    events = [
        meeting("11MSP", date(2023, 9, 11)),
        meeting("12MSP", date(2024, 9, 10)),
        deposited("PER", "2012-09-26"),
        obligation("PER", 3),
        compliance("PER", 3, "2023-09-15..2024-06-30"),
    ]

    deadlines = upcoming_deadlines(Ledger.from_events(events), AS_OF, date(2024, 12, 31))

    declared = [d for d in deadlines if d.kind == "compliance_declaration"]
    assert [(d.iso3, d.due, d.ref) for d in declared] == [
        ("PER", date(2024, 9, 10), "art3:main:12MSP")
    ]


def test_a_compliance_date_spanning_a_meeting_says_nothing_about_the_next_one() -> None:
    events = [
        meeting("11MSP", date(2023, 9, 11)),
        meeting("12MSP", date(2024, 9, 10)),
        deposited("NOR", "2008-12-03"),
        compliance("NOR", 4, "2008-12-03..2023-09-30"),
    ]

    deadlines = upcoming_deadlines(
        Ledger.from_events(events), date(2023, 10, 1), date(2024, 12, 31)
    )

    assert [d for d in deadlines if d.kind == "compliance_declaration"] == []


def test_nothing_is_listed_when_the_horizon_ends_before_it_starts() -> None:
    ledger = Ledger.from_events([deposited("SSD", "2023-08-03")])

    assert upcoming_deadlines(ledger, date(2024, 3, 1), date(2024, 2, 1)) == ()


def test_the_bundled_dataset_gives_the_same_deadlines_and_keys_twice() -> None:
    first = upcoming_deadlines(bundled_ledger(), AS_OF, date(2025, 12, 31))
    second = upcoming_deadlines(bundled_ledger(), AS_OF, date(2025, 12, 31))

    keys = [d.key for d in first]
    assert keys == [d.key for d in second]
    assert len(set(keys)) == len(keys)
    assert {d.kind for d in first} >= {"annual_report", "article4_deadline"}
    assert all(AS_OF <= d.due <= date(2025, 12, 31) for d in first)

"""The reminder policy as a pure function of a ledger and a day (no database, no clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events.schema import (
    CoverageDeclared,
    Event,
    ExtensionRequested,
    InitialReportSubmitted,
    Payload,
    new_event,
)
from projections.deadlines import upcoming_deadlines
from projections.ledger import Ledger
from tracker.aliases import StateLookupError
from tracker.importer import bundled_events
from tracker.reminders import (
    Reminder,
    ReminderOffsets,
    _months_after,
    due_reminders,
    reminders_between,
    render,
    render_digest,
    settled,
)
from tracker.subscriptions import FocalPoint, Subscription, parse_topic, recipients

RECORDED = datetime(2025, 1, 1, tzinfo=UTC)


def event(payload: Payload, on: str) -> Event:
    return new_event(
        payload, occurred_on=on, recorded_at=RECORDED, recorded_by="test", source="test"
    )


def fold(*extra: Event, drop: type | None = None, state: str | None = None) -> Ledger:
    """The bundled dataset, minus events of type `drop` about `state`, plus `extra`."""
    events = [
        e
        for e in bundled_events()
        if not (drop is not None and isinstance(e.payload, drop) and e.state == state)
    ]
    return Ledger.from_events([*events, *extra])


def one(reminders: tuple[Reminder, ...], key: str) -> Reminder:
    found = [r for r in reminders if r.key == key]
    assert len(found) == 1, f"{key} not among {[r.key for r in reminders]}"
    return found[0]


# --- offsets ------------------------------------------------------------------------------------


def test_offsets_default_to_the_issue_and_are_normalised() -> None:
    offsets = ReminderOffsets()
    assert offsets.annual_report == (30, 7, 1)
    assert offsets.initial_report == (30,)
    assert offsets.extension_cutoff == (60, 30, 7)
    assert ReminderOffsets(annual_report=(1, 30, 7, 7)) == offsets
    assert offsets.furthest == 60
    with pytest.raises(ValueError, match="annual_report"):
        ReminderOffsets(annual_report=(-1,))


def test_configured_offsets_move_the_reminders(ledger: Ledger) -> None:
    offsets = ReminderOffsets(annual_report=(14,))
    assert not [
        r for r in due_reminders(ledger, date(2024, 3, 31), offsets) if r.kind == "annual_report"
    ]
    fired = [
        r for r in due_reminders(ledger, date(2024, 4, 16), offsets) if r.kind == "annual_report"
    ]
    assert len(fired) == 103
    assert {r.offset for r in fired} == {"before-14d"}


def test_monthly_anniversaries_clamp_to_the_month_end_without_drifting() -> None:
    anchor = date(2024, 1, 31)
    assert _months_after(anchor, date(2024, 1, 31)) == 0
    assert _months_after(anchor, date(2024, 2, 29)) == 1
    assert _months_after(anchor, date(2024, 2, 28)) is None
    assert _months_after(anchor, date(2024, 3, 31)) == 2  # back to the 31st, not the 29th
    assert _months_after(anchor, date(2024, 4, 30)) == 3
    assert _months_after(anchor, date(2023, 12, 31)) is None


# --- what fires when ----------------------------------------------------------------------------


def test_reminder_keys_are_the_deadline_keys_plus_the_offset(ledger: Ledger) -> None:
    day = date(2024, 3, 31)
    fired = due_reminders(ledger, day)
    deadline_keys = {d.key for d in upcoming_deadlines(ledger, day, date(2024, 4, 30))}
    assert {r.deadline_key for r in fired if r.phase == "before"} <= deadline_keys
    assert all(r.key == f"{r.deadline_key}:{r.offset}" for r in fired)
    again = due_reminders(Ledger.from_events(bundled_events()), day)
    assert [r.key for r in again] == [r.key for r in fired]
    lao = one(fired, "annual_report:LAO:2023:2024-04-30:before-30d")
    assert (lao.kind, lao.iso3, lao.ref, lao.due, lao.topic) == (
        "annual_report",
        "LAO",
        "2023",
        date(2024, 4, 30),
        "reports",
    )


def test_an_initial_report_not_on_record_is_reminded_30_days_ahead() -> None:
    without = fold(drop=InitialReportSubmitted, state="SSD")
    fired = due_reminders(without, date(2024, 6, 30))
    ssd = one(fired, "initial_report:SSD:initial:2024-07-30:before-30d")
    assert "1 February 2024" in ssd.action  # entry into force, which the 180 days count from
    # With the bundled record (in by 30 June 2024 at the latest) nothing is due that day.
    assert not [r for r in due_reminders(fold(), date(2024, 6, 30)) if r.iso3 == "SSD"]


def test_overdue_notices_need_data_that_declares_the_reports_complete(ledger: Ledger) -> None:
    assert not [r for r in due_reminders(ledger, date(2024, 7, 1)) if r.phase == "overdue"]
    longer = fold(
        event(
            CoverageDeclared(
                subject="annual_reports",
                period_start=date(2023, 7, 1),
                period_end=date(2024, 12, 31),
                year_covered=2023,
            ),
            "2024-12-31",
        )
    )
    july = [r for r in due_reminders(longer, date(2024, 7, 1)) if r.kind == "annual_report"]
    assert len(july) == 52  # no report in the (recorded) data by then: still overdue
    assert {r.offset for r in july} == {"overdue-2m"}


def test_a_request_on_record_stops_the_missed_cutoff_notice() -> None:
    missed = "extension_cutoff:DEU:art4:main:13MSP:2024-12-16:missed"
    assert missed in {r.key for r in due_reminders(fold(), date(2024, 12, 17))}
    filed = fold(event(ExtensionRequested(state="DEU", article=4, meeting="13MSP"), "2024-12-01"))
    assert not [r for r in due_reminders(filed, date(2024, 12, 17)) if r.iso3 == "DEU"]
    assert not [r for r in due_reminders(filed, date(2024, 12, 9)) if r.iso3 == "DEU"]
    # Before it was filed, the reminders went out as usual.
    assert [r.offset for r in due_reminders(filed, date(2024, 11, 16)) if r.iso3 == "DEU"] == [
        "before-30d"
    ]


def test_settled_reminders_are_those_the_data_shows_done(ledger: Ledger) -> None:
    week_before = due_reminders(ledger, date(2024, 4, 23))
    lao = one(week_before, "annual_report:LAO:2023:2024-04-30:before-7d")
    andorra = one(week_before, "annual_report:AND:2023:2024-04-30:before-7d")
    assert settled(ledger, lao, date(2024, 5, 1))  # Lao PDR's report was in by 30 April
    assert not settled(ledger, andorra, date(2024, 5, 1))
    assert not settled(ledger, lao, date(2024, 4, 24))  # in by 30 April, maybe not yet
    pay = one(
        due_reminders(ledger, date(2024, 5, 11)),
        "contribution_pay_by:ALL:12MSP:2024-06-10:before-30d",
    )
    assert not settled(ledger, pay, date(2024, 9, 1))


# --- wording ------------------------------------------------------------------------------------


def test_a_reminder_says_what_is_due_when_for_whom_and_what_to_do(ledger: Ledger) -> None:
    lao = one(
        due_reminders(ledger, date(2024, 3, 31)), "annual_report:LAO:2023:2024-04-30:before-30d"
    )
    assert lao.text == (
        "Reminder: Annual Article 7 report for 2023 — due 30 April 2024 (in 30 days).\n"
        "For: Lao PDR.\n"
        "To do: submit the report covering 1 January to 31 December 2023 to the UN "
        "Secretary-General (CCM Art. 7(2))."
    )
    germany = one(
        due_reminders(ledger, date(2024, 12, 17)),
        "extension_cutoff:DEU:art4:main:13MSP:2024-12-16:missed",
    )
    assert "Missed: Article 4 extension request for 13MSP" in germany.text
    assert "For: Germany." in germany.text
    overdue = one(
        due_reminders(ledger, date(2024, 5, 1)), "annual_report:AND:2023:2024-04-30:overdue-0m"
    )
    assert "was due 30 April 2024, not received after 1 day" in overdue.text


def test_a_late_reminder_says_so_and_counts_from_the_day_it_is_sent(ledger: Ledger) -> None:
    lao = one(
        due_reminders(ledger, date(2024, 4, 23)), "annual_report:LAO:2023:2024-04-30:before-7d"
    )
    text = render((lao,), date(2024, 4, 28))
    assert text.startswith("(Late: this should have gone out on 23 April 2024.)\n")
    assert "due 30 April 2024 (in 2 days)" in text


def test_one_message_lists_the_states_sharing_a_deadline_and_its_words(ledger: Ledger) -> None:
    fired = due_reminders(ledger, date(2024, 5, 1))
    overdue = [r for r in fired if r.kind == "annual_report"]
    text = render(overdue, date(2024, 5, 1))
    assert "For: 52 States Parties with no report received: Andorra, Antigua and Barbuda," in text
    # Germany's and Somalia's cut-off reminders name each State's own deadline: not shared.
    cut = [r for r in due_reminders(ledger, date(2024, 10, 17)) if r.kind == "extension_cutoff"]
    assert len({r.group for r in cut}) == 2
    with pytest.raises(ValueError, match="different groups"):
        render(cut, date(2024, 10, 17))


def test_a_digest_folds_many_days_into_one_message(ledger: Ledger) -> None:
    backlog = reminders_between(ledger, date(2024, 3, 31), date(2024, 4, 29))
    text = render_digest(backlog, date(2024, 5, 20))
    assert text.startswith(f"Digest: {len(backlog)} reminders fell due from 31 March 2024 to")
    assert "• 31 March 2024: Annual Article 7 report for 2023" in text
    assert len(text) < 4096


# --- who gets what ------------------------------------------------------------------------------


def test_subscription_topics_parse_names_and_states() -> None:
    assert parse_topic(None).topic == "all"
    assert parse_topic(" Reports ").topic == "reports"
    assert (parse_topic("Laos").topic, parse_topic("Laos").state) == ("state", "LAO")
    assert parse_topic("lbn").state == "LBN"
    with pytest.raises(StateLookupError):
        parse_topic("Atlantis")


def test_recipients_follow_topic_state_focal_point_and_subscription_day(ledger: Ledger) -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    later = datetime(2024, 6, 1, tzinfo=UTC)
    subs = [
        Subscription(1, "all", None, at, "t"),
        Subscription(2, "extensions", None, at, "t"),
        Subscription(3, "state", "LAO", at, "t"),
        Subscription(4, "reports", None, later, "t"),
    ]
    focal = [FocalPoint("AND", 5, at, "t")]
    lao = one(
        due_reminders(ledger, date(2024, 3, 31)), "annual_report:LAO:2023:2024-04-30:before-30d"
    )
    andorra = one(
        due_reminders(ledger, date(2024, 5, 1)), "annual_report:AND:2023:2024-04-30:overdue-0m"
    )
    pay = one(
        due_reminders(ledger, date(2024, 5, 11)),
        "contribution_pay_by:ALL:12MSP:2024-06-10:before-30d",
    )
    assert set(recipients(lao, subs, focal)) == {1, 3}  # chat 4 subscribed after it fired
    assert set(recipients(lao, subs, focal, respect_since=False)) == {1, 3, 4}
    assert set(recipients(andorra, subs, focal)) == {1, 5}
    assert set(recipients(pay, subs, focal)) == {1, 3, 5}  # every State Party pays

"""The iCalendar feed parses back, and exporting twice gives the same UIDs (no duplicates)."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest

from projections.deadlines import upcoming_deadlines
from tracker.calendar_export import deadline_uid, deadlines_ics
from tracker.outputs import calendar_ics

from .support import AS_OF, KNOWN_AT, NOW, bundled_ledger, deposited, memory_service


def _events(ics: bytes) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    return [c for c in calendar.walk("VEVENT")]


@pytest.fixture(scope="module")
def feed() -> bytes:
    return calendar_ics(memory_service(), None, AS_OF, KNOWN_AT)


def test_the_feed_parses_back_with_one_all_day_event_per_deadline(feed: bytes) -> None:
    expected = upcoming_deadlines(bundled_ledger(), AS_OF, AS_OF + timedelta(days=2 * 366))

    calendar = icalendar.Calendar.from_ical(feed)
    events = _events(feed)

    assert str(calendar["X-WR-CALNAME"]) == "CCM deadlines: all States Parties"
    assert len(events) == len(expected) > 0
    starts = [e.decoded("DTSTART") for e in events]
    assert all(type(s) is date for s in starts)
    assert sorted(starts) == [d.due for d in expected]
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(days=1) for e in events)


def test_two_exports_give_the_same_uids_and_the_same_bytes(feed: bytes) -> None:
    again = calendar_ics(memory_service(), None, AS_OF, KNOWN_AT)

    uids = [str(e["UID"]) for e in _events(feed)]

    assert uids == [str(e["UID"]) for e in _events(again)]
    assert len(set(uids)) == len(uids)
    assert all(u.endswith("@treaty-tracker") for u in uids)
    assert again == feed


def test_each_event_says_what_is_due_for_whom_what_to_do_and_the_source(feed: bytes) -> None:
    event = next(e for e in _events(feed) if "Germany" in str(e["SUMMARY"]))

    description = str(event["DESCRIPTION"])

    assert str(event["SUMMARY"]).startswith("Germany: ")
    for label in ("What: ", "For: Germany", "Due: ", "To do: ", "Source: "):
        assert label in description


def test_a_feed_for_one_state_holds_its_deadlines_and_those_for_everyone() -> None:
    service = memory_service()

    ics = calendar_ics(service, "Lao PDR", date(2023, 8, 1), KNOWN_AT)

    summaries = [str(e["SUMMARY"]) for e in _events(ics)]
    assert summaries
    assert all(s.startswith(("Lao PDR: ", "All States Parties: ")) for s in summaries)
    assert any(s.startswith("All States Parties: ") for s in summaries)
    assert "CCM deadlines: Lao PDR" in ics.decode()


def test_the_uid_is_a_stable_hash_of_the_deadline_key() -> None:
    from projections.ledger import Ledger

    ledger = Ledger.from_events([deposited("SSD", "2023-08-03")])
    (first,) = upcoming_deadlines(ledger, date(2024, 3, 1), date(2024, 12, 31))
    (second,) = upcoming_deadlines(
        Ledger.from_events([deposited("SSD", "2023-08-03")]), date(2024, 1, 1), date(2024, 12, 31)
    )

    assert deadline_uid(first) == deadline_uid(second)
    assert deadline_uid(first) != deadline_uid(
        type(first)(**{**first.__dict__, "due": date(2024, 7, 31)})
    )


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    ics = deadlines_ics([], calendar_name="CCM deadlines: nobody", generated=NOW)

    assert _events(ics) == []
    assert icalendar.Calendar.from_ical(ics)["VERSION"] == "2.0"

"""Deadlines as an iCalendar (RFC 5545) feed, one all-day VEVENT per deadline.

UIDs are a hash of `Deadline.key`, so exporting twice (or a calendar re-subscribing) gives the
same UIDs and no duplicates; a deadline that moves gets a new key and so a new UID.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

import icalendar

from projections.deadlines import Deadline
from tracker.aliases import StateLookupError, display_name

PRODID = "-//treaty-tracker//CCM deadlines//EN"
UID_DOMAIN = "treaty-tracker"


def deadline_uid(deadline: Deadline) -> str:
    """The VEVENT UID of a deadline: stable across exports."""
    digest = hashlib.sha256(deadline.key.encode("utf-8")).hexdigest()[:32]
    return f"{digest}@{UID_DOMAIN}"


def _who(deadline: Deadline) -> str:
    if deadline.iso3 is None:
        return "All States Parties"
    try:
        return display_name(deadline.iso3)
    except StateLookupError:
        return deadline.iso3


def deadlines_ics(deadlines: Iterable[Deadline], calendar_name: str, generated: datetime) -> bytes:
    """The feed as bytes. `generated` stamps DTSTAMP, so equal inputs give equal bytes."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    calendar.add(
        "x-wr-caldesc",
        "Deadlines under the Convention on Cluster Munitions computed from recorded events "
        "by treaty-tracker.",
    )
    for deadline in deadlines:
        who = _who(deadline)
        event = icalendar.Event()
        event.add("uid", deadline_uid(deadline))
        event.add("dtstamp", generated)
        event.add("dtstart", deadline.due)
        # All-day: DTEND is the next day (exclusive), as calendar clients expect.
        event.add("dtend", deadline.due + timedelta(days=1))
        event.add("summary", f"{who}: {deadline.title}")
        event.add(
            "description",
            "\n".join(
                (
                    f"What: {deadline.title}",
                    f"For: {who}",
                    f"Due: {deadline.due.isoformat()}",
                    f"To do: {deadline.detail}",
                    f"Source: {deadline.source_hint}",
                    f"Key: {deadline.key}",
                )
            ),
        )
        event.add("categories", [deadline.kind])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data

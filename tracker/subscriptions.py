"""Who receives which reminder: chat subscriptions by topic or State, focal-point chats, and
the delivery log's records.

Pure: the records come from `tracker.stores.reminders`; this module says what they mean.

- topic ``all``: every reminder;
- ``reports`` / ``extensions`` / ``meetings``: reminders of that topic;
- a State (topic ``state``): reminders about that State, and those addressed to every State
  Party (assessed contributions), which concern it too;
- the State's focal-point chat: the same as a subscription to that State.

A chat receives a reminder only if it was subscribed on or before the day the reminder fires:
catching up after downtime must not flood a chat that subscribed today with last month's news.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from tracker.aliases import resolve
from tracker.reminders import Reminder

SubscriptionTopic = Literal["all", "reports", "extensions", "meetings", "state"]
SUBSCRIPTION_TOPICS: tuple[str, ...] = get_args(SubscriptionTopic)
#: What a user may type after /subscribe besides a State's name.
NAMED_TOPICS: tuple[SubscriptionTopic, ...] = ("all", "reports", "extensions", "meetings")


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    topic: SubscriptionTopic
    #: ISO3 of the State when `topic` is "state", else None.
    state: str | None
    created_at: datetime
    created_by: str

    def wants(self, reminder: Reminder) -> bool:
        if self.topic == "all":
            return True
        if self.topic == "state":
            return reminder.iso3 is None or reminder.iso3 == self.state
        return reminder.topic == self.topic


@dataclass(frozen=True)
class FocalPoint:
    """The chat of a State's focal point: it receives every reminder about that State."""

    iso3: str
    chat_id: int
    created_at: datetime
    created_by: str

    def wants(self, reminder: Reminder) -> bool:
        return reminder.iso3 is None or reminder.iso3 == self.iso3


@dataclass(frozen=True)
class DeliveryRecord:
    """One (reminder key, chat) in the delivery log: claimed, sent or failed."""

    key: str
    chat_id: int
    fire_on: date
    status: str
    claimed_by: str
    claimed_at: datetime
    lease_until: datetime
    attempts: int
    sent_at: datetime | None
    late: bool
    note: str | None

    def open_to(self, now: datetime) -> bool:
        """May be claimed at `now`: a claim whose lease ran out (its holder is presumed dead)."""
        return self.status == "claimed" and self.lease_until <= now


@dataclass(frozen=True)
class TopicChoice:
    """A parsed /subscribe argument, with a warning when a State name was read loosely."""

    topic: SubscriptionTopic
    state: str | None
    warning: str | None = None

    def describe(self) -> str:
        return f"State {self.state}" if self.topic == "state" else self.topic


def parse_topic(text: str | None) -> TopicChoice:
    """'all' (also the default), 'reports', 'extensions', 'meetings', or a State's name/ISO3.

    Raises tracker.aliases.StateLookupError (a ValueError saying what was meant) otherwise.
    """
    word = (text or "").strip()
    lowered = word.lower() or "all"
    for topic in NAMED_TOPICS:
        if lowered == topic:
            return TopicChoice(topic=topic, state=None)
    resolution = resolve(word)
    return TopicChoice(topic="state", state=resolution.iso3, warning=resolution.warning)


def recipients(
    reminder: Reminder,
    subscriptions: Iterable[Subscription],
    focal_points: Iterable[FocalPoint] = (),
    *,
    respect_since: bool = True,
) -> dict[int, date]:
    """The chats that should get `reminder`, each with the day its earliest matching
    subscription began. With `respect_since`, chats that subscribed after the reminder's day
    are left out."""
    found: dict[int, date] = {}
    wanting: list[tuple[int, datetime]] = [
        (s.chat_id, s.created_at) for s in subscriptions if s.wants(reminder)
    ]
    wanting.extend((f.chat_id, f.created_at) for f in focal_points if f.wants(reminder))
    for chat_id, created_at in wanting:
        since = created_at.date()
        if respect_since and since > reminder.fire_on:
            continue
        if chat_id not in found or since < found[chat_id]:
            found[chat_id] = since
    return found

"""The reminder sweep: ask the policy what is due, claim each (reminder, chat), send, mark sent.

State-based, not timer-based. A sweep (every few minutes, and at start-up) recomputes which
reminders have fired up to today — including days it did not run on — and sends each one that
its delivery log does not show as sent to a chat that wants it:

- claim → send → mark sent, in the database (`tracker.stores.reminders`). A process that dies
  after its claim and before its send leaves a claim whose lease runs out; the next sweep (in
  any process) takes it over and sends. Two processes never both hold one claim, so a reminder
  is not sent twice to a chat, across restarts and with several bot processes on one database.
  The one unavoidable window is between Telegram accepting a message and the mark-sent commit
  (milliseconds): a crash there re-sends after the lease, because a reminder lost is worse
  than a reminder repeated (Telegram offers no idempotency key to close it);
- a reminder that fired on an earlier day goes out once, marked late, unless the data shows it
  settled since (`tracker.reminders.settled`); those that fired more than `horizon_days` ago
  are folded into one digest per chat instead of a flood;
- reminders of one deadline and offset for several States share one message per chat (the
  annual-report reminder lists the States, instead of one message per State);
- the Sender raises RetryLater on flood control (HTTP 429): the claim is given back with that
  delay and the sweep stops there; nothing is dropped, the next sweep carries on.

Reminders use everything recorded, whatever its knowledge time: a replay with a frozen clock
(tests, `tracker reminders --as-of`) must see meetings and requests recorded later, and in live
operation nothing is recorded in the future anyway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from projections.ledger import Ledger
from tracker.clock import Clock
from tracker.reminders import (
    DEFAULT_OFFSETS,
    MESSAGE_LIMIT,
    Reminder,
    ReminderOffsets,
    due_reminders,
    render,
    render_digest,
    settled,
)
from tracker.service import TrackerService
from tracker.subscriptions import DeliveryRecord, FocalPoint, Subscription, recipients

log = logging.getLogger(__name__)

#: Knowledge time meaning "everything recorded" (see the module docstring).
_EVERYTHING = datetime.max.replace(tzinfo=UTC)
#: Days of policy results kept in memory (a sweep window plus the /reminders look-ahead).
_CACHE_DAYS = 800


class RetryLater(Exception):
    """The messenger asks to wait (Telegram flood control): try again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry in {seconds:g} s")
        self.seconds = seconds


class Undeliverable(Exception):
    """The chat refuses messages for good (bot blocked or removed, chat deleted)."""


class Sender(Protocol):
    """Where messages go (Telegram in the bot; a recorder in tests)."""

    async def send(self, chat_id: int, text: str) -> None:
        """Deliver plain text; raise RetryLater on flood control, Undeliverable when the chat
        will never accept it, anything else for a failure worth retrying."""
        ...


class DeliveryStore(Protocol):
    """What the sweep needs of `tracker.stores.reminders.SqlReminderStore`."""

    def subscriptions(self, chat_id: int | None = None) -> tuple[Subscription, ...]: ...

    def focal_points(self) -> tuple[FocalPoint, ...]: ...

    def deliveries_since(
        self, fire_on: date, chat_id: int | None = None
    ) -> Mapping[tuple[str, int], DeliveryRecord]: ...

    def claim(
        self,
        chat_id: int,
        items: Sequence[tuple[str, date]],
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
    ) -> set[str]: ...

    def mark_sent(
        self, chat_id: int, keys: Sequence[str], *, worker: str, now: datetime, late: bool
    ) -> int: ...

    def mark_failed(
        self, chat_id: int, keys: Sequence[str], *, worker: str, now: datetime, reason: str
    ) -> int: ...

    def release(
        self, chat_id: int, keys: Sequence[str], *, worker: str, retry_at: datetime
    ) -> int: ...


@dataclass(frozen=True)
class Outgoing:
    """One message to one chat, carrying one or more reminders."""

    chat_id: int
    reminders: tuple[Reminder, ...]
    digest: bool

    def text(self, today: date) -> str:
        if self.digest:
            return render_digest(self.reminders, today)
        return render(self.reminders, today)

    def only(self, keys: set[str]) -> Outgoing:
        return Outgoing(
            self.chat_id, tuple(r for r in self.reminders if r.key in keys), self.digest
        )


@dataclass(frozen=True)
class Delivered:
    key: str
    chat_id: int
    kind: str
    phase: str
    fire_on: date
    sent_on: date
    late: bool
    digest: bool


@dataclass(frozen=True)
class SweepResult:
    today: date
    sent: tuple[Delivered, ...]
    #: Messages sent (several reminders may share one).
    messages: int
    #: Reminders left to a later sweep because the messenger asked to wait (flood control).
    deferred: int
    #: Reminders a chat refused for good (marked failed, never retried).
    failed: int
    #: Reminders whose send failed for another reason; retried by a later sweep.
    errors: int
    #: Reminders another process held a claim on.
    busy: int

    def summary(self) -> str:
        late = sum(1 for d in self.sent if d.late)
        return (
            f"reminder sweep {self.today.isoformat()}: {len(self.sent)} sent ({late} late) in "
            f"{self.messages} messages, {self.deferred} deferred, {self.failed} failed, "
            f"{self.errors} errors, {self.busy} held elsewhere"
        )


def default_worker_id() -> str:
    """Who holds a claim: host, process and a random suffix (pids repeat across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Sweeper:
    """Sends due reminders once per chat; see the module docstring."""

    def __init__(
        self,
        service: TrackerService,
        deliveries: DeliveryStore,
        sender: Sender,
        clock: Clock,
        offsets: ReminderOffsets = DEFAULT_OFFSETS,
        horizon_days: int = 14,
        *,
        lease: timedelta = timedelta(minutes=10),
        catch_up_days: int = 92,
        worker: str | None = None,
    ) -> None:
        if horizon_days < 0:
            raise ValueError("horizon_days must be >= 0")
        if catch_up_days < horizon_days:
            raise ValueError("catch_up_days must be at least horizon_days")
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self.service = service
        self.deliveries = deliveries
        self.sender = sender
        self.clock = clock
        self.offsets = offsets
        self.horizon_days = horizon_days
        self.lease = lease
        #: How far back a sweep looks for reminders never sent (downtime longer than this
        #: loses the oldest; monthly overdue notices keep coming regardless).
        self.catch_up_days = catch_up_days
        self.worker = worker or default_worker_id()
        self._lock = threading.Lock()
        self._cache: dict[date, tuple[Reminder, ...]] = {}
        self._cache_position: int | None = None

    # --- the policy, cached --------------------------------------------------------------------

    def ledger(self) -> Ledger:
        return self.service.known(_EVERYTHING).ledger

    def reminders_on(self, day: date, ledger: Ledger | None = None) -> tuple[Reminder, ...]:
        """The policy's reminders for `day`, cached until new events are folded in."""
        ledger = ledger or self.ledger()
        with self._lock:
            if self._cache_position != ledger.position:
                self._cache.clear()
                self._cache_position = ledger.position
            found = self._cache.get(day)
            if found is None:
                found = due_reminders(ledger, day, self.offsets)
                if len(self._cache) >= _CACHE_DAYS:
                    self._cache.pop(min(self._cache))
                self._cache[day] = found
            return found

    def _between(self, ledger: Ledger, start: date, end: date) -> list[Reminder]:
        found: list[Reminder] = []
        day = start
        while day <= end:
            found.extend(self.reminders_on(day, ledger))
            day += timedelta(days=1)
        return found

    # --- planning ------------------------------------------------------------------------------

    def pending(self, now: datetime) -> list[Outgoing]:
        """The messages a sweep at `now` would send, before claiming anything."""
        subscriptions = self.deliveries.subscriptions()
        focal = self.deliveries.focal_points()
        if not subscriptions and not focal:
            return []  # nobody listens: skip the policy altogether
        today = now.date()
        created = [s.created_at for s in subscriptions] + [f.created_at for f in focal]
        earliest = min(created).date()
        start = max(today - timedelta(days=self.catch_up_days), earliest)
        ledger = self.ledger()
        records = self.deliveries.deliveries_since(start)
        per_chat: dict[int, list[Reminder]] = {}
        verdicts: dict[str, bool] = {}
        for reminder in self._between(ledger, start, today):
            for chat_id in recipients(reminder, subscriptions, focal):
                record = records.get((reminder.key, chat_id))
                if record is not None and not record.open_to(now):
                    continue  # sent, failed, or claimed by a live sweeper
                if reminder.fire_on < today:
                    if reminder.key not in verdicts:
                        verdicts[reminder.key] = settled(ledger, reminder, today)
                    if verdicts[reminder.key]:
                        continue
                per_chat.setdefault(chat_id, []).append(reminder)
        digest_before = today - timedelta(days=self.horizon_days)
        messages: list[Outgoing] = []
        for chat_id in sorted(per_chat):
            old = [r for r in per_chat[chat_id] if r.fire_on < digest_before]
            recent = [r for r in per_chat[chat_id] if r.fire_on >= digest_before]
            if old:
                messages.extend(_fit(Outgoing(chat_id, tuple(old), digest=True), today))
            groups: dict[tuple[str, ...], list[Reminder]] = {}
            for reminder in recent:
                groups.setdefault((reminder.fire_on.isoformat(), *reminder.group), []).append(
                    reminder
                )
            for members in groups.values():
                messages.extend(_fit(Outgoing(chat_id, tuple(members), digest=False), today))
        return messages

    def upcoming(
        self, chat_id: int, days: int = 180, limit: int = 10
    ) -> tuple[tuple[Reminder, ...], ...]:
        """What is scheduled next for this chat, from today on and not yet sent: at most
        `limit` messages' worth, each a tuple of the reminders one message would carry."""
        today = self.clock.now().date()
        subscriptions = self.deliveries.subscriptions(chat_id)
        focal = tuple(f for f in self.deliveries.focal_points() if f.chat_id == chat_id)
        if not subscriptions and not focal:
            return ()
        records = self.deliveries.deliveries_since(today, chat_id)
        ledger = self.ledger()
        found: dict[tuple[str, ...], list[Reminder]] = {}
        day = today
        while day <= today + timedelta(days=days) and len(found) < limit:
            for reminder in self.reminders_on(day, ledger):
                if chat_id not in recipients(reminder, subscriptions, focal, respect_since=False):
                    continue
                record = records.get((reminder.key, chat_id))
                if record is not None and record.status != "claimed":
                    continue
                found.setdefault((day.isoformat(), *reminder.group), []).append(reminder)
            day += timedelta(days=1)
        return tuple(tuple(group) for group in list(found.values())[:limit])

    # --- sending -------------------------------------------------------------------------------

    async def sweep(self) -> SweepResult:
        """Send what is due now; see the module docstring. Database and policy work runs in a
        worker thread so that the bot's event loop keeps answering."""
        started = self.clock.now()
        today = started.date()
        outgoing = await asyncio.to_thread(self.pending, started)
        sent: list[Delivered] = []
        messages = deferred = failed = errors = busy = 0
        for message in outgoing:
            items = [(r.key, r.fire_on) for r in message.reminders]
            claimed = await asyncio.to_thread(
                self.deliveries.claim,
                message.chat_id,
                items,
                worker=self.worker,
                now=self.clock.now(),
                lease=self.lease,
            )
            busy += len(items) - len(claimed)
            if not claimed:
                continue
            part = message.only(claimed) if len(claimed) < len(items) else message
            keys = [r.key for r in part.reminders]
            try:
                await self.sender.send(part.chat_id, part.text(today))
            except RetryLater as exc:
                retry_at = self.clock.now() + timedelta(seconds=exc.seconds)
                await asyncio.to_thread(self._release, part.chat_id, keys, retry_at)
                deferred += len(keys)
                log.warning("reminders: %s; the rest waits for the next sweep", exc)
                # Telegram's flood control covers the bot, not one chat: stop here.
                deferred += sum(len(m.reminders) for m in outgoing[outgoing.index(message) + 1 :])
                break
            except Undeliverable as exc:
                await asyncio.to_thread(
                    self.deliveries.mark_failed,
                    part.chat_id,
                    keys,
                    worker=self.worker,
                    now=self.clock.now(),
                    reason=str(exc) or type(exc).__name__,
                )
                failed += len(keys)
                log.warning("reminders: chat %s refuses messages: %s", part.chat_id, exc)
                continue
            except Exception:
                await asyncio.to_thread(self._release, part.chat_id, keys, self.clock.now())
                errors += len(keys)
                log.exception("reminders: sending to chat %s failed; retried later", part.chat_id)
                continue
            late = any(r.fire_on < today for r in part.reminders)
            closed = await asyncio.to_thread(
                self.deliveries.mark_sent,
                part.chat_id,
                keys,
                worker=self.worker,
                now=self.clock.now(),
                late=late,
            )
            if closed != len(keys):
                # Our lease ran out during the send and another sweeper took some over.
                log.warning(
                    "reminders: %d of %d claims to chat %s expired during the send; "
                    "raise the lease if sends are this slow",
                    len(keys) - closed,
                    len(keys),
                    part.chat_id,
                )
            messages += 1
            sent.extend(
                Delivered(
                    key=r.key,
                    chat_id=part.chat_id,
                    kind=r.kind,
                    phase=r.phase,
                    fire_on=r.fire_on,
                    sent_on=today,
                    late=r.fire_on < today,
                    digest=part.digest,
                )
                for r in part.reminders
            )
        result = SweepResult(today, tuple(sent), messages, deferred, failed, errors, busy)
        if sent or deferred or failed or errors:
            log.info("%s", result.summary())
        return result

    def _release(self, chat_id: int, keys: Sequence[str], retry_at: datetime) -> None:
        self.deliveries.release(chat_id, keys, worker=self.worker, retry_at=retry_at)


def _fit(message: Outgoing, today: date) -> list[Outgoing]:
    """The message, split in halves until every part fits Telegram's length limit."""
    if len(message.reminders) == 1 or len(message.text(today)) <= MESSAGE_LIMIT:
        return [message]
    half = len(message.reminders) // 2
    first = Outgoing(message.chat_id, message.reminders[:half], message.digest)
    second = Outgoing(message.chat_id, message.reminders[half:], message.digest)
    return _fit(first, today) + _fit(second, today)

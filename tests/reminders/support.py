"""Helpers for the reminder tests: a wired sweeper on a test database, recording senders, and
the entry points of the worker processes (importable by name, as "spawn" children need).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from events.sql import SqlEventStore
from tracker.clock import Clock, FixedClock
from tracker.reminders import ReminderOffsets
from tracker.service import TrackerService
from tracker.stores.reminders import SqlReminderStore
from tracker.sweep import Delivered, RetryLater, Sweeper, SweepResult, Undeliverable

ALL_CHAT = 1001


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def at_six(day: date) -> datetime:
    """Sweeps in these tests run at 06:00 UTC."""
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC)


def days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


@dataclass
class RecordingSender:
    """Keeps every message; optionally sleeps per send (to widen race windows)."""

    delay: float = 0.0
    messages: list[tuple[int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def send(self, chat_id: int, text: str) -> None:
        if self.delay:
            time.sleep(self.delay)  # blocking on purpose: the loop's clock may be frozen
        with self._lock:
            self.messages.append((chat_id, text))


@dataclass
class ScriptedSender(RecordingSender):
    """Raises the given errors on the first sends, then records like RecordingSender."""

    errors: list[Exception] = field(default_factory=list)

    async def send(self, chat_id: int, text: str) -> None:
        if self.errors:
            raise self.errors.pop(0)
        await super().send(chat_id, text)


class KillingSender:
    """Dies (SIGKILL, no clean-up) the moment it is asked to send: after the claim, before the
    message leaves."""

    async def send(self, chat_id: int, text: str) -> None:
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(60)  # never reached


@dataclass
class Rig:
    """An event store with the bundled dataset, a reminder store and a sweeper on one database."""

    events: SqlEventStore
    reminders: SqlReminderStore
    service: TrackerService
    sweeper: Sweeper

    def close(self) -> None:
        self.reminders.close()
        self.events.close()

    def sweep(self) -> tuple[Delivered, ...]:
        """One sweep; what it sent."""
        return self.result().sent

    def result(self) -> SweepResult:
        return asyncio.run(self.sweeper.sweep())


def make_rig(
    url: str,
    schema: str | None,
    clock: Clock,
    sender: Any,
    *,
    horizon_days: int = 14,
    lease: timedelta = timedelta(minutes=10),
    offsets: ReminderOffsets | None = None,
    worker: str | None = None,
) -> Rig:
    events = SqlEventStore(url, schema)
    reminders = SqlReminderStore(url, schema)
    service = TrackerService(events, clock)
    sweeper = Sweeper(
        service,
        reminders,
        sender,
        clock,
        offsets or ReminderOffsets(),
        horizon_days,
        lease=lease,
        worker=worker,
    )
    return Rig(events, reminders, service, sweeper)


def kinds(delivered: Iterable[Delivered]) -> Counter[tuple[str, str]]:
    return Counter((d.kind, d.phase) for d in delivered)


# --- worker processes ---------------------------------------------------------------------------


def sweep_then_die(url: str, schema: str | None, now: datetime, lease_seconds: float) -> None:
    """Child process: claims the first message, then is SIGKILLed inside the send."""
    rig = make_rig(
        url, schema, FixedClock(now), KillingSender(), lease=timedelta(seconds=lease_seconds)
    )
    rig.sweep()
    raise SystemExit("the sender should have killed this process")


def sweep_days_in_step(
    url: str,
    schema: str | None,
    name: str,
    sweep_days: list[date],
    barrier: Any,
    results: Any,
) -> None:
    """Child process: one sweep per day, starting each together with the other processes.

    Puts (name, [(key, chat, day) sent], claims found held by another process) on `results`.
    """
    try:
        clock = FixedClock(at_six(sweep_days[0]))
        sender = RecordingSender(delay=0.005)
        rig = make_rig(url, schema, clock, sender, worker=name)
        rig.sweeper.ledger()  # fold before the race, so both start sending at once
        sent: list[tuple[str, int, str]] = []
        busy = 0
        for day in sweep_days:
            clock.set(at_six(day))
            barrier.wait(timeout=60)
            result = rig.result()
            sent.extend((d.key, d.chat_id, day.isoformat()) for d in result.sent)
            busy += result.busy
        rig.close()
        results.put((name, sent, busy))
    except BaseException as exc:  # reported to the parent, which fails the test with it
        results.put(f"{name}: {type(exc).__name__}: {exc}")
        raise


__all__ = [
    "ALL_CHAT",
    "KillingSender",
    "RecordingSender",
    "RetryLater",
    "Rig",
    "ScriptedSender",
    "Undeliverable",
    "at_six",
    "days",
    "kinds",
    "make_rig",
    "sweep_days_in_step",
    "sweep_then_die",
    "utc",
]

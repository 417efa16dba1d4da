"""Delivery on both backends: claim -> send -> mark sent, a process killed mid-send, two
sweepers racing, downtime caught up once (late, or folded into a digest), flood control."""

from __future__ import annotations

import multiprocessing
import signal
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from projections.ledger import Ledger
from tracker.clock import FixedClock
from tracker.reminders import reminders_between, settled
from tracker.stores.reminders import SqlReminderStore

from .support import (
    ALL_CHAT,
    RecordingSender,
    RetryLater,
    ScriptedSender,
    Undeliverable,
    at_six,
    days,
    make_rig,
    sweep_days_in_step,
    sweep_then_die,
    utc,
)

if TYPE_CHECKING:
    from tests.databases import TestDatabase

MAY_1 = date(2024, 5, 1)


# --- the delivery log ---------------------------------------------------------------------------


def test_a_claim_is_held_by_one_worker_until_sent_or_its_lease_runs_out(
    loaded: TestDatabase,
) -> None:
    store = SqlReminderStore(loaded.url, loaded.schema)
    now, lease = utc(2024, 5, 1, 6), timedelta(minutes=10)
    items = [("k1", MAY_1), ("k2", MAY_1)]
    try:
        assert store.claim(7, items, worker="a", now=now, lease=lease) == {"k1", "k2"}
        assert store.claim(7, items, worker="b", now=now, lease=lease) == set()
        assert store.claim(8, items, worker="b", now=now, lease=lease) == {"k1", "k2"}  # per chat
        assert store.mark_sent(7, ["k1"], worker="a", now=now, late=False) == 1
        expired = now + lease + timedelta(seconds=1)
        # k2's holder is presumed dead after its lease: another worker takes it over...
        assert store.claim(7, items, worker="b", now=expired, lease=lease) == {"k2"}
        # ...and the old holder can no longer close it.
        assert store.mark_sent(7, ["k2"], worker="a", now=expired, late=False) == 0
        assert store.mark_sent(7, ["k2"], worker="b", now=expired, late=True) == 1
        # Sent is final, whatever the lease says.
        assert store.claim(7, items, worker="c", now=now + timedelta(days=9), lease=lease) == set()
        # A release makes the claim available again from the given time only.
        assert store.claim(9, [("k3", MAY_1)], worker="a", now=now, lease=lease) == {"k3"}
        assert store.release(9, ["k3"], worker="a", retry_at=now + timedelta(seconds=30)) == 1
        assert store.claim(9, [("k3", MAY_1)], worker="b", now=now, lease=lease) == set()
        later = now + timedelta(seconds=31)
        assert store.claim(9, [("k3", MAY_1)], worker="b", now=later, lease=lease) == {"k3"}
        log = store.deliveries_since(MAY_1)
        assert (log[("k2", 7)].status, log[("k2", 7)].attempts, log[("k2", 7)].late) == (
            "sent",
            2,
            True,
        )
        assert store.delivery_counts() == {"sent": 2, "claimed": 3}
    finally:
        store.close()


def test_subscriptions_are_kept_once_per_chat_topic_and_state(loaded: TestDatabase) -> None:
    store = SqlReminderStore(loaded.url, loaded.schema)
    at = utc(2024, 1, 1)
    try:
        assert store.subscribe(5, "all", None, by="t", at=at)
        assert not store.subscribe(5, "all", None, by="t", at=at)  # NULL State: still a duplicate
        assert store.subscribe(5, "state", "LAO", by="t", at=at)
        assert not store.subscribe(5, "state", "LAO", by="t", at=at)
        assert store.subscribe(5, "state", "AFG", by="t", at=at)
        assert store.subscribe(6, "reports", None, by="t", at=at)
        assert [(s.topic, s.state) for s in store.subscriptions(5)] == [
            ("all", None),
            ("state", "AFG"),
            ("state", "LAO"),
        ]
        assert store.unsubscribe(5, "state", "LAO") == 1
        assert store.unsubscribe(5) == 2
        assert [s.chat_id for s in store.subscriptions()] == [6]
        store.set_focal_point("LAO", 5, by="t", at=at)
        store.set_focal_point("LAO", 9, by="t", at=at)  # one chat per State: replaced
        assert [(f.iso3, f.chat_id) for f in store.focal_points()] == [("LAO", 9)]
        assert store.remove_focal_point("LAO")
        with pytest.raises(ValueError, match="names its State"):
            store.subscribe(5, "state", None, by="t", at=at)
    finally:
        store.close()


# --- crash between claim and send ---------------------------------------------------------------


def test_a_process_killed_between_claim_and_send_is_retried_once_after_its_lease(
    loaded: TestDatabase,
) -> None:
    lease = 60.0
    start = at_six(MAY_1)
    setup = make_rig(loaded.url, loaded.schema, FixedClock(start), RecordingSender())
    setup.reminders.subscribe(ALL_CHAT, "all", None, by="test", at=utc(2024, 5, 1))
    setup.close()

    context = multiprocessing.get_context("spawn")
    child = context.Process(target=sweep_then_die, args=(loaded.url, loaded.schema, start, lease))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL

    sender = RecordingSender()
    clock = FixedClock(start + timedelta(seconds=5))
    rig = make_rig(loaded.url, loaded.schema, clock, sender, lease=timedelta(seconds=lease))
    try:
        held = {
            k
            for (k, _), r in rig.reminders.deliveries_since(MAY_1).items()
            if r.status == "claimed"
        }
        assert held, "the child should have claimed before it died"
        first = rig.sweep()  # the lease still runs: the dead process's claim is left alone
        assert held.isdisjoint(d.key for d in first)
        clock.set(start + timedelta(seconds=lease + 1))
        second = rig.sweep()  # the lease ran out: taken over and sent
        assert {d.key for d in second} == held
        clock.set(start + timedelta(hours=1))
        assert rig.sweep() == ()
        sent = [d.key for d in (*first, *second)]
        assert len(sent) == len(set(sent))
        expected = {r.key for r in rig.sweeper.reminders_on(MAY_1)}
        assert set(sent) == expected
        log = rig.reminders.deliveries_since(MAY_1)
        assert {r.status for r in log.values()} == {"sent"}
        assert {log[(k, ALL_CHAT)].attempts for k in held} == {2}
    finally:
        rig.close()


# --- two sweepers at once -----------------------------------------------------------------------


@pytest.mark.slow
def test_two_sweepers_at_the_same_moment_never_send_twice(loaded: TestDatabase) -> None:
    setup = make_rig(loaded.url, loaded.schema, FixedClock(at_six(MAY_1)), RecordingSender())
    for chat, topic, state in ((1, "all", None), (2, "reports", None), (3, "state", "AND")):
        setup.reminders.subscribe(chat, topic, state, by="test", at=utc(2024, 3, 1))
    setup.close()
    # Day by day, and a first sweep that catches up on March: many claims race.
    sweep_days = [date(2024, 3, 31), *days(date(2024, 4, 20), date(2024, 5, 2))]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(
            target=sweep_days_in_step,
            args=(loaded.url, loaded.schema, name, sweep_days, barrier, results),
        )
        for name in ("sweeper-a", "sweeper-b")
    ]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [r for r in reports if isinstance(r, str)] == []
    sent = [(key, chat) for _name, items, _busy in reports for key, chat, _day in items]
    duplicates = [pair for pair, n in Counter(sent).items() if n > 1]
    assert duplicates == []
    check = make_rig(loaded.url, loaded.schema, FixedClock(at_six(MAY_1)), RecordingSender())
    try:
        log = check.reminders.deliveries_since(date(2024, 1, 1))
    finally:
        check.close()
    assert set(sent) == set(log)
    assert {r.status for r in log.values()} == {"sent"}
    assert len(sent) > 300  # chats 1 and 2 get every report reminder
    # Evidence of a real race: both sent some, or one found claims the other held.
    assert min(len(items) for _, items, _ in reports) > 0 or sum(b for *_, b in reports) > 0
    assert all(worker.exitcode == 0 for worker in workers)


# --- downtime -----------------------------------------------------------------------------------


def test_ten_days_offline_then_each_missed_reminder_arrives_once_marked_late(
    loaded: TestDatabase, ledger: Ledger
) -> None:
    sender = RecordingSender()
    clock = FixedClock(at_six(date(2024, 4, 10)))
    rig = make_rig(loaded.url, loaded.schema, clock, sender)
    rig.reminders.subscribe(ALL_CHAT, "all", None, by="test", at=utc(2024, 4, 10))
    try:
        for day in days(date(2024, 4, 10), date(2024, 4, 20)):
            clock.set(at_six(day))
            rig.sweep()
        before = len(sender.messages)
        # Offline from 21 to 30 April; started again on 1 May.
        clock.set(at_six(MAY_1))
        caught_up = rig.sweep()
        assert rig.sweep() == ()  # a second sweep at start-up finds nothing left
    finally:
        rig.close()

    missed = [
        r
        for r in reminders_between(ledger, date(2024, 4, 21), date(2024, 4, 30))
        if not settled(ledger, r, MAY_1)
    ]
    late = [d for d in caught_up if d.late]
    assert sorted(d.key for d in late) == sorted(r.key for r in missed)
    assert Counter(d.fire_on for d in late) == {
        date(2024, 4, 23): 64,  # 7 days before 30 April: the 39 reports now in are dropped
        date(2024, 4, 29): 64 + 3,  # 1 day before; and 3 initial reports overdue monthly
        date(2024, 4, 30): 2,  # 2 more overdue initial reports (anchored on the 31st)
    }
    on_time = {r.key for r in reminders_between(ledger, MAY_1, MAY_1)}
    assert {d.key for d in caught_up if not d.late} == on_time
    assert not any(d.digest for d in caught_up)
    late_messages = [text for _, text in sender.messages[before:] if text.startswith("(Late:")]
    assert len(late_messages) == 2 + 5  # the two annual lists, five single initial reports
    assert "(Late: this should have gone out on 23 April 2024.)" in late_messages[0]


def test_reminders_older_than_the_horizon_are_folded_into_one_digest(
    loaded: TestDatabase, ledger: Ledger
) -> None:
    sender = RecordingSender()
    clock = FixedClock(at_six(date(2024, 3, 30)))
    rig = make_rig(loaded.url, loaded.schema, clock, sender, horizon_days=5)
    rig.reminders.subscribe(ALL_CHAT, "all", None, by="test", at=utc(2024, 3, 30))
    try:
        rig.sweep()
        clock.set(at_six(MAY_1))  # offline 31 March to 30 April
        caught_up = rig.sweep()
    finally:
        rig.close()
    folded = [d for d in caught_up if d.digest]
    assert folded and all(d.late and d.fire_on < date(2024, 4, 26) for d in folded)
    digests = [text for _, text in sender.messages if text.startswith("Digest:")]
    assert len(digests) == 1
    assert f"Digest: {len(folded)} reminders fell due from 31 March 2024" in digests[0]
    recent_late = [d for d in caught_up if d.late and not d.digest]
    assert recent_late and all(d.fire_on >= date(2024, 4, 26) for d in recent_late)
    keys = [d.key for d in caught_up]
    assert len(keys) == len(set(keys))


def test_a_chat_subscribed_today_gets_no_backlog(loaded: TestDatabase) -> None:
    sender = RecordingSender()
    clock = FixedClock(at_six(MAY_1))
    rig = make_rig(loaded.url, loaded.schema, clock, sender)
    rig.reminders.subscribe(ALL_CHAT, "all", None, by="test", at=utc(2024, 5, 1, 5))
    try:
        sent = rig.sweep()
    finally:
        rig.close()
    assert sent and {d.fire_on for d in sent} == {MAY_1}


# --- send failures ------------------------------------------------------------------------------


def test_flood_control_delays_a_reminder_and_never_drops_it(loaded: TestDatabase) -> None:
    sender = ScriptedSender(errors=[RetryLater(30)])
    clock = FixedClock(at_six(MAY_1))
    rig = make_rig(loaded.url, loaded.schema, clock, sender)
    rig.reminders.subscribe(ALL_CHAT, "all", None, by="test", at=utc(2024, 5, 1))
    try:
        first = rig.result()
        assert first.sent == () and first.deferred > 0
        clock.set(at_six(MAY_1) + timedelta(seconds=10))
        early = rig.result()  # the refused message waits for its 30 s; the rest go
        clock.set(at_six(MAY_1) + timedelta(seconds=31))
        late = rig.result()
        assert late.sent
        expected = {r.key for r in rig.sweeper.reminders_on(MAY_1)}
    finally:
        rig.close()
    keys = [d.key for d in (*early.sent, *late.sent)]
    assert sorted(keys) == sorted(expected)


def test_a_chat_that_refuses_is_marked_failed_and_other_errors_are_retried(
    loaded: TestDatabase,
) -> None:
    sender = ScriptedSender(errors=[Undeliverable("Forbidden: bot was blocked by the user")])
    clock = FixedClock(at_six(MAY_1))
    rig = make_rig(loaded.url, loaded.schema, clock, sender)
    rig.reminders.subscribe(11, "state", "AND", by="test", at=utc(2024, 5, 1))
    rig.reminders.subscribe(12, "state", "AND", by="test", at=utc(2024, 5, 1))
    try:
        first = rig.result()
        assert (first.failed, len(first.sent)) == (1, 1)
        assert rig.result().sent == ()  # a refusal is final
        sender.errors.append(ConnectionError("network down"))
        rig.reminders.subscribe(13, "state", "AND", by="test", at=utc(2024, 5, 1))
        second = rig.result()
        assert (second.errors, second.sent) == (1, ())
        third = rig.result()  # released at once: the next sweep sends it
        assert [d.chat_id for d in third.sent] == [13]
        statuses = rig.reminders.delivery_counts()
    finally:
        rig.close()
    assert statuses == {"failed": 1, "sent": 2}

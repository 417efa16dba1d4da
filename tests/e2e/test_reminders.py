"""Reminders through the real bot and a fake Bot API: the commands, and the JobQueue sweep that
runs at start-up and sends what fell due while the bot was down (once, folded into a digest)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from bot.reminders import JOB_NAME, START_UP_JOB_NAME
from events.schema import CoverageDeclared, new_event
from events.sql import SqlEventStore
from tracker.stores.reminders import SqlReminderStore

from .conftest import ADMIN, VIEWER, RunningBot, running_bot
from .fake_bot_api import FakeBotApi

REMINDED_CHAT = -100424242


def test_subscribe_reminders_and_unsubscribe(bot: RunningBot) -> None:
    answer = bot.ask("/subscribe Laos", user=VIEWER)
    assert (
        answer.text == "This chat now gets reminders for Lao PDR. /reminders shows what comes next."
    )
    assert bot.ask("/subscribe LAO", user=VIEWER).text.startswith("This chat already gets")
    assert "Atlantis" in bot.ask("/subscribe Atlantis", user=VIEWER).text

    listing = bot.ask("/reminders", user=VIEWER).text
    assert listing.startswith("This chat gets reminders for: Lao PDR.")
    # The bot's "now" is 27 November 2025: the 2025 annual report is due 30 April 2026.
    assert (
        "• 31 March 2026: Annual Article 7 report for 2025, due 30 April 2026 — Lao PDR" in listing
    )

    assert bot.ask("/unsubscribe reports", user=VIEWER).text == (
        "This chat has no subscription for reports."
    )
    assert bot.ask("/unsubscribe", user=VIEWER).text == (
        "This chat gets no more reminders (1 subscription(s) stopped)."
    )
    assert bot.ask("/reminders", user=VIEWER).text.startswith("This chat gets no reminders.")


def test_only_an_admin_names_a_focal_point_chat(bot: RunningBot) -> None:
    assert bot.ask("/focalpoint Laos", user=VIEWER).text == "Only an admin can do that."
    answer = bot.ask("/focalpoint Laos", user=ADMIN)
    assert answer.text.startswith("This chat is now Lao PDR's focal-point chat")
    assert "as its focal-point chat" in bot.ask("/reminders", user=ADMIN).text
    assert bot.ask("/focalpoint Laos off", user=ADMIN).text == (
        "Lao PDR has no focal-point chat any more."
    )


def test_the_sweep_job_runs_at_start_up_and_catches_up_once(
    api: FakeBotApi, database_url: str
) -> None:
    # The data declares the 2024 annual reports complete to the end of 2025, so the States
    # without one are overdue, monthly from 1 May 2025; the chat subscribed on 1 October.
    with SqlEventStore(database_url) as store:
        coverage = CoverageDeclared(
            subject="annual_reports",
            period_start=date(2024, 7, 1),
            period_end=date(2025, 12, 31),
            year_covered=2024,
        )
        store.append(
            "ccm:coverage:annual_reports",
            [
                new_event(
                    coverage,
                    occurred_on=date(2025, 10, 1),
                    recorded_at=datetime(2025, 10, 1, tzinfo=UTC),
                    recorded_by="test",
                    source="test",
                )
            ],
            expected_version=None,
        )
    with SqlReminderStore(database_url) as reminders:
        reminders.subscribe(
            REMINDED_CHAT, "reports", None, by="test", at=datetime(2025, 10, 1, tzinfo=UTC)
        )

    def to_chat(call: Any) -> bool:
        return call.chat_id == REMINDED_CHAT

    with running_bot(api, database_url) as bot:
        [job] = bot.application.job_queue.get_jobs_by_name(JOB_NAME)
        assert (job.job.coalesce, job.job.misfire_grace_time, job.job.max_instances) == (
            True,
            None,
            1,
        )
        assert job.job.trigger.interval.total_seconds() == 5 * 60
        assert len(bot.application.job_queue.get_jobs_by_name(START_UP_JOB_NAME)) <= 1
        [digest] = api.wait_for("sendMessage", 1, where=to_chat)
        assert digest.params["parse_mode"] == "HTML"
        # 1 October and 1 November are both more than 14 days before 27 November: one digest.
        assert digest.text.startswith("Digest: ")
        assert "• 1 October 2025: Overdue: Annual Article 7 report for 2024" in digest.text
        assert "• 1 November 2025: Overdue: Annual Article 7 report for 2024" in digest.text
        assert _all_marked_sent(database_url)
    # A restart sends nothing again.
    api.clear()
    with running_bot(api, database_url) as bot:
        api.wait_for("getUpdates", 2)
        assert [c for c in api.calls_to("sendMessage") if to_chat(c)] == []


def _all_marked_sent(database_url: str, timeout: float = 10.0) -> bool:
    """Every delivery row sent and late, once the sweep has committed (just after the send)."""
    deadline = time.monotonic() + timeout
    with SqlReminderStore(database_url) as reminders:
        while True:
            log = reminders.deliveries_since(date(2025, 1, 1))
            if log and all(r.status == "sent" and r.late for r in log.values()):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

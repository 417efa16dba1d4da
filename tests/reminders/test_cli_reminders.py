"""`tracker reminders --as-of DATE --dry-run [--json]`, and its refusal to send."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from tracker.cli import main
from tracker.stores.reminders import SqlReminderStore

from .support import utc

if TYPE_CHECKING:
    from tests.databases import TestDatabase


@pytest.fixture
def env(loaded: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> TestDatabase:
    monkeypatch.setenv("TRACKER_DATABASE_URL", loaded.url)
    if loaded.schema:
        monkeypatch.setenv("TRACKER_DATABASE_SCHEMA", loaded.schema)
    return loaded


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out)
    return code, out.getvalue()


def test_without_dry_run_it_refuses_and_points_to_the_bot(
    env: TestDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = cli("reminders", "--as-of", "2024-04-29")
    assert (code, out) == (2, "")
    assert "tracker bot" in capsys.readouterr().err


def test_a_dry_run_without_subscriptions_prints_the_reminders(env: TestDatabase) -> None:
    code, out = cli("reminders", "--as-of", "2024-04-29", "--dry-run")
    assert code == 0
    assert out.startswith("Reminders a sweep on 2024-04-29 would send: 106 (dry run)\n")
    assert "No chat is subscribed" in out
    assert "Reminder: Annual Article 7 report for 2023 — due 30 April 2024 (tomorrow)." in out
    assert "For: 103 States Parties whose report is not recorded yet: Afghanistan," in out


def test_a_dry_run_names_the_chats_and_what_they_already_got(env: TestDatabase) -> None:
    with SqlReminderStore(env.url, env.schema) as store:
        store.subscribe(7, "extensions", None, by="test", at=utc(2024, 1, 1))
        store.subscribe(8, "state", "LAO", by="test", at=utc(2024, 1, 1))
        key = "extension_cutoff:DEU:art4:main:13MSP:2024-12-16:missed"
        now = utc(2024, 12, 17, 6)
        assert store.claim(7, [(key, now.date())], worker="w", now=now, lease=timedelta(minutes=1))
        store.mark_sent(7, [key], worker="w", now=now, late=False)
    code, out = cli("reminders", "--as-of", "2024-12-17", "--dry-run", "--json")
    assert code == 0
    body = json.loads(out)
    assert (body["as_of"], body["dry_run"], body["subscriptions"]) == ("2024-12-17", True, 2)
    assert body["counts"] == {"extension_cutoff:missed": 1}
    [reminder] = body["reminders"]
    assert reminder["key"] == key
    assert reminder["chats"] == [{"chat_id": 7, "already_sent": True}]
    assert reminder["text"].startswith("Missed: Article 4 extension request for 13MSP")

    code, out = cli("reminders", "--as-of", "2024-03-31", "--dry-run")
    assert code == 0
    assert "== chat 8: 1 to send\n\nReminder: Annual Article 7 report for 2023" in out
    assert "For: Lao PDR.\n" in out  # the chat following Lao PDR hears about Lao PDR only
    assert "reminders match no subscription and would not be sent." in out

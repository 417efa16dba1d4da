"""Fixtures for end-to-end bot tests: the bundled dataset, a fake Bot API, a running bot.

The bot is the real python-telegram-bot Application built by `bot.app.build_application` and
run by `bot.app.run` (run_polling, or run_webhook) in a thread with its own event loop; it talks
HTTP to the fake Bot API server. Tests push updates into the fake server and wait for the calls
the bot makes.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import build_application, run
from events.sql import SqlEventStore, upgrade
from tracker.bootstrap import Tracker, build
from tracker.clock import FixedClock
from tracker.config import Role, Settings
from tracker.importer import load_bundled

from .fake_bot_api import ApiCall, FakeBotApi

ADMIN, RECORDER, VIEWER, STRANGER = 111, 222, 333, 999
USERS = {ADMIN: Role.ADMIN, RECORDER: Role.RECORDER, VIEWER: Role.VIEWER}
USERNAMES = {ADMIN: "alice", RECORDER: "bob", VIEWER: "carol", STRANGER: "mallory"}
#: The bot's "now": after the bundled data's newest knowledge time (2025-09-16).
NOW = datetime(2025, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def bundled_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the bundled CCM dataset, loaded once per session."""
    path = tmp_path_factory.mktemp("bundled") / "bundled.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    store = SqlEventStore(url)
    try:
        load_bundled(store)
    finally:
        store.close()
    return path


@pytest.fixture
def database_url(bundled_db: Path, tmp_path: Path) -> str:
    """A private copy of the bundled database (tests that record change it)."""
    copy = tmp_path / "tracker.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(bundled_db) + suffix)
        if source.exists():
            shutil.copy(source, Path(str(copy) + suffix))
    return f"sqlite:///{copy}"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


class RunningBot:
    """A bot running against the fake server; `say` and `press` act as users."""

    def __init__(self, api: FakeBotApi, tracker: Tracker, application: Any) -> None:
        self.api = api
        self.tracker = tracker
        self.application = application

    def say(self, text: str, user: int = ADMIN, chat: int | None = None) -> dict[str, Any]:
        return self.api.push_message(text, user_id=user, username=USERNAMES.get(user), chat_id=chat)

    def ask(self, text: str, user: int = ADMIN, method: str = "sendMessage") -> ApiCall:
        """Send `text` and wait for the bot's answer (the first new `method` call)."""
        before = len(self.api.calls_to(method))
        self.say(text, user)
        return self.api.wait_for(method, before + 1)[before]

    def press(self, data: str, under: ApiCall, user: int = ADMIN) -> dict[str, Any]:
        return self.api.push_callback(data, under, user_id=user, username=USERNAMES.get(user))

    def events(self) -> int:
        return self.tracker.store.head_position()


def make_settings(api: FakeBotApi, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_token": SecretStr(api.token),
        "telegram_base_url": api.url,
        "users": USERS,
        "log_level": "DEBUG",
        "webhook_url": None,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_bot(
    api: FakeBotApi,
    database_url: str,
    customise: Callable[[Any], None] | None = None,
    **settings_overrides: Any,
) -> Iterator[RunningBot]:
    """Build the bot as `tracker bot` does and run it (bot.app.run) in a thread."""
    settings = make_settings(api, database_url, **settings_overrides)
    tracker = build(settings, FixedClock(NOW))
    application = build_application(tracker, settings, backoff=0.05)
    if customise is not None:
        customise(application)
    loop = asyncio.new_event_loop()
    failures: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            run(application, settings, stop_signals=None)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    thread = threading.Thread(target=serve, name="bot", daemon=True)
    thread.start()
    try:
        if settings.webhook_url:
            api.wait_for("setWebhook")
        else:
            api.wait_for("getUpdates")
        yield RunningBot(api, tracker, application)
    finally:
        if not loop.is_closed():
            loop.call_soon_threadsafe(application.stop_running)
        thread.join(15)
        tracker.close()
    assert not thread.is_alive(), "the bot did not stop"
    if failures:
        raise failures[0]


@pytest.fixture
def bot(api: FakeBotApi, database_url: str) -> Iterator[RunningBot]:
    with running_bot(api, database_url) as running:
        yield running

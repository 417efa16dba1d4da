"""The bot under faults: its PostgreSQL connections terminated and the database refusing
connections for a while; the Bot API timing out, failing with 5xx, rate limiting with
retry_after and answering garbage; webhook mode behind a reverse proxy. The bot stays up,
says what is wrong, loses no acknowledged write, and delays reminders without dropping them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot import formatting
from bot.reminders import _sweep_job
from events.schema import CoverageDeclared, new_event
from events.sql import SqlEventStore, upgrade
from tracker.importer import load_bundled
from tracker.stores.reminders import SqlReminderStore

from .botrig import ADMIN, NOW, FakeBotApi, RunningBot, exchange, press, running_bot

RECORD = "/record annual-report {state} 2024 on 2025-04-30 source note verbale 2025/{n}"
PARTIES = "/count parties as of 2024-06-30"
REMINDED_CHAT = -100515151


# --- database loss ------------------------------------------------------------------------------


@pytest.fixture
def bot_role(postgres_admin: sa.Engine | str) -> Iterator[tuple[str, str, str, sa.Engine]]:
    """(role, URL as that role, schema, admin engine): a PostgreSQL role only the bot uses,
    so that its sessions can be terminated and its log-ins refused without touching others."""
    from tests.databases import postgres_url

    if isinstance(postgres_admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(postgres_admin, pytrace=False)
        pytest.skip(postgres_admin)
    suffix = uuid.uuid4().hex[:12]
    role, schema = f"tt_bot_{suffix}", f"t_bot_{suffix}"
    with postgres_admin.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema} AUTHORIZATION {role}"))
    url = sa.make_url(postgres_url()).set(username=role).render_as_string(hide_password=False)
    try:
        yield role, url, schema, postgres_admin
    finally:
        with postgres_admin.begin() as connection:
            connection.execute(sa.text(f"ALTER ROLE {role} LOGIN"))
            _terminate(connection, role)
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            connection.execute(sa.text(f"DROP ROLE {role}"))


@pytest.mark.postgres
@pytest.mark.slow
def test_database_loss_mid_run_is_told_as_temporary_and_loses_no_acknowledged_write(
    bot_role: tuple[str, str, str, sa.Engine],
) -> None:
    role, url, schema, admin = bot_role
    upgrade(url, schema)
    with SqlEventStore(url, schema) as store:
        load_bundled(store)
        bundled = store.head_position()
    with FakeBotApi() as api, running_bot(api, url, database_schema=schema) as bot:
        # Arrange: one write acknowledged before anything goes wrong.
        first = _record(bot, "Togo", 1)
        assert _stored(first)

        # Act 1: every session of the bot is terminated; the pool notices and reconnects.
        with admin.begin() as connection:
            killed = _terminate(connection, role)
        assert killed >= 1
        assert "<b>112</b>" in _answer(bot, PARTIES)

        # Act 2: the database goes away (sessions killed, log-ins refused) for a while.
        [pending_preview] = exchange(bot, RECORD.format(state="Lao PDR", n=2), ADMIN)
        with admin.begin() as connection:
            connection.execute(sa.text(f"ALTER ROLE {role} NOLOGIN"))
            _terminate(connection, role)
        during = [_answer(bot, PARTIES), _answer(bot, "/state Laos")]
        unconfirmed = press(bot, pending_preview.button("Confirm"), pending_preview, ADMIN)
        unconfirmed_text = " ".join(reply.text for reply in unconfirmed)

        # Act 3: it comes back.
        with admin.begin() as connection:
            connection.execute(sa.text(f"ALTER ROLE {role} LOGIN"))
        after = _answer(bot, PARTIES)
        second = _record(bot, "Lao PDR", 3)

        # Assert: told as temporary, never as a crash; reconnected; nothing lost or doubled.
        assert all(text == formatting.UNAVAILABLE for text in during), during
        assert formatting.UNAVAILABLE in unconfirmed_text
        assert "<b>112</b>" in after
        assert _stored(second)
    with SqlEventStore(url, schema) as store:
        new = list(store.read_all(after=bundled))
    acknowledged = {_event_id(first), _event_id(second)}
    assert {str(e.event_id) for e in new} == acknowledged
    assert len(new) == 2
    print(
        f"\n[database loss] {killed} sessions terminated (reconnected), then all again with "
        f"log-ins refused for {len(during) + 1} requests (all told 'temporarily unavailable'); "
        f"{len(acknowledged)} acknowledged writes checked present once"
    )


def _terminate(connection: sa.Connection, role: str) -> int:
    query = sa.text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE usename = :role AND pid <> pg_backend_pid()"
    )
    return int(connection.scalar(query, {"role": role}) or 0)


def _answer(bot: RunningBot, text: str) -> str:
    return " ".join(reply.text for reply in exchange(bot, text, ADMIN))


def _record(bot: RunningBot, state: str, n: int) -> list[Any]:
    [preview] = exchange(bot, RECORD.format(state=state, n=n), ADMIN)
    return press(bot, preview.button("Confirm"), preview, ADMIN)


def _stored(replies: list[Any]) -> bool:
    return any("Stored" in reply.text for reply in replies)


def _event_id(replies: list[Any]) -> str:
    for reply in replies:
        for line in reply.text.splitlines():
            if "Event id" in line:
                return line.rsplit(" ", 1)[-1].strip()
    raise AssertionError(f"no event id in {[r.text for r in replies]}")


# --- Telegram faults ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "bundled.db"
    upgrade(f"sqlite:///{path}")
    with SqlEventStore(f"sqlite:///{path}") as store:
        load_bundled(store)
    return path


@pytest.fixture
def database_url(bundled: Path, tmp_path: Path) -> str:
    copy = tmp_path / "tracker.db"
    shutil.copy(bundled, copy)
    return f"sqlite:///{copy}"


@pytest.mark.slow
def test_bot_api_faults_delay_reminders_without_dropping_them_and_the_bot_stays_up(
    database_url: str,
) -> None:
    # Arrange: reminders fall due for one chat (as in tests/e2e/test_reminders.py), and the
    # first sweep (at start-up) meets a rate limit that outlasts the bot's own retries.
    _reminders_due(database_url)
    with FakeBotApi() as api:
        api.rate_limit_next("sendMessage", retry_after=1, count=4)
        with running_bot(api, database_url) as bot:
            clock = bot.tracker.clock
            attempts: dict[str, int] = {}

            # Act: one sweep per fault; the bot's clock moves a minute between sweeps, so a
            # reminder given back "for later" becomes due again.
            attempts["429 retry_after"] = _sweep_after(bot, clock, faults=4, since=0)
            api.fail_next("sendMessage", status=502, count=4)
            attempts["502"] = _sweep_after(bot, clock, faults=4)
            # Not JSON is not retried by the bot's limiter (it is no network error): the sweep
            # gives the reminder back, and the next sweep carries on.
            api.malformed_next("sendMessage", count=1)
            attempts["malformed JSON"] = _sweep_after(bot, clock, faults=1)
            undelivered = _delivered(api)
            alive = _answer(bot, "/whoami")
            # A timeout: the bot gives up on the send after 5 s and retries at once, and the
            # retry is delivered. The fake answers the first attempt after 6.5 s as delivered
            # too, as Telegram may: with no idempotency key in the Bot API, a send that times
            # out after delivery is repeated (tracker/sweep.py: a reminder repeated beats a
            # reminder lost). Nothing is dropped either way.
            api.time_out_next("sendMessage", delay=6.5, count=1)
            attempts["timeout"] = _sweep_after(bot, clock, faults=0, ok=2)
            _sweep_after(bot, clock, faults=0)  # and a sweep after that sends nothing again
            after = _answer(bot, PARTIES)

    # Assert: nothing got through the faults; then exactly one delivery; the bot kept answering.
    assert undelivered == []
    assert "telegram:111" in alive
    delivered = _delivered(api)
    assert len(delivered) == 2 and delivered[0].text == delivered[1].text  # see "timeout"
    assert delivered[0].text.startswith("Digest: ")
    assert _all_sent(database_url)
    assert "<b>112</b>" in after
    failed = len(api.calls_to("sendMessage", ok_only=False)) - len(api.calls_to("sendMessage"))
    print(
        f"\n[telegram faults] {failed} failed sends ({attempts}); the reminder digest was "
        "delivered after the faults (twice around the timeout); the bot answered between them"
    )


def _reminders_due(database_url: str) -> None:
    with SqlEventStore(database_url) as store:
        coverage = CoverageDeclared(
            subject="annual_reports",
            period_start=date(2024, 7, 1),
            period_end=date(2025, 12, 31),
            year_covered=2024,
        )
        event = new_event(
            coverage,
            occurred_on=date(2025, 10, 1),
            recorded_at=datetime(2025, 10, 1, tzinfo=UTC),
            recorded_by="test",
            source="test",
        )
        store.append("ccm:coverage:annual_reports", [event], expected_version=None)
    with SqlReminderStore(database_url) as reminders:
        reminders.subscribe(
            REMINDED_CHAT, "reports", None, by="test", at=datetime(2025, 10, 1, tzinfo=UTC)
        )


def _sweep_after(
    bot: RunningBot, clock: Any, faults: int, ok: int = 0, since: int | None = None
) -> int:
    """Run one sweep (as the JobQueue does) and wait until it met `faults` faulty answers
    and made `ok` deliveries; return how many send attempts it made.

    `since=0` counts from the first send: the start-up sweep may already have made attempts
    by the time this is called, and they belong to it."""
    api = bot.api
    before = len(api.calls_to("sendMessage", ok_only=False)) if since is None else since
    delivered = len(_delivered(api))
    if faults or ok:  # the start-up sweep is already running the first time
        clock.set(clock.now() + timedelta(minutes=1))
    if before or not faults:
        sweeper = bot.application.bot_data["reminders"].sweeper
        bot.application.job_queue.run_once(_sweep_job, when=0, data=sweeper)
    deadline = time.monotonic() + 60
    while True:
        calls = api.calls_to("sendMessage", ok_only=False)[before:]
        failed = [c for c in calls if not c.ok]
        if len(failed) >= faults and len(_delivered(api)) >= delivered + ok:
            break
        assert time.monotonic() < deadline, f"sweep stuck: {[(c.status, c.ok) for c in calls]}"
        time.sleep(0.05)
    time.sleep(0.5)  # the sweep gives the claim back after its last attempt
    return len(api.calls_to("sendMessage", ok_only=False)) - before


def _delivered(api: FakeBotApi) -> list[Any]:
    return [c for c in api.calls_to("sendMessage") if c.chat_id == REMINDED_CHAT]


def _all_sent(database_url: str) -> bool:
    with SqlReminderStore(database_url) as reminders:
        log = reminders.deliveries_since(date(2025, 1, 1))
    return bool(log) and all(row.status == "sent" for row in log.values())


# --- webhook mode behind a reverse proxy --------------------------------------------------------


def test_webhook_mode_behind_a_proxy_registers_the_public_url_and_checks_the_secret(
    database_url: str,
) -> None:
    # Arrange: the public URL is the proxy's; the bot listens on loopback, where the proxy
    # (nginx.conf, Caddyfile) forwards /telegram/…, headers included.
    port = _free_port()
    path = f"telegram/{uuid.uuid4().hex[:12]}"
    public = f"https://tracker.example.org/{path}"
    secret = uuid.uuid4().hex
    local = f"http://127.0.0.1:{port}/{path}"
    with (
        FakeBotApi() as api,
        running_bot(
            api,
            database_url,
            webhook_url=public,
            webhook_listen="127.0.0.1",
            webhook_port=port,
            webhook_secret=secret,
        ),
    ):
        [registered] = api.calls_to("setWebhook")

        # Act: what the proxy would forward: right secret, wrong secret, none, wrong path.
        statuses = {
            "wrong secret": _post(local, _update(1, "/whoami"), secret="not-" + secret),
            "no secret": _post(local, _update(2, "/whoami"), secret=None),
            "wrong path": _post(f"http://127.0.0.1:{port}/other", _update(3, "/whoami"), secret),
            "right secret": _post(local, _update(4, PARTIES), secret),
        }
        [answer] = api.wait_for("sendMessage")
        time.sleep(0.5)  # anything the refused posts would have caused has happened by now

    # Assert
    assert registered.params["url"] == public
    assert registered.params["secret_token"] == secret
    assert not api.calls_to("getUpdates", ok_only=False)
    assert statuses == {
        "wrong secret": 403,
        "no secret": 403,
        "wrong path": 404,
        "right secret": 200,
    }
    assert "<b>112</b>" in answer.text
    assert len(api.calls_to("sendMessage")) == 1  # only the update with the secret was answered


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(NOW.timestamp()),
            "chat": {"id": ADMIN, "type": "private", "first_name": "Alice"},
            "from": {"id": ADMIN, "is_bot": False, "first_name": "Alice", "username": "alice"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


def _post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "149.154.167.197"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers)
    for _ in range(100):  # the webhook server may take a moment to listen
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens at {url}")

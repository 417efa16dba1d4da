"""Every way into the bot, walked from the built Application's handlers: nothing a viewer can
send stores anything, and what would write is refused with a message.

A handler that this test does not know makes it fail, so a new command has to be classified
here (reads, writes, or this chat's own reminder preferences) before it ships.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from events.sql import SqlEventStore, make_engine, upgrade
from tracker.importer import load_bundled

from .botrig import (
    ADMIN,
    VIEWER,
    FakeBotApi,
    RunningBot,
    exchange,
    press,
    routes,
    running_bot,
)
from .support import dump_digest

RECORD = "/record annual-report Togo 2024 on 2025-04-30 source note verbale 2025/41"

#: Commands that only read: a viewer may use them, and the database must not change.
READS = {
    "start": "/start",
    "help": "/help record",
    "count": "/count parties as of 2024-06-30",
    "state": "/state Laos",
    "overdue": "/overdue initial 2024-06-30",
    "annual": "/annual 2023 2024-06-30",
    "obligations": "/obligations 4",
    "deadlines": "/deadlines 90",
    "extensions": "/extensions 12MSP",
    "indicators": "/indicators transparency 2023-24",
    "report": "/report 2023-24",
    "chart": "/chart parties",
    "export": "/export overdue initial 2024-06-30",
    "calendar": "/calendar Lao PDR",
    "reminders": "/reminders",
    "whoami": "/whoami",
}
#: Commands that write (events, or reminder settings for everyone): a viewer is refused.
WRITES = {
    "record": RECORD,
    "confirm": "/confirm {token}",
    "cancel": "/cancel {token}",
    "focalpoint": "/focalpoint Lao PDR",
}
#: This chat's own reminder subscriptions: any listed user may choose what their chat gets;
#: they may change the subscriptions table for that chat and nothing else.
OWN_CHAT = {"subscribe": "/subscribe all", "unsubscribe": "/unsubscribe all"}
KINDS = {"gate (group -1)", "commands", "plain text", "unknown commands", "buttons"}
#: The tables a viewer's own-chat commands may change.
PREFERENCES = {"subscriptions"}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roles") / "bundled.db"
    upgrade(f"sqlite:///{path}")
    with SqlEventStore(f"sqlite:///{path}") as store:
        load_bundled(store)
    return path


@pytest.fixture
def bot(bundled: Path, tmp_path: Path) -> Iterator[tuple[RunningBot, sa.Engine]]:
    copy = tmp_path / "tracker.db"
    shutil.copy(bundled, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with FakeBotApi() as api, running_bot(api, url) as running:
        yield running, engine
    engine.dispose()


@pytest.mark.slow
def test_no_handler_that_writes_is_reachable_by_a_viewer(
    bot: tuple[RunningBot, sa.Engine],
) -> None:
    running, engine = bot
    # Arrange: the routes as built, and an admin's record waiting for confirmation.
    found = routes(running.application)
    assert found.kinds == KINDS, "a new kind of handler: classify it in this test"
    unknown = found.commands - set(READS) - set(WRITES) - set(OWN_CHAT)
    assert unknown == set(), f"new commands {sorted(unknown)}: classify them in this test"
    [preview] = exchange(running, RECORD, ADMIN)
    confirm_button = preview.button("Confirm")
    token = _pending_token(running, confirm_button)
    checked: list[str] = []

    # Act and assert: every command as the viewer.
    for name in sorted(found.commands):
        text = {**READS, **WRITES, **OWN_CHAT}[name].format(token=token)
        before, before_events = dump_digest(engine), _events_and_settings(engine)

        replies = exchange(running, text, VIEWER)

        assert replies, f"/{name}: no answer"
        if name in OWN_CHAT:
            assert _events_and_settings(engine) == before_events, f"/{name} wrote"
        else:
            assert dump_digest(engine) == before, f"/{name} as a viewer changed the database"
        if name in WRITES:
            assert _refused(replies), f"/{name}: no refusal in {[r.text for r in replies]}"
        checked.append(f"/{name}")

    # The same writes by the other routes: plain text, another bot's @name, a button.
    before = dump_digest(engine)
    for text in (RECORD.removeprefix("/"), RECORD.replace("/record", "/record@someone_elses_bot")):
        assert _refused(exchange(running, text, VIEWER)), text
        checked.append(text.split()[0])
    assert _refused(press(running, confirm_button, preview, VIEWER))
    checked.append("Confirm button")
    assert dump_digest(engine) == before

    # The control: the same record, confirmed by the admin who asked, is stored.
    stored = press(running, confirm_button, preview, ADMIN)
    assert any("Stored" in reply.text for reply in stored), [r.text for r in stored]
    assert dump_digest(engine)[0] == before[0] + 1
    print(f"\n[roles] {len(checked)} ways in tried as a viewer, none wrote: {', '.join(checked)}")


def _pending_token(running: RunningBot, button: str) -> str:
    """The conversation's token behind a Confirm button (what /confirm TOKEN would carry)."""
    choice = running.application.bot_data["handlers"].memory.recall(button.partition(":")[2])
    command: str = choice.command
    assert command.startswith("/confirm ")
    return command.removeprefix("/confirm ")


def _events_and_settings(engine: sa.Engine) -> tuple[int, int, str]:
    tables = set(sa.inspect(engine).get_table_names()) - PREFERENCES
    return dump_digest(engine, only=tables)


def _refused(replies: list[object]) -> bool:
    texts = " ".join(getattr(reply, "text", "") for reply in replies)
    return any(
        mark in texts
        for mark in ("⛔", "recorder or admin role", "Only an admin", "Only the person who asked")
    )

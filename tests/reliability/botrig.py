"""Driving the real bot for the fault tests: the running bot and fake Bot API of tests/e2e,
plus what these tests need on top (any reply to a message, the routes a bot has)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from e2e.conftest import ADMIN, NOW, RECORDER, VIEWER, RunningBot, running_bot
from e2e.fake_bot_api import ApiCall, FakeBotApi
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler

__all__ = [
    "ADMIN",
    "NOW",
    "RECORDER",
    "VIEWER",
    "FakeBotApi",
    "Routes",
    "RunningBot",
    "exchange",
    "press",
    "routes",
    "running_bot",
]


@dataclass
class Routes:
    """Every way an update reaches code in a built Application."""

    commands: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)


def routes(application: Any) -> Routes:
    """Walk `application.handlers` (every group) and name what each handler accepts."""
    found = Routes()
    for group, handlers in application.handlers.items():
        for handler in handlers:
            if isinstance(handler, TypeHandler):
                found.kinds.add(f"gate (group {group})")
            elif isinstance(handler, CommandHandler):
                found.commands |= set(handler.commands)
                found.kinds.add("commands")
            elif isinstance(handler, CallbackQueryHandler):
                found.kinds.add("buttons")
            elif isinstance(handler, MessageHandler):
                text = repr(handler.filters)
                if "inverted filters.COMMAND" in text:
                    found.kinds.add("plain text")
                elif "filters.COMMAND" in text:
                    found.kinds.add("unknown commands")
                else:
                    found.kinds.add(f"messages {text}")
            else:
                found.kinds.add(type(handler).__name__)
    return found


def exchange(
    bot: RunningBot, text: str, user: int, settle: float = 0.3, timeout: float = 30.0
) -> list[ApiCall]:
    """Send `text` as `user`; return what the bot said back (all of it, once it went quiet)."""
    return _await_sends(bot.api, lambda: bot.say(text, user), settle, timeout)


def press(
    bot: RunningBot, data: str, under: ApiCall, user: int, settle: float = 0.3
) -> list[ApiCall]:
    """Press the button with callback `data` under a bot message, as `user`."""
    return _await_sends(bot.api, lambda: bot.press(data, under, user), settle, 30.0)


def _await_sends(api: FakeBotApi, act: Any, settle: float, timeout: float) -> list[ApiCall]:
    before = len(api.sends())
    act()
    deadline = time.monotonic() + timeout
    while len(api.sends()) == before:
        if time.monotonic() > deadline:
            raise TimeoutError("the bot said nothing")
        time.sleep(0.02)
    count = len(api.sends())
    while True:  # quiet for `settle` seconds: every part of the answer has been sent
        time.sleep(settle)
        if len(api.sends()) == count:
            return api.sends()[before:]
        count = len(api.sends())

"""The bot's Sender: HTML-escaped text, and Telegram's errors turned into the sweep's."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.reminders import TelegramSender
from tracker.sweep import RetryLater, Undeliverable


class StubBot:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[dict[str, Any]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.calls.append({"chat_id": chat_id, "text": text, **kwargs})
        if self.error is not None:
            raise self.error


def send(bot: StubBot, text: str = "x") -> None:
    asyncio.run(TelegramSender(bot).send(42, text))  # type: ignore[arg-type]


def test_text_is_escaped_and_sent_as_html() -> None:
    bot = StubBot()
    send(bot, "Bosnia & Herzegovina <draft>")
    [call] = bot.calls
    assert call["text"] == "Bosnia &amp; Herzegovina &lt;draft&gt;"
    assert (call["chat_id"], call["parse_mode"]) == (42, "HTML")


@pytest.mark.parametrize("retry_after", [7, timedelta(seconds=7)])
def test_flood_control_becomes_retry_later(retry_after: int | timedelta) -> None:
    with pytest.raises(RetryLater) as caught:
        send(StubBot(RetryAfter(retry_after)))
    assert caught.value.seconds == 7


@pytest.mark.parametrize(
    "error",
    [Forbidden("Forbidden: bot was blocked by the user"), BadRequest("Chat not found")],
)
def test_a_chat_that_is_gone_is_undeliverable(error: Exception) -> None:
    with pytest.raises(Undeliverable):
        send(StubBot(error))


def test_other_bad_requests_are_left_to_the_sweep_to_retry() -> None:
    with pytest.raises(BadRequest):
        send(StubBot(BadRequest("Message is too long")))

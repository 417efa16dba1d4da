"""The bot end to end: real Application, real HTTP, a fake Bot API server (fake_bot_api.py)."""

from __future__ import annotations

import time

from .conftest import ADMIN, RunningBot
from .fake_bot_api import FakeBotApi

CONTEXT_12MSP = "<i>as of 2024-06-30; data as recorded up to 2025-09-16T00:00:00Z</i>"


def test_count_parties_as_of_30_june_2024_answers_112_with_times_and_sources(
    bot: RunningBot, api: FakeBotApi
) -> None:
    started = time.perf_counter()
    answer = bot.ask("/count parties as of 2024-06-30")
    elapsed = time.perf_counter() - started

    assert answer.chat_id == ADMIN
    assert answer.params["parse_mode"] == "HTML"
    assert answer.text.startswith(
        "<b>States Parties (instrument deposited, not withdrawn)</b>: <b>112</b>\n"
        + CONTEXT_12MSP
    )
    assert "<b>Sources:</b> UNTC MTDSG XXVI-6 status" in answer.text
    assert "1. Afghanistan (AFG) · deposit date 2011-09-08" in answer.text
    print(f"/count round trip through the fake Bot API: {elapsed * 1000:.0f} ms")

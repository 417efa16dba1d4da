"""The bot end to end: real Application, real HTTP, a fake Bot API server (fake_bot_api.py).

Each test pushes updates into the fake server and asserts the exact calls the bot makes back:
what it sends, to whom, with which buttons, and nothing else.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest

from bot import formatting
from events.schema import AnnualReportSubmitted

from .conftest import ADMIN, NOW, RECORDER, STRANGER, VIEWER, RunningBot, running_bot
from .fake_bot_api import ApiCall, FakeBotApi

CONTEXT_12MSP = "<i>as of 2024-06-30; data as recorded up to 2025-09-16T00:00:00Z</i>"
RECORD_LAO_2024 = "/record annual-report Lao 2024 on 30 April 2025 source CCM/MSP/2025/5"


def _settle(api: FakeBotApi, seconds: float = 0.3) -> None:
    """Give the bot time to make any call it should not make (asserted just after)."""
    time.sleep(seconds)


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
        + "\n<b>Sources:</b> UNTC MTDSG XXVI-6 status"
    )
    assert "1. Afghanistan (AFG) · deposit date 2011-09-08" in answer.text
    assert formatting.telegram_length(answer.text) <= formatting.MAX_MESSAGE
    # 112 States do not fit one message: page buttons, and the CSV offered.
    labels = [label for row in answer.buttons for label, _ in row]
    assert labels == [formatting.LABEL_NEXT, formatting.LABEL_CSV]
    _settle(api)
    assert [c.method for c in api.sends()] == ["sendMessage"]
    print(f"\n/count round trip through the fake Bot API: {elapsed * 1000:.0f} ms")


def test_start_up_registers_the_command_menu(bot: RunningBot, api: FakeBotApi) -> None:
    [me] = api.calls_to("getMe")
    [menu] = api.calls_to("setMyCommands")
    names = [c["command"] for c in menu.json("commands")]
    assert names[:4] == ["start", "help", "count", "state"]
    assert {"overdue", "deadlines", "extensions", "indicators", "report", "chart"} <= set(names)
    assert {"export", "calendar", "whoami", "record"} <= set(names)
    assert all(1 <= len(c["description"]) <= 256 for c in menu.json("commands"))
    assert me.at < menu.at


def test_state_profile_and_timeline_for_laos(bot: RunningBot) -> None:
    answer = bot.ask("/state Laos 2024-06-30")
    text = answer.text
    assert text.startswith("<b>Lao PDR (LAO): bound</b>\n" + CONTEXT_12MSP)
    assert "<b>Entry into force:</b> 2010-08-01" in text
    assert "<b>Article 4 (main):</b> deadline 2020-08-01" in text
    assert "<code>2009-03-18</code> deposited its instrument of ratification" in text
    assert "<b>Sources:</b> Monitor Lao profile 2012" in text


def test_state_names_are_forgiving(bot: RunningBot) -> None:
    for name in ("Lao", "LAO", "Lao PDR", "lao people's democratic republic", "Laos"):
        assert bot.ask(f"/state {name}").text.startswith("<b>Lao PDR (LAO):"), name


def test_holy_see_and_vatican_and_bosnia(bot: RunningBot) -> None:
    assert bot.ask("/state Vatican").text.startswith("<b>Holy See (VAT):")
    assert bot.ask("/state Holy See").text.startswith("<b>Holy See (VAT):")
    assert bot.ask("/state Bosnia").text.startswith("<b>Bosnia and Herzegovina (BIH):")


def test_an_ambiguous_name_offers_one_button_per_state(bot: RunningBot, api: FakeBotApi) -> None:
    question = bot.ask("/state Korea as of 2024-06-30")
    assert question.text == "⚠️ <b>'Korea' could mean several States; choose one.</b>"
    labels = [label for row in question.buttons for label, _ in row]
    assert labels == [
        "Democratic People's Republic of Korea (PRK)",
        "Republic of Korea (KOR)",
    ]
    bot.press(question.button("(KOR)"), question)
    [answered] = api.wait_for("answerCallbackQuery")
    answer = api.wait_for("sendMessage", 2)[1]
    assert answer.text.startswith("<b>Republic of Korea (KOR): not signed</b>\n" + CONTEXT_12MSP)
    assert answered.params["callback_query_id"]


def test_unparseable_and_impossible_dates_say_what_was_understood(bot: RunningBot) -> None:
    impossible = bot.ask("/count parties as of 31 June 2024")
    assert impossible.text.startswith("⚠️ <b>I could not read the date after 'as of'")
    assert "31 June 2024" in impossible.text
    no_day = bot.ask("/state Laos 2024")
    assert "I read the State as 'Laos' but could not read the date" in no_day.text
    assert "end of 2024" in no_day.text


def test_dates_in_any_common_form(bot: RunningBot) -> None:
    for when in ("2024-06-30", "30 June 2024", "30/06/2024", "June 30, 2024"):
        text = bot.ask(f"/count parties as of {when}").text
        assert "<b>112</b>" in text and CONTEXT_12MSP in text, when
    assert "as of 2023-12-31" in bot.ask("/count parties as of end of 2023").text
    assert f"as of {NOW.date().isoformat()}" in bot.ask("/count parties as of today").text


def test_an_unlisted_user_gets_a_polite_refusal_and_nothing_else(
    bot: RunningBot, api: FakeBotApi
) -> None:
    events = bot.events()
    bot.say("/count parties as of 2024-06-30", user=STRANGER)
    [refusal] = api.wait_for("sendMessage")
    assert refusal.chat_id == STRANGER
    assert refusal.text == formatting.refusal(STRANGER)
    bot.say(RECORD_LAO_2024, user=STRANGER)
    bot.say("hello", user=STRANGER)
    api.wait_for("sendMessage", 3)
    # A button press from a stranger (say, forwarded) gets the refusal as an alert.
    bot.press("c:whatever", refusal, user=STRANGER)
    [alert] = api.wait_for("answerCallbackQuery")
    assert alert.params["show_alert"] == "true"
    assert str(STRANGER) in alert.params["text"]
    _settle(api)
    sends = api.sends()
    assert [c.method for c in sends] == ["sendMessage"] * 3 + ["answerCallbackQuery"]
    assert all(c.text == formatting.refusal(STRANGER) for c in sends[:3])
    assert bot.events() == events


def _record_preview(bot: RunningBot, api: FakeBotApi, user: int = RECORDER) -> ApiCall:
    preview = bot.ask(RECORD_LAO_2024, user=user)
    assert preview.text.startswith("<b>Check this event before it is stored</b>")
    assert "<b>What:</b> Lao PDR submitted its annual Article 7 report for 2024" in preview.text
    assert "<b>Recorded by:</b> telegram:222 (bob)" in preview.text
    labels = [label for row in preview.buttons for label, _ in row]
    assert labels == ["✅ Confirm", "✖ Cancel"]
    return preview


def test_record_flow_confirm_stores_exactly_one_event_signed_by_the_user(
    bot: RunningBot, api: FakeBotApi
) -> None:
    before = bot.events()
    preview = _record_preview(bot, api)
    assert bot.events() == before  # a preview stores nothing

    bot.press(preview.button("Confirm"), preview, user=RECORDER)
    [edit] = api.wait_for("editMessageText")
    assert edit.text.startswith("<b>Stored</b>")
    assert edit.params["message_id"] == str(preview.result["message_id"])
    assert edit.buttons == []
    assert bot.events() == before + 1
    [event] = list(bot.tracker.store.read_all(after=before))
    assert event.recorded_by == "telegram:222 (bob)"
    assert event.source == "CCM/MSP/2025/5"
    assert event.payload == AnnualReportSubmitted(state="LAO", year_covered=2024)
    assert str(event.occurred_on) == "2025-04-30"
    assert event.recorded_at == NOW

    # A second tap on Confirm (or a replayed update) stores nothing more.
    bot.press(preview.button("Confirm"), preview, user=RECORDER)
    second = api.wait_for("editMessageText", 2)[1]
    assert "expired or was already answered" in second.text
    assert bot.events() == before + 1
    assert api.calls_to("sendMessage") == [preview]


def test_record_flow_cancel_stores_nothing(bot: RunningBot, api: FakeBotApi) -> None:
    before = bot.events()
    preview = _record_preview(bot, api)
    bot.press(preview.button("Cancel"), preview, user=RECORDER)
    [edit] = api.wait_for("editMessageText")
    assert edit.text == "<b>Cancelled: nothing was stored.</b>"
    bot.press(preview.button("Confirm"), preview, user=RECORDER)
    api.wait_for("editMessageText", 2)
    assert bot.events() == before


def test_only_the_person_who_asked_can_confirm(bot: RunningBot, api: FakeBotApi) -> None:
    before = bot.events()
    preview = _record_preview(bot, api)
    bot.press(preview.button("Confirm"), preview, user=ADMIN)
    [edit] = api.wait_for("editMessageText")
    assert "Only the person who asked for this preview" in edit.text
    assert bot.events() == before


def test_a_viewer_cannot_record(bot: RunningBot, api: FakeBotApi) -> None:
    before = bot.events()
    refusal = bot.ask(RECORD_LAO_2024, user=VIEWER)
    assert refusal.text.startswith("⛔ <b>Recording needs the recorder or admin role")
    assert refusal.buttons == []
    refusal = bot.ask("/record", user=VIEWER)
    assert refusal.text.startswith("⛔ <b>Recording needs the recorder or admin role")
    assert bot.events() == before


def test_a_rule_violation_is_explained_before_anything_is_stored(bot: RunningBot) -> None:
    answer = bot.ask(
        "/record annual-report Lao 2023 on 2024-04-15 source CCM/MSP/2024/7", user=RECORDER
    )
    assert "annual report for 2023 is already recorded" in answer.text
    assert answer.buttons == []


def test_a_long_answer_is_paginated_and_offers_the_csv(bot: RunningBot, api: FakeBotApi) -> None:
    first = bot.ask("/count parties as of 2024-06-30")
    assert first.text.endswith("<i>page 1/2</i>")
    bot.press(first.button(formatting.LABEL_NEXT), first)
    [page2] = api.wait_for("editMessageText")
    assert page2.text.startswith(
        "<b>States Parties (instrument deposited, not withdrawn)</b>: <b>112</b> "
        "<i>(continued)</i>\n" + CONTEXT_12MSP
    )
    assert "112. Zambia (ZMB) · deposit date 2009-08-12" in page2.text
    assert page2.text.endswith("<i>page 2/2</i>")
    assert [label for row in page2.buttons for label, _ in row] == [
        formatting.LABEL_PREVIOUS,
        formatting.LABEL_CSV,
    ]
    bot.press(first.button(formatting.LABEL_CSV), first)
    [document] = api.wait_for("sendDocument")
    upload = document.files["document"]
    assert upload.filename == "count-parties-as-of-2024-06-30.csv"
    rows = list(csv.DictReader(io.StringIO(upload.content.decode("utf-8"))))
    assert len(rows) == 112
    assert rows[0] == {"iso3": "AFG", "name": "Afghanistan", "deposit_date": "2011-09-08"}
    caption = document.params["caption"]
    assert "as of 2024-06-30; data as recorded up to 2025-09-16T00:00:00Z" in caption
    assert "Sources: UNTC MTDSG XXVI-6 status" in caption


def test_report_is_sent_as_an_html_document(bot: RunningBot, api: FakeBotApi) -> None:
    document = bot.ask("/report 2023-24", method="sendDocument")
    upload = document.files["document"]
    assert upload.filename == "progress-report-2023-07-01..2024-06-30.html"
    assert upload.content.lstrip().lower().startswith(b"<!doctype html")
    assert "1 July 2023 to 30 June 2024" in document.params["caption"]
    assert "data as recorded up to 2025-09-16T00:00:00Z" in document.params["caption"]
    assert document.params["parse_mode"] == "HTML"
    _settle(api)
    assert [c.method for c in api.sends()] == ["sendDocument"]


def test_chart_is_sent_as_a_photo(bot: RunningBot, api: FakeBotApi) -> None:
    photo = bot.ask("/chart parties as of 2024-06-30", method="sendPhoto")
    upload = photo.files["photo"]
    assert upload.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "as of 2024-06-30" in photo.params["caption"]
    _settle(api)
    assert [c.method for c in api.sends()] == ["sendPhoto"]


def test_export_and_calendar_send_files(bot: RunningBot, api: FakeBotApi) -> None:
    export = bot.ask("/export overdue initial 2024-06-30", method="sendDocument")
    rows = list(csv.DictReader(io.StringIO(export.files["document"].content.decode())))
    assert [r["name"] for r in rows] == [
        "Comoros",
        "Cabo Verde",
        "Togo",
        "Congo",
        "Guinea",
        "Rwanda",
        "Madagascar",
    ]
    calendar = bot.ask("/calendar Laos", method="sendDocument")
    upload = calendar.files["document"]
    assert upload.filename == "ccm-deadlines-lao.ics"
    assert upload.content.startswith(b"BEGIN:VCALENDAR")
    assert "Lao PDR (LAO)" in calendar.params["caption"]


# Every command of the issue, through the fake server: (text, method of the answer, expected).
EVERY_COMMAND: list[tuple[str, str, str]] = [
    ("/start", "sendMessage", "Convention on Cluster Munitions"),
    ("/help", "sendMessage", "/count WHAT [as of DATE] [known at DATE]"),
    ("/help count", "sendMessage", "Example: /count parties"),
    ("/count signatories as of 2024-06-30", "sendMessage", "<b>12</b>"),
    ("/count parties as of 30 June 2024 known at 2024-09-18", "sendMessage", "<b>112</b>"),
    ("/state Bosnia 2024-06-30", "sendMessage", "Bosnia and Herzegovina (BIH)"),
    ("/overdue", "sendMessage", "Overdue initial Article 7 reports"),
    ("/overdue initial 2024-06-30", "sendMessage", "Comoros (COM)"),
    ("/overdue annual 2023 2024-06-30", "sendMessage", "for 2023"),
    ("/annual 2023 as of 2024-06-30", "sendMessage", "Annual Article 7 reports for 2023"),
    ("/obligations 4 2024-06-30", "sendMessage", "open Article 4 obligations</b>: <b>10</b>"),
    ("/deadlines 365", "sendMessage", "Deadlines from 2025-11-27 to 2026-11-27"),
    ("/extensions 12MSP", "sendMessage", "Extension requests for 12MSP</b>: <b>3</b>"),
    ("/indicators transparency 2023-24", "sendMessage", "Indicators for 2023-07-01"),
    ("/report 2023-24", "sendDocument", "progress report"),
    ("/chart reports", "sendPhoto", "reports"),
    ("/export parties", "sendDocument", "States Parties"),
    ("/calendar", "sendDocument", "all States Parties"),
    ("/whoami", "sendMessage", "You are telegram:111 (alice)"),
    ("/record", "sendMessage", "/record annual-report STATE YEAR"),
    ("count parties as of 2024-06-30", "sendMessage", "<b>112</b>"),
    ("/nonsense", "sendMessage", "I do not know the command '/nonsense'"),
]


def test_every_command_answers_through_the_fake_server(bot: RunningBot, api: FakeBotApi) -> None:
    for text, method, expected in EVERY_COMMAND:
        answer = bot.ask(text, method=method)
        assert expected in answer.text, (text, answer.text[:300])
        assert formatting.ERROR not in answer.text
    _settle(api)
    sends = api.sends()
    assert len([c for c in sends if c.method != "answerCallbackQuery"]) == len(EVERY_COMMAND)


def test_429_retry_after_is_waited_out_and_the_answer_arrives(
    bot: RunningBot, api: FakeBotApi
) -> None:
    api.rate_limit_next("sendMessage", retry_after=1)
    started = time.monotonic()
    answer = bot.ask("/count parties as of 2024-06-30")
    assert "<b>112</b>" in answer.text
    attempts = api.calls_to("sendMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert time.monotonic() - started >= 1.0


def test_5xx_on_sends_and_on_polling_are_survived(bot: RunningBot, api: FakeBotApi) -> None:
    api.fail_next("sendMessage", status=502, count=2)
    answer = bot.ask("/whoami")
    assert [c.status for c in api.calls_to("sendMessage", ok_only=False)] == [502, 502, 200]
    assert answer.text.startswith("<b>You are telegram:111 (alice)</b>")
    api.fail_next("getUpdates", status=500)
    polls = len(api.calls_to("getUpdates", ok_only=False))
    api.wait_for("getUpdates", polls + 1, ok_only=False)
    again = bot.ask("/count parties as of 2024-06-30")
    assert "<b>112</b>" in again.text


def test_a_failure_is_reported_to_the_user_logged_and_the_bot_keeps_running(
    api: FakeBotApi, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(application: Any) -> None:
        handlers = application.bot_data["handlers"]
        original = handlers.conversation.handle

        def handle(text: str, actor: Any) -> Any:
            if text.startswith("/boom"):
                raise RuntimeError("simulated failure")
            return original(text, actor)

        handlers.conversation.handle = handle

    with running_bot(api, database_url, customise=explode) as bot:
        sorry = bot.ask("/boom")
        assert sorry.text == formatting.ERROR
        assert sorry.chat_id == ADMIN
        # A malformed Bot API answer is a failure too: same handler, same apology.
        api.malformed_next("sendMessage")
        bot.say("/whoami")
        apology = api.wait_for("sendMessage", 2)[1]
        assert apology.text == formatting.ERROR
        after = bot.ask("/count parties as of 2024-06-30")
        assert "<b>112</b>" in after.text
    failures = [r for r in caplog.records if r.name == "bot.handlers" and r.exc_info]
    assert len(failures) == 2
    assert "simulated failure" in caplog.text
    assert "Traceback" in caplog.text or failures[0].exc_info is not None


def test_the_token_never_reaches_the_logs_even_at_debug(
    api: FakeBotApi, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")

    def chatty(application: Any) -> None:
        # Undo the silencing of httpx: the redaction alone must keep the token out.
        caplog.set_level("DEBUG", logger="httpx")
        caplog.set_level("DEBUG", logger="httpcore")

    with running_bot(api, database_url, customise=chatty) as bot:
        bot.ask("/count parties as of 2024-06-30")
        api.fail_next("sendMessage", status=502)
        bot.ask("/whoami")
        bot.ask("/chart membership", method="sendPhoto")
    assert len(caplog.records) > 50  # DEBUG really was on
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert api.token not in record.getMessage()
        assert api.token not in (record.exc_text or "")
    assert api.token not in caplog.text
    assert api.token.split(":")[1] not in caplog.text
    assert "/bot***/sendMessage" in caplog.text


def test_webhook_mode_when_a_webhook_url_is_configured(api: FakeBotApi, database_url: str) -> None:
    import json
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/tracker-hook"
    with running_bot(
        api,
        database_url,
        webhook_url=url,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret="s3cret-webhook-token",
    ):
        [registered] = api.calls_to("setWebhook")
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == "s3cret-webhook-token"
        assert not api.calls_to("getUpdates", ok_only=False)
        update = {
            "update_id": 1,
            "message": {
                "message_id": 5,
                "date": int(time.time()),
                "chat": {"id": ADMIN, "type": "private", "first_name": "Alice"},
                "from": {"id": ADMIN, "is_bot": False, "first_name": "Alice"},
                "text": "/count parties as of 2024-06-30",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token",
            },
        )
        for _ in range(50):  # the webhook server may take a moment to listen
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                time.sleep(0.1)
        [answer] = api.wait_for("sendMessage")
        assert "<b>112</b>" in answer.text


def test_record_flow_on_every_backend(api: FakeBotApi, db_url: Any) -> None:
    """The write path through the bot on SQLite and PostgreSQL alike."""
    from events.sql import SqlEventStore, upgrade
    from tracker.importer import load_bundled

    upgrade(db_url.url, db_url.schema)
    store = SqlEventStore(db_url.url, db_url.schema)
    try:
        load_bundled(store)
    finally:
        store.close()
    with running_bot(api, db_url.url, database_schema=db_url.schema) as bot:
        before = bot.events()
        preview = _record_preview(bot, api)
        bot.press(preview.button("Confirm"), preview, user=RECORDER)
        [edit] = api.wait_for("editMessageText")
        assert edit.text.startswith("<b>Stored</b>")
        [event] = list(bot.tracker.store.read_all(after=before))
        assert event.recorded_by == "telegram:222 (bob)"
        assert bot.events() == before + 1

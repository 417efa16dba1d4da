"""Bot replies as Telegram HTML: escaped, in pages Telegram accepts, every page self-explaining."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import formatting
from tracker.answers import Answer
from tracker.conversation import Reply

KNOWN = datetime(2024, 9, 18, tzinfo=UTC)
TAG = re.compile(r"</?([a-z]+)[^>]*>")


def _balanced(html: str) -> bool:
    stack: list[str] = []
    for match in TAG.finditer(html):
        name = match.group(1)
        if match.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def _answer(rows: list[str], notes: tuple[str, ...] = (), sources: tuple[str, ...] = ()) -> Answer:
    return Answer(
        kind="count",
        title="States <Parties> & friends",
        as_of=date(2024, 6, 30),
        known_at=KNOWN,
        recorded_up_to=KNOWN,
        value=len(rows),
        columns=("iso3", "name", "note"),
        rows=tuple({"iso3": "LAO", "name": "Lao PDR", "note": r} for r in rows),
        notes=notes,
        sources=sources,
    )


def test_dynamic_text_is_escaped() -> None:
    reply = Reply(title="x", answer=_answer(["<script>&"], sources=("a<b>",)))
    [page] = formatting.render_pages(reply)
    assert "&lt;script&gt;&amp;" in page
    assert "States &lt;Parties&gt; &amp; friends" in page
    assert "a&lt;b&gt;" in page
    assert "<script>" not in page


def test_a_short_answer_is_one_page_with_title_context_and_sources() -> None:
    reply = Reply(title="x", answer=_answer(["one"], sources=("CCM/MSP/2024/7",)))
    assert formatting.render_pages(reply) == [
        "<b>States &lt;Parties&gt; &amp; friends</b>: <b>1</b>\n"
        "<i>as of 2024-06-30; data as recorded up to 2024-09-18T00:00:00Z</i>\n"
        "<b>Sources:</b> CCM/MSP/2024/7\n"
        "\n"
        "1. Lao PDR (LAO) · note one"
    ]


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.text(max_size=400), max_size=150),
    notes=st.lists(st.text(max_size=2000), max_size=3).map(tuple),
    sources=st.lists(st.text(min_size=1, max_size=500), max_size=12).map(tuple),
    facts=st.lists(st.tuples(st.text(max_size=50), st.text(max_size=900)), max_size=10).map(tuple),
)
def test_every_page_fits_telegram_and_keeps_its_tags_whole(
    rows: list[str],
    notes: tuple[str, ...],
    sources: tuple[str, ...],
    facts: tuple[tuple[str, str], ...],
) -> None:
    reply = Reply(title="x", answer=_answer(rows, notes, sources), facts=facts)
    pages = formatting.render_pages(reply)
    assert pages
    for number, page in enumerate(pages, 1):
        assert formatting.telegram_length(page) <= formatting.MAX_MESSAGE
        assert _balanced(page), page
        # Every page says what it is and for which times.
        assert "States &lt;Parties&gt; &amp; friends" in page
        assert "as of 2024-06-30; data as recorded up to" in page
        if len(pages) > 1:
            assert page.endswith(f"<i>page {number}/{len(pages)}</i>")


def test_a_caption_fits_telegram() -> None:
    reply = Reply(title="Report " * 300, text=("as of 2024-06-30",) * 50)
    caption = formatting.render_caption(reply)
    assert formatting.telegram_length(caption) <= formatting.MAX_CAPTION


def test_page_buttons_and_csv_offer() -> None:
    markup = formatting.keyboard(2, 3, "tok", [("Republic of Korea (KOR)", "k1")], "csv")
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [
        [("◀", "p:tok:1"), ("▶", "p:tok:3")],
        [("Republic of Korea (KOR)", "c:k1")],
        [("Send as CSV", "c:csv")],
    ]
    assert formatting.keyboard(1, 1, None, [], None) is None


def test_the_command_menu_lists_reminders_only_when_they_exist() -> None:
    without = [c.command for c in formatting.bot_commands(reminders=False)]
    with_reminders = [c.command for c in formatting.bot_commands(reminders=True)]
    assert "subscribe" not in without
    assert {"subscribe", "unsubscribe"} <= set(with_reminders)
    assert "count" in without and "record" in without

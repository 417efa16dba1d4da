"""Every user-facing string of the bot, and replies rendered as Telegram HTML.

Everything dynamic goes through `html.escape` (names, sources and notes come from data and from
users). Telegram refuses a message over 4096 characters, so a reply is cut into pages between
lines (never inside a tag); pages after the first repeat the title and the context line, so
each page still says what it is, as of when and as known when. Lengths are counted in UTF-16
code units, as Telegram counts them, on the HTML itself (an upper bound of the visible text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape, unescape

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from tracker.answers import Answer, Cell
from tracker.commands import COMMANDS
from tracker.conversation import Reply

MAX_MESSAGE = 4096
MAX_CAPTION = 1024
#: Room kept on each page for the "page 2/5" line.
_PAGE_LINE_ROOM = 40
#: Longest text of one cell or source shown (the CSV has everything).
_CELL_CLIP = 200
_SOURCES_SHOWN = 3
_SOURCE_CLIP = 150
_TAG = re.compile(r"<[^>]+>")

# --- strings --------------------------------------------------------------------------------

REFUSAL = (
    "Sorry, this bot answers only the coordinators it knows. "
    "If you should have access, ask an admin to add your Telegram user id: {user_id}."
)
ERROR = (
    "Sorry, something went wrong while answering; it has been logged. Please try again in a moment."
)
#: When the database cannot be reached (events.errors.StoreUnavailable): nothing was stored.
UNAVAILABLE = (
    "The tracker's database is temporarily unavailable, so nothing was answered or stored. "
    "Please try again in a minute."
)
EXPIRED = "This button has expired; send the command again."
NOT_YOURS = "These buttons belong to someone else's question."
LABEL_PREVIOUS = "◀"
LABEL_NEXT = "▶"
LABEL_CSV = "Send as CSV"
PAGE = "page {page}/{total}"
CONTINUED = "(continued)"
NOTE = "Note"
SOURCES = "Sources"
MORE_SOURCES = " and {count} more"
ERROR_MARK = "⚠️ "
REFUSED_MARK = "⛔ "


def refusal(user_id: int) -> str:
    return _escape(REFUSAL.format(user_id=user_id))


def bot_commands(reminders: bool) -> list[BotCommand]:
    """The command menu Telegram shows (set_my_commands), English descriptions."""
    return [
        BotCommand(info.name, info.summary[:256])
        for info in COMMANDS
        if info.audience != "reminders" or reminders
    ]


# --- lengths --------------------------------------------------------------------------------


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int = _CELL_CLIP) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    # Only <, > and & matter in Telegram HTML text (values never go into attributes).
    return escape(text, quote=False)


def _e(value: object, limit: int = _CELL_CLIP) -> str:
    """Clip first, then escape, so an entity is never cut in half."""
    return _escape(_clip(str(value), limit))


# --- rendering --------------------------------------------------------------------------------


def render_pages(reply: Reply, limit: int = MAX_MESSAGE) -> list[str]:
    """The reply as HTML pages, each at most `limit` long (one page when it fits)."""
    head = _head(reply)
    body = _body(reply)
    units = [*head, *_details(reply), *([""] if body else []), *body]
    single = "\n".join(units).strip("\n")
    if telegram_length(single) <= limit:
        return [single]
    continued = [head[0] + f" <i>{CONTINUED}</i>", *head[1:]]
    continued_size = _size(continued)
    room = limit - _PAGE_LINE_ROOM
    pages: list[list[str]] = []
    page: list[str] = []
    size = 0
    for raw in units:
        unit = _fit(raw, room - continued_size - 2)
        added = telegram_length(unit) + 1
        if page and size + added > room:
            pages.append(page)
            page, size = [*continued, ""], continued_size + 1
            if not unit:
                continue
        page.append(unit)
        size += added
    if page:
        pages.append(page)
    total = len(pages)
    return [
        "\n".join(lines).strip("\n") + f"\n\n<i>{PAGE.format(page=n, total=total)}</i>"
        for n, lines in enumerate(pages, 1)
    ]


def render_caption(reply: Reply, limit: int = MAX_CAPTION) -> str:
    """A short caption for a document or photo: title, context and sources."""
    lines = [*_head(reply), *(_e(t, 400) for t in reply.text)]
    out: list[str] = []
    for line in lines:
        if telegram_length("\n".join([*out, line])) > limit:
            break
        out.append(line)
    return "\n".join(out)


def _size(lines: Sequence[str]) -> int:
    return telegram_length("\n".join(lines))


def _fit(unit: str, room: int) -> str:
    """A single line longer than a page (never expected) is cut on a plain-text boundary."""
    if telegram_length(unit) <= room:
        return unit
    return _escape(_clip(_strip_tags(unit), max(room // 6, 10)))


def _strip_tags(html: str) -> str:
    return unescape(_TAG.sub("", html))


def _head(reply: Reply) -> list[str]:
    answer = reply.answer
    if answer is None:
        mark = {"error": ERROR_MARK, "refused": REFUSED_MARK}.get(reply.status, "")
        return [f"{mark}<b>{_e(reply.title, 600)}</b>"]
    title = f"<b>{_e(answer.title, 300)}</b>"
    if answer.value is not None:
        title += f": <b>{answer.value}</b>"
    return [title, f"<i>{_e(answer.context_line(), 300)}</i>"]


def _details(reply: Reply) -> list[str]:
    lines = [f"<b>{_e(label, 120)}:</b> {_e(value, 600)}" for label, value in reply.facts]
    lines += [_e(text, 1500) for text in reply.text]
    answer = reply.answer
    if answer is not None:
        lines += [f"<i>{NOTE}:</i> {_e(note, 800)}" for note in answer.notes]
        if answer.sources:
            shown = "; ".join(_e(s, _SOURCE_CLIP) for s in answer.sources[:_SOURCES_SHOWN])
            more = len(answer.sources) - _SOURCES_SHOWN
            extra = MORE_SOURCES.format(count=more) if more > 0 else ""
            lines.append(f"<b>{SOURCES}:</b> {shown}{extra}")
    return lines


def _body(reply: Reply) -> list[str]:
    answer = reply.answer
    if answer is None or not answer.rows:
        return []
    if answer.kind == "state":
        return [_timeline_line(row) for row in answer.rows]
    line = {"deadlines": _deadline_line, "indicators": _indicator_line}.get(answer.kind)
    if line is not None:
        return [line(row) for row in answer.rows]
    return [f"{n}. {_row_line(answer, row)}" for n, row in enumerate(answer.rows, 1)]


def _deadline_line(row: Mapping[str, Cell]) -> str:
    who = _e(row.get("name"))
    if row.get("iso3"):
        who += f" ({_e(row.get('iso3'), 3)})"
    return f"<code>{_e(row.get('due'), 30)}</code> {who}: {_e(row.get('what'))}"


def _indicator_line(row: Mapping[str, Cell]) -> str:
    line = f"{_e(row.get('indicator'))}: <b>{_e(row.get('value'), 20)}</b>"
    if row.get("out_of") is not None:
        line += f" of {_e(row.get('out_of'), 20)}"
    if row.get("states"):
        line += f" — {_e(row.get('states'), 300)}"
    if row.get("source"):
        line += f" <i>(published: {_e(row.get('source'), 120)})</i>"
    return "• " + line


def _timeline_line(row: Mapping[str, Cell]) -> str:
    line = f"<code>{_e(row.get('date'), 40)}</code> {_e(row.get('event'))}"
    if row.get("source"):
        line += f" <i>({_e(row.get('source'), 90)})</i>"
    if row.get("event_id"):
        line += f" id <code>{_e(row.get('event_id'), 40)}</code>"
    return line


def _row_line(answer: Answer, row: Mapping[str, Cell]) -> str:
    parts: list[str] = []
    name, iso3 = row.get("name"), row.get("iso3")
    if name:
        parts.append(f"{_e(name)}" + (f" ({_e(iso3, 3)})" if iso3 else ""))
    elif iso3:
        parts.append(_e(iso3, 3))
    for column in answer.columns:
        if column in ("name", "iso3", "key"):
            continue
        value = row.get(column)
        if value is None or value == "" or value is False:
            continue
        label = column.replace("_", " ")
        parts.append(_e(label, 40) if value is True else f"{_e(label, 40)} {_e(value)}")
    return " · ".join(parts) if parts else "-"


# --- keyboards -----------------------------------------------------------------------------------


def keyboard(
    page: int,
    total: int,
    pages_token: str | None,
    choices: Iterable[tuple[str, str]],
    csv_token: str | None,
) -> InlineKeyboardMarkup | None:
    """◀/▶ for pages (callback ``p:<token>:<page>``), one row per choice (``c:<token>``), and
    the CSV offer last."""
    rows: list[list[InlineKeyboardButton]] = []
    if total > 1 and pages_token is not None:
        nav = []
        if page > 1:
            nav.append(
                InlineKeyboardButton(LABEL_PREVIOUS, callback_data=f"p:{pages_token}:{page - 1}")
            )
        if page < total:
            nav.append(
                InlineKeyboardButton(LABEL_NEXT, callback_data=f"p:{pages_token}:{page + 1}")
            )
        rows.append(nav)
    rows += [
        [InlineKeyboardButton(_clip(label, 64), callback_data=f"c:{token}")]
        for label, token in choices
    ]
    if csv_token is not None:
        rows.append([InlineKeyboardButton(LABEL_CSV, callback_data=f"c:{csv_token}")])
    return InlineKeyboardMarkup(rows) if rows else None


# ================================================================================================
# Reminders (bot/reminders.py): /subscribe, /unsubscribe, /reminders, /focalpoint and the
# reminder messages themselves. Kept in one section, separate from the strings above.
# ================================================================================================

REMINDER_TOPICS_HELP = (
    "Topics: all, reports, extensions, meetings, or a State (name or ISO3 code), e.g. "
    "/subscribe reports or /subscribe Lao PDR."
)
SUBSCRIBED = "This chat now gets reminders for {what}. /reminders shows what comes next."
ALREADY_SUBSCRIBED = "This chat already gets reminders for {what}."
UNSUBSCRIBED_ALL = "This chat gets no more reminders ({count} subscription(s) stopped)."
UNSUBSCRIBED_ONE = "This chat gets no more reminders for {what}."
NOT_SUBSCRIBED = "This chat has no subscription for {what}."
NO_SUBSCRIPTION = "This chat gets no reminders. Send /subscribe to get them here."
SUBSCRIPTIONS = "This chat gets reminders for: {what}."
FOCAL_POINT_ONLY = "This chat receives every reminder about {states} as its focal-point chat."
NOTHING_SCHEDULED = "Nothing is scheduled for this chat in the next {days} days."
SCHEDULED = "Coming next:"
SCHEDULED_ITEM = "• {day}: {title}, {due} — {whom}"
FOCAL_POINT_USAGE = "Usage: /focalpoint STATE (or /focalpoint STATE off), e.g. /focalpoint Lao PDR."
FOCAL_POINT_SET = "This chat is now {state}'s focal-point chat: it gets every reminder about it."
FOCAL_POINT_REMOVED = "{state} has no focal-point chat any more."
FOCAL_POINT_NONE = "{state} had no focal-point chat."
ADMINS_ONLY = "Only an admin can do that."


def reminder_message(text: str) -> str:
    """A reminder as Telegram HTML: the tracker writes plain text, escaped here."""
    return _escape(text)


def reminder_reply(text: str, warning: str | None = None) -> str:
    lines = [_escape(text)]
    if warning:
        lines.append(f"<i>{_escape(warning)}</i>")
    return "\n".join(lines)


def subscription_list(chat_topics: Sequence[str], focal_states: Sequence[str]) -> str:
    """Which reminders the chat gets, one line (HTML)."""
    lines = []
    if chat_topics:
        lines.append(SUBSCRIPTIONS.format(what=", ".join(chat_topics)))
    if focal_states:
        lines.append(FOCAL_POINT_ONLY.format(states=", ".join(focal_states)))
    return _escape("\n".join(lines) if lines else NO_SUBSCRIPTION)


def scheduled(items: Sequence[tuple[str, str, str, str]], days: int) -> str:
    """(day, title, due, whom) of the coming reminders, as HTML lines."""
    if not items:
        return _escape(NOTHING_SCHEDULED.format(days=days))
    lines = [f"<b>{_escape(SCHEDULED)}</b>"]
    lines += [
        _e(SCHEDULED_ITEM.format(day=day, title=title, due=due, whom=whom), 400)
        for day, title, due, whom in items
    ]
    return "\n".join(lines)

"""Thin async handlers: Telegram update → shared conversation → HTML (bot.formatting) → Bot API.

No question is answered here: the text of a command (or of a button) goes to
`tracker.conversation.Conversation`, the same engine the console uses, and its `Reply` is sent
back. The conversation is synchronous (it reads the database), so it runs in a worker thread
and the event loop keeps polling, answering buttons and running jobs meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from telegram import (
    Bot,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import formatting
from bot.access import Access
from events.errors import StoreUnavailable
from tracker.conversation import Conversation, Reply
from tracker.recording import Actor

logger = logging.getLogger(__name__)

#: Sources are URLs more often than not; a preview card of the first one is noise.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class _Choice:
    command: str
    replaces: bool


@dataclass(frozen=True)
class _Pages:
    pages: tuple[str, ...]
    choices: tuple[tuple[str, str], ...]
    csv_token: str | None


class ButtonMemory:
    """What inline buttons stand for, by short token: callback data holds 64 bytes at most,
    less than a command with a State name and two dates. Bounded; the oldest are forgotten
    (their buttons then say they have expired), and a restart forgets all of them."""

    def __init__(self, size: int = 4096) -> None:
        self._items: OrderedDict[str, _Choice | _Pages] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, item: _Choice | _Pages) -> str:
        token = secrets.token_urlsafe(8)
        with self._lock:
            self._items[token] = item
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return token

    def recall(self, token: str) -> _Choice | _Pages | None:
        with self._lock:
            return self._items.get(token)


class Handlers:
    """The bot's handlers, bound to one conversation engine and one access list."""

    def __init__(
        self, conversation: Conversation, access: Access, memory: ButtonMemory | None = None
    ) -> None:
        self.conversation = conversation
        self.access = access
        self.memory = memory or ButtonMemory()

    async def gate(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let listed users through; refuse anyone else politely and stop there."""
        if not isinstance(update, Update):
            raise ApplicationHandlerStop
        user = update.effective_user
        if user is not None and self.access.allows(user):
            return
        if user is not None:
            logger.info("refused update %s from unlisted user id %s", update.update_id, user.id)
            if update.callback_query is not None:
                await update.callback_query.answer(
                    formatting.REFUSAL.format(user_id=user.id), show_alert=True
                )
            elif update.effective_chat is not None and update.effective_message is not None:
                await context.bot.send_message(
                    update.effective_chat.id,
                    formatting.refusal(user.id),
                    parse_mode=ParseMode.HTML,
                )
        raise ApplicationHandlerStop

    async def message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a command, or plain text read as one, through the shared conversation."""
        message, actor = update.effective_message, self._actor(update)
        if message is None or message.text is None or actor is None:
            return
        reply = await asyncio.to_thread(self.conversation.handle, message.text, actor)
        await self.send(context.bot, message.chat_id, reply)

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn a page (p:TOKEN:N) or run the command behind a button (c:TOKEN)."""
        query, actor = update.callback_query, self._actor(update)
        if query is None or actor is None:
            return
        kind, _, rest = (query.data or "").partition(":")
        if kind == "p":
            await self._turn_page(update, rest)
            return
        item = self.memory.recall(rest)
        if not isinstance(item, _Choice):
            await query.answer(formatting.EXPIRED)
            return
        await query.answer()
        reply = await asyncio.to_thread(self.conversation.handle, item.command, actor)
        message = query.message
        if item.replaces and isinstance(message, Message):
            await self.send(context.bot, message.chat_id, reply, replace=message)
        else:
            chat_id = message.chat.id if message is not None else query.from_user.id
            await self.send(context.bot, chat_id, reply)

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the traceback and tell the user something went wrong; the bot keeps running.

        A database that cannot be reached is said as such: the pool reconnects by itself
        once it is back, so trying again later is the right advice.
        """
        update_id = update.update_id if isinstance(update, Update) else None
        unavailable = isinstance(context.error, StoreUnavailable)
        if unavailable:
            logger.warning("database unavailable for update %s: %s", update_id, context.error)
        else:
            logger.error("error while handling update %s", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        text = formatting.UNAVAILABLE if unavailable else formatting.ERROR
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError:
            # Telegram itself may be what failed; the traceback above is what matters.
            logger.warning("could not tell chat %s about the error", update.effective_chat.id)

    # --- sending ------------------------------------------------------------------------------

    async def send(
        self, bot: Bot, chat_id: int, reply: Reply, replace: Message | None = None
    ) -> None:
        """Send a reply: files with a caption, or text pages with their buttons."""
        if reply.attachments:
            caption = formatting.render_caption(reply)
            for attachment in reply.attachments:
                file = InputFile(attachment.content, filename=attachment.filename)
                if attachment.kind == "photo":
                    await bot.send_photo(
                        chat_id, photo=file, caption=caption, parse_mode=ParseMode.HTML
                    )
                else:
                    await bot.send_document(
                        chat_id, document=file, caption=caption, parse_mode=ParseMode.HTML
                    )
            return
        pages = formatting.render_pages(reply)
        choices = tuple(
            (choice.label, self.memory.remember(_Choice(choice.command, choice.replaces)))
            for choice in reply.choices
        )
        csv_token = None
        if reply.csv_command is not None:
            csv_token = self.memory.remember(_Choice(reply.csv_command, replaces=False))
        pages_token = None
        if len(pages) > 1:
            pages_token = self.memory.remember(_Pages(tuple(pages), choices, csv_token))
        markup = formatting.keyboard(1, len(pages), pages_token, choices, csv_token)
        if replace is not None:
            await replace.edit_text(
                pages[0],
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
            return
        await bot.send_message(
            chat_id,
            pages[0],
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )

    async def _turn_page(self, update: Update, rest: str) -> None:
        query = update.callback_query
        assert query is not None  # the caller checked
        token, _, number = rest.rpartition(":")
        item = self.memory.recall(token)
        if not isinstance(item, _Pages) or not number.isdigit():
            await query.answer(formatting.EXPIRED)
            return
        page = min(max(int(number), 1), len(item.pages))
        await query.answer()
        await query.edit_message_text(
            item.pages[page - 1],
            parse_mode=ParseMode.HTML,
            reply_markup=formatting.keyboard(
                page, len(item.pages), token, item.choices, item.csv_token
            ),
            link_preview_options=NO_PREVIEW,
        )

    def _actor(self, update: Update) -> Actor | None:
        user = update.effective_user
        return None if user is None else self.access.actor(user)

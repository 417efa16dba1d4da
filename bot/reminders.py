"""Reminders in the bot: /subscribe, /unsubscribe, /reminders, /focalpoint, and the sweep job.

`install(application, tracker)` adds the handlers and one repeating JobQueue job that runs
`tracker.sweep.Sweeper.sweep` every TRACKER_REMINDER_SWEEP_MINUTES, plus a one-off run at
start-up (see `install` for why it is separate). Jobs live in APScheduler's default memory job
store: nothing is pickled, and nothing needs to be, because the schedule is not state — what is
due is recomputed from the events and the delivery log each time. A sweep missed while the
process was busy is coalesced into one run instead of being dropped (``misfire_grace_time=None``:
run however late), and ``max_instances=1`` keeps a slow sweep from overlapping the next.

Sends go through the application's bot, whose rate limiter (bot.app) keeps to Telegram's flood
limits and retries a 429 itself; a 429 that outlasts it becomes RetryLater, which leaves the
reminder for a later sweep. Handlers are thin: parsing and the answers' words live in
tracker.subscriptions and bot.formatting.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
import weakref
from datetime import timedelta
from typing import Any, cast

from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot import formatting
from bot.access import Access, recorded_by
from events.errors import EventStoreError
from tracker.aliases import StateLookupError, display_name, resolve
from tracker.bootstrap import Tracker
from tracker.config import Role
from tracker.reminders import long_date
from tracker.stores.reminders import SqlReminderStore
from tracker.subscriptions import parse_topic
from tracker.sweep import RetryLater, Sweeper, Undeliverable

logger = logging.getLogger(__name__)

JOB_NAME = "reminder-sweep"
START_UP_JOB_NAME = "reminder-sweep:start-up"
#: How far /reminders looks ahead.
LOOK_AHEAD_DAYS = 180
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
#: Bad requests that mean the chat is gone for good (not a fault of this message).
_GONE = ("chat not found", "bot was kicked", "user is deactivated", "chat was deleted")


class TelegramSender:
    """The Sender port over the Bot API: HTML (escaped), Telegram errors as the sweep's."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(
                chat_id,
                formatting.reminder_message(text),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            )
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc)) from exc
        except Forbidden as exc:
            raise Undeliverable(exc.message) from exc
        except BadRequest as exc:
            if any(gone in exc.message.lower() for gone in _GONE):
                raise Undeliverable(exc.message) from exc
            raise


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 returns an int or a timedelta depending on PTB_TIMEDELTA, warning about the int.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ReminderHandlers:
    """The reminder commands, bound to one delivery store and one sweeper."""

    def __init__(self, store: SqlReminderStore, sweeper: Sweeper, access: Access) -> None:
        self.store = store
        self.sweeper = sweeper
        self.access = access

    async def subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Subscribe this chat to a topic or a State (default: everything)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        try:
            choice = parse_topic(" ".join(context.args or ()))
        except StateLookupError as exc:
            await _reply(
                update, formatting.reminder_reply(str(exc), formatting.REMINDER_TOPICS_HELP)
            )
            return
        added = await asyncio.to_thread(
            self.store.subscribe,
            chat.id,
            choice.topic,
            choice.state,
            by=recorded_by(user),
            at=self.sweeper.clock.now(),
        )
        what = _describe(choice.topic, choice.state)
        text = (formatting.SUBSCRIBED if added else formatting.ALREADY_SUBSCRIBED).format(what=what)
        await _reply(update, formatting.reminder_reply(text, choice.warning))

    async def unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop this chat's reminders: all of them, or one topic or State."""
        chat = update.effective_chat
        if chat is None:
            return
        words = " ".join(context.args or ()).strip()
        if not words or words.lower() == "all":
            removed = await asyncio.to_thread(self.store.unsubscribe, chat.id)
            text = formatting.UNSUBSCRIBED_ALL.format(count=removed)
            await _reply(update, formatting.reminder_reply(text))
            return
        try:
            choice = parse_topic(words)
        except StateLookupError as exc:
            await _reply(
                update, formatting.reminder_reply(str(exc), formatting.REMINDER_TOPICS_HELP)
            )
            return
        removed = await asyncio.to_thread(
            self.store.unsubscribe, chat.id, choice.topic, choice.state
        )
        what = _describe(choice.topic, choice.state)
        text = (formatting.UNSUBSCRIBED_ONE if removed else formatting.NOT_SUBSCRIBED).format(
            what=what
        )
        await _reply(update, formatting.reminder_reply(text))

    async def reminders(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show this chat's subscriptions and the reminders scheduled next for it."""
        chat = update.effective_chat
        if chat is None:
            return
        subscriptions = await asyncio.to_thread(self.store.subscriptions, chat.id)
        focal = await asyncio.to_thread(self.store.focal_points)
        topics = [_describe(s.topic, s.state) for s in subscriptions]
        states = [display_name(f.iso3) for f in focal if f.chat_id == chat.id]
        parts = [formatting.subscription_list(topics, states)]
        if topics or states:
            groups = await asyncio.to_thread(self.sweeper.upcoming, chat.id, LOOK_AHEAD_DAYS)
            items = [
                (
                    long_date(group[0].fire_on),
                    group[0].title,
                    f"due {long_date(group[0].due)}",
                    _whom(len(group), group[0].name),
                )
                for group in groups
            ]
            parts.append(formatting.scheduled(items, LOOK_AHEAD_DAYS))
        await _reply(update, "\n\n".join(parts))

    async def focal_point(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Make this chat a State's focal-point chat, or remove it ("off"); admins only."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        if self.access.role(user.id) is not Role.ADMIN:
            await _reply(update, formatting.reminder_reply(formatting.ADMINS_ONLY))
            return
        words = list(context.args or ())
        off = bool(words) and words[-1].lower() == "off"
        name = " ".join(words[:-1] if off else words).strip()
        if not name:
            await _reply(update, formatting.reminder_reply(formatting.FOCAL_POINT_USAGE))
            return
        try:
            resolution = resolve(name)
        except StateLookupError as exc:
            await _reply(update, formatting.reminder_reply(str(exc)))
            return
        state = display_name(resolution.iso3)
        if off:
            removed = await asyncio.to_thread(self.store.remove_focal_point, resolution.iso3)
            text = formatting.FOCAL_POINT_REMOVED if removed else formatting.FOCAL_POINT_NONE
        else:
            await asyncio.to_thread(
                self.store.set_focal_point,
                resolution.iso3,
                chat.id,
                by=recorded_by(user),
                at=self.sweeper.clock.now(),
            )
            text = formatting.FOCAL_POINT_SET
        await _reply(
            update, formatting.reminder_reply(text.format(state=state), resolution.warning)
        )


def _describe(topic: str, state: str | None) -> str:
    return display_name(state) if state else topic


def _whom(count: int, name: str) -> str:
    if not name:
        return "every State Party"
    return name if count == 1 else f"{count} States Parties"


async def _reply(update: Update, html: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)


async def _sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run one reminder sweep (every few minutes, and at start-up)."""
    job = context.job
    if job is None:
        return
    try:
        await cast(Sweeper, job.data).sweep()
    except EventStoreError as exc:  # the database is down: the next sweep catches up
        logger.warning("reminder sweep skipped: %s", exc)


def install(application: Application[Any, Any, Any, Any, Any, Any], tracker: Tracker) -> None:
    """Add the reminder commands and the repeating sweep job to `application`."""
    settings = tracker.settings
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError('reminders need the JobQueue: install "python-telegram-bot[job-queue]"')
    store = SqlReminderStore(settings.database_url, settings.database_schema)
    # The Application outlives no process but many tests; close the pool with it.
    weakref.finalize(application, store.close)
    sweeper = Sweeper(tracker.service, store, TelegramSender(application.bot), tracker.clock)
    handlers = ReminderHandlers(store, sweeper, Access(settings.users))
    application.bot_data["reminders"] = handlers
    only_new = filters.UpdateType.MESSAGE
    for name, callback in (
        ("subscribe", handlers.subscribe),
        ("unsubscribe", handlers.unsubscribe),
        ("reminders", handlers.reminders),
        ("focalpoint", handlers.focal_point),
    ):
        application.add_handler(CommandHandler(name, callback, filters=only_new))
    interval = timedelta(minutes=settings.reminder_sweep_minutes)
    # Jobs added before the application starts get their first run time when the scheduler
    # starts; an interval job's start date is then already past and APScheduler rounds it up
    # to the next interval, so `first=0` alone would wait a whole interval. Hence a one-off
    # run at start-up (never dropped as "missed", however slow the start), then every interval.
    job_queue.run_once(
        _sweep_job,
        when=0,
        name=START_UP_JOB_NAME,
        data=sweeper,
        job_kwargs={"misfire_grace_time": None},
    )
    job_queue.run_repeating(
        _sweep_job,
        interval=interval,
        first=interval,
        name=JOB_NAME,
        data=sweeper,
        job_kwargs={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
    )

"""The Telegram bot: Application wiring, the network-retrying rate limiter, polling or webhook.

`build_application(tracker, settings)` gives a ready python-telegram-bot Application: token and
Bot API base URL from the settings (TRACKER_TELEGRAM_TOKEN, TRACKER_TELEGRAM_BASE_URL), an
access gate before every handler, one handler for every command of the shared parser, buttons,
a single error handler, and the command menu registered at start-up. `run(application,
settings)` polls by default and serves a webhook when TRACKER_WEBHOOK_URL is set.

The token is in every Bot API URL, so it must never reach a log: httpx (which logs URLs at
INFO) is silenced below WARNING and a redacting filter replaces the token everywhere
(Settings.configure_logging, applied again here to the loggers that see URLs).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import formatting, reminders
from bot.access import Access
from bot.handlers import Handlers
from tracker.bootstrap import Tracker
from tracker.commands import COMMANDS
from tracker.config import RedactingFilter, Settings
from tracker.conversation import Conversation

logger = logging.getLogger(__name__)

TELEGRAM_BOT_API = "https://api.telegram.org/bot"
#: Whether bot/reminders.py is installed: /subscribe and /unsubscribe are listed only then.
REMINDERS = True
#: Logger families that may see Bot API URLs (and so the token), at DEBUG if not before.
URL_LOGGERS = ("httpx", "httpcore", "telegram", "bot")

_SECRETS: set[str] = set()

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, 429 RetryAfter) that also retries transient network
    failures of the Bot API: 5xx answers, dropped connections, timeouts.

    A 4xx (BadRequest, Forbidden) is the request's own fault and is not retried; getUpdates
    never comes here (the polling loop retries it itself).
    """

    def __init__(
        self, *, max_retries: int = 3, network_retries: int = 3, backoff: float = 0.5
    ) -> None:
        super().__init__(max_retries=max_retries)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        for attempt in range(self._network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                logger.warning(
                    "Bot API %s failed (%s); retry %d of %d in %.1f s",
                    endpoint,
                    exc,
                    attempt + 1,
                    self._network_retries,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


def bot_api_urls(base_url: str | None) -> tuple[str, str]:
    """(base_url, base_file_url) for PTB from TRACKER_TELEGRAM_BASE_URL.

    Accepts the server root ("http://127.0.0.1:8081"), PTB's form ending in "/bot", or a
    template with "{token}"; the file URL is derived the way Bot API servers lay it out.
    """
    if not base_url:
        return TELEGRAM_BOT_API, "https://api.telegram.org/file/bot"
    url = base_url.rstrip("/")
    if "{token}" in url:
        return url, url.replace("/bot{token}", "/file/bot{token}")
    if not url.endswith("/bot"):
        url += "/bot"
    return url, url[: -len("/bot")] + "/file/bot"


def build_application(
    tracker: Tracker,
    settings: Settings,
    *,
    max_retries: int = 3,
    backoff: float = 0.5,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot for `tracker`, configured from `settings` (token, Bot API URL, users)."""
    if settings.telegram_token is None:
        raise ValueError("TRACKER_TELEGRAM_TOKEN is not set: the bot needs a token")
    protect_token(settings)
    base_url, base_file_url = bot_api_urls(settings.telegram_base_url)
    application = (
        Application.builder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(base_url)
        .base_file_url(base_file_url)
        .rate_limiter(
            RetryingRateLimiter(
                max_retries=max_retries, network_retries=max_retries, backoff=backoff
            )
        )
        .concurrent_updates(8)
        .post_init(_post_init)
        .build()
    )
    conversation = Conversation(tracker.service, front_end="telegram", reminders=REMINDERS)
    handlers = Handlers(conversation, Access(settings.users))
    application.bot_data["tracker"] = tracker
    application.bot_data["handlers"] = handlers
    # Group -1 runs first for every update: unknown users are refused there and stop.
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    only_new = filters.UpdateType.MESSAGE
    names = [info.name for info in COMMANDS if info.audience != "reminders"]
    names += ["confirm", "cancel"]
    application.add_handler(CommandHandler(names, handlers.message, filters=only_new))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & only_new, handlers.message)
    )
    application.add_handler(CallbackQueryHandler(handlers.button, pattern=r"^[cp]:"))
    register_features(application, tracker)
    # Last: an unknown /command gets the parser's explanation (after the features' handlers).
    application.add_handler(MessageHandler(filters.COMMAND & only_new, handlers.message))
    application.add_error_handler(handlers.error)
    return application


def register_features(
    application: Application[Any, Any, Any, Any, Any, Any], tracker: Tracker
) -> None:
    """Handlers that live with their feature (reminders: /subscribe, /unsubscribe and the
    JobQueue sweep). Each feature adds its one line here."""
    reminders.install(application, tracker)


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the command menu; a failure is logged, the bot answers anyway."""
    try:
        await application.bot.set_my_commands(formatting.bot_commands(REMINDERS))
    except NetworkError as exc:
        logger.warning("could not register the command menu: %s", exc)
    logger.info("bot @%s is running", application.bot.username)


def protect_token(settings: Settings) -> None:
    """Keep the token (and every other secret) out of the logs, whatever handlers exist.

    httpx logs request URLs at INFO: held at WARNING. Every logger of python-telegram-bot,
    httpx and this bot also gets the redacting filter, so a DEBUG configuration that bypasses
    `Settings.configure_logging` (a test's capture, a custom handler) still never sees it.
    """
    for name in ("httpx", "httpcore"):
        quiet = logging.getLogger(name)
        quiet.setLevel(max(logging.WARNING, quiet.level))
    # Secrets of every application built in this process (tests build several), one filter.
    _SECRETS.update(settings.secrets())
    redact = RedactingFilter(sorted(_SECRETS))
    # PTB creates its loggers when its modules are imported, which this module already did.
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in URL_LOGGERS]
    for name in {*URL_LOGGERS, *names}:
        target = logging.getLogger(name)
        for old in [f for f in target.filters if isinstance(f, RedactingFilter)]:
            target.removeFilter(old)
        target.addFilter(redact)


def run(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    stop_signals: Sequence[int] | None = (signal.SIGINT, signal.SIGTERM),
) -> None:
    """Poll for updates, or serve the webhook when TRACKER_WEBHOOK_URL is set; returns when
    stopped (a signal, or `application.stop_running()`)."""
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=5,
            stop_signals=stop_signals,
        )
        return
    application.run_polling(
        allowed_updates=Update.ALL_TYPES, bootstrap_retries=5, stop_signals=stop_signals
    )


def run_bot(tracker: Tracker) -> int:
    """Run the bot for an already built tracker (what `tracker bot` calls)."""
    settings = tracker.settings
    if settings.telegram_token is None:
        sys.stderr.write(
            "error: TRACKER_TELEGRAM_TOKEN is not set; set it to the bot's token, or use "
            "`tracker chat` for the same commands in the console\n"
        )
        return 2
    application = build_application(tracker, settings)
    mode = f"webhook at {settings.webhook_url}" if settings.webhook_url else "polling"
    logger.info("starting the bot (%s, database %s)", mode, settings.safe_database_url)
    run(application, settings)
    return 0


def main() -> int:
    """`python -m bot.app`: the same as `tracker bot` (settings, logging and errors alike)."""
    from tracker.cli import main as tracker_main

    return tracker_main(["bot"])


if __name__ == "__main__":
    raise SystemExit(main())

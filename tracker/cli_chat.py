"""`tracker ask`, `tracker chat` and `tracker bot`: the bot's conversation without Telegram.

`tracker ask "overdue initial as of 2024-06-30"` answers one question; `tracker chat` reads
questions line by line (interactively, or piped in) until end of input or "quit". Both run the
same parser and conversation as the bot and print plain text; files (CSV, HTML report, PNG,
ICS) are saved in the output directory. The console user is local and trusted: they act as an
admin named ``console:<os user>``. A /record is still shown first: the chat asks to confirm,
and `tracker ask` stores it only with --yes.

`tracker bot` runs the Telegram bot. The tracker package must not import the bot package (the
dependency points the other way), so the bot's entry point is looked up by name when asked for.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tracker.bootstrap import Tracker
from tracker.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, SubParsers, add_command
from tracker.config import Role
from tracker.conversation import Choice, Conversation, Reply, render_plain
from tracker.recording import Actor

logger = logging.getLogger(__name__)

QUIT_WORDS = ("quit", "exit", "q", "bye")
PROMPT = "> "


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    """Add `ask`, `chat` and `bot` to the `tracker` command."""
    ask = add_command(
        sub,
        "ask",
        "Answer one question the way the bot would, in plain text.",
        'tracker ask "overdue initial as of 2024-06-30"',
    )
    ask.add_argument("text", nargs="+", help="the question, as you would send it to the bot")
    ask.add_argument(
        "--yes", action="store_true", help="store a /record after showing it (no confirmation)"
    )
    ask.add_argument(
        "-o",
        "--output-dir",
        default=".",
        metavar="DIR",
        help="where files (CSV, HTML, PNG, ICS) are saved (default: here)",
    )
    ask.set_defaults(handler=_ask)

    chat = add_command(
        sub,
        "chat",
        "The bot's commands in an interactive console (or questions piped in, one a line).",
        'echo "count parties as of 2024-06-30" | tracker chat',
    )
    chat.add_argument(
        "-o",
        "--output-dir",
        default=".",
        metavar="DIR",
        help="where files (CSV, HTML, PNG, ICS) are saved (default: here)",
    )
    chat.set_defaults(handler=_chat)

    bot = add_command(
        sub,
        "bot",
        "Run the Telegram bot (needs TRACKER_TELEGRAM_TOKEN; polling, or webhook if configured).",
        "TRACKER_TELEGRAM_TOKEN=123456:ABC… tracker bot",
    )
    bot.set_defaults(handler=_bot)


def console_actor() -> Actor:
    """The local user: trusted, so an admin, named after the OS account."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        user = "unknown"
    return Actor(name=f"console:{user}", role=Role.ADMIN)


def save_attachments(reply: Reply, directory: Path) -> list[str]:
    """Write the reply's files into `directory`; returns the paths written."""
    if not reply.attachments:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for attachment in reply.attachments:
        # The name comes from the command text: keep only its last part, never a path.
        path = directory / Path(attachment.filename).name
        path.write_bytes(attachment.content)
        written.append(f"{path} ({len(attachment.content):,} bytes)")
    return written


def _ask(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    conversation = Conversation(tracker.service)
    actor = console_actor()
    directory = Path(args.output_dir)
    reply = conversation.handle(" ".join(args.text), actor)
    out.write(render_plain(reply, save_attachments(reply, directory)) + "\n")
    if reply.status == "preview":
        if not args.yes:
            out.write("Nothing was stored: run the same command with --yes to store it.\n")
            return EXIT_OK
        confirm = reply.choices[0].command
        stored = conversation.handle(confirm, actor)
        out.write("\n" + render_plain(stored) + "\n")
        return EXIT_OK if stored.status == "stored" else EXIT_ERROR
    return EXIT_ERROR if reply.status in ("error", "refused") else EXIT_OK


def _chat(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    conversation = Conversation(tracker.service)
    return chat_loop(conversation, console_actor(), sys.stdin, out, Path(args.output_dir))


def chat_loop(
    conversation: Conversation,
    actor: Actor,
    stdin: TextIO,
    out: TextIO,
    directory: Path,
) -> int:
    """Answer lines until end of input or "quit". On a terminal it prompts; piped lines are
    echoed before their answers so the output reads as a transcript."""
    interactive = stdin.isatty()
    out.write(welcome(actor) + "\n\n")
    out.flush()
    choices: Sequence[Choice] = ()
    while True:
        line = _read(stdin, out, interactive)
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        if not interactive:
            out.write(f"{PROMPT}{text}\n")
        if text.isdigit() and choices and 1 <= int(text) <= len(choices):
            text = choices[int(text) - 1].command
        try:
            reply = conversation.handle(text, actor)
            saved = save_attachments(reply, directory)
        except Exception:
            # One bad answer must not end the session: say so, keep the traceback in the log.
            logger.exception("error while answering %r", text)
            out.write("Sorry, something went wrong; the error was logged. Ask something else.\n\n")
            out.flush()
            continue
        out.write(render_plain(reply, saved) + "\n\n")
        out.flush()
        choices = reply.choices
    if interactive:
        out.write("\n")
    return EXIT_OK


def _read(stdin: TextIO, out: TextIO, interactive: bool) -> str | None:
    if interactive and stdin is sys.stdin:
        try:
            return input(PROMPT)  # line editing and history on a terminal
        except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt: leave quietly
            return None
    if interactive:
        out.write(PROMPT)
        out.flush()
    line = stdin.readline()
    return line if line else None


def welcome(actor: Actor) -> str:
    return (
        "Convention on Cluster Munitions tracker: the bot's commands in the console "
        f"(you are {actor.name}, {actor.role.value}).\n"
        "Ask as you would ask the bot (the leading / is optional), for example:\n"
        "  count parties as of 2024-06-30\n"
        "  overdue initial as of 2024-06-30\n"
        "Type 'help' for every command, 'quit' to leave."
    )


def _bot(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    if tracker.settings.telegram_token is None:
        sys.stderr.write(
            "error: no bot token: set TRACKER_TELEGRAM_TOKEN to the token BotFather gave you, "
            "or use `tracker chat` for the same commands in the console\n"
        )
        return EXIT_USAGE
    # Looked up by name: the tracker package never imports the bot package.
    bot_app = importlib.import_module("bot.app")
    code: int = bot_app.run_bot(tracker)
    return code

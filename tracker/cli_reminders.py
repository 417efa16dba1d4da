"""`tracker reminders --as-of DATE --dry-run [--json]`: what a sweep on that day would send.

Lists the reminders firing on DATE and, for each, the chats whose subscriptions (or focal-point
registrations) want it, marking those already sent; with no subscriptions at all it prints the
reminders themselves. Sending needs Telegram, so without --dry-run the command refuses and
points to the bot. Uses everything recorded, like the sweep (see tracker.sweep).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any, TextIO

from tracker.bootstrap import Tracker
from tracker.cli import SubParsers, add_command
from tracker.dates import parse_date
from tracker.reminders import Reminder, render
from tracker.stores.reminders import SqlReminderStore
from tracker.subscriptions import recipients
from tracker.sweep import Sweeper

EXIT_USAGE = 2


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    parser = add_command(
        sub,
        "reminders",
        "Show the reminders a sweep on a day would send, and to which chats (dry run).",
        "tracker reminders --as-of 2024-04-29 --dry-run",
    )
    parser.add_argument("--as-of", metavar="DATE", help="the day of the sweep (default: today)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; send nothing"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


class _NoSender:
    async def send(self, chat_id: int, text: str) -> None:
        raise RuntimeError("a dry run sends nothing")


def run(tracker: Tracker, args: argparse.Namespace, out: TextIO) -> int:
    if not args.dry_run:
        sys.stderr.write(
            "error: sending reminders needs Telegram: run `tracker bot` (with "
            "TRACKER_TELEGRAM_TOKEN set), whose sweep sends them; add --dry-run to see what "
            "would be sent\n"
        )
        return EXIT_USAGE
    today = tracker.service.today()
    day = today if args.as_of is None else parse_date(args.as_of, today)
    settings = tracker.settings
    with SqlReminderStore(settings.database_url, settings.database_schema) as store:
        sweeper = Sweeper(tracker.service, store, _NoSender(), tracker.clock)
        reminders = sweeper.reminders_on(day)
        subscriptions = store.subscriptions()
        focal = store.focal_points()
        sent = store.deliveries_since(day)
    listeners = bool(subscriptions or focal)
    rows: list[dict[str, Any]] = []
    for reminder in reminders:
        chats = recipients(reminder, subscriptions, focal, respect_since=False)
        rows.append(
            {
                "key": reminder.key,
                "kind": reminder.kind,
                "phase": reminder.phase,
                "topic": reminder.topic,
                "iso3": reminder.iso3,
                "name": reminder.name or None,
                "ref": reminder.ref,
                "due": reminder.due.isoformat(),
                "fire_on": reminder.fire_on.isoformat(),
                "offset": reminder.offset,
                "text": reminder.text,
                "chats": [
                    {
                        "chat_id": chat_id,
                        "already_sent": _status(sent, reminder.key, chat_id) == "sent",
                    }
                    for chat_id in sorted(chats)
                ],
            }
        )
    counts = Counter(f"{r.kind}:{r.phase}" for r in reminders)
    if args.json:
        body = {
            "as_of": day.isoformat(),
            "dry_run": True,
            "subscriptions": len(subscriptions),
            "focal_points": len(focal),
            "count": len(rows),
            "counts": dict(sorted(counts.items())),
            "reminders": rows,
        }
        out.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(_text(day, reminders, rows, listeners))
    return 0


def _status(sent: Any, key: str, chat_id: int) -> str | None:
    record = sent.get((key, chat_id))
    return None if record is None else str(record.status)


def _text(
    day: date, reminders: tuple[Reminder, ...], rows: list[dict[str, Any]], listeners: bool
) -> str:
    lines = [f"Reminders a sweep on {day.isoformat()} would send: {len(reminders)} (dry run)"]
    if not reminders:
        return lines[0] + "\n"
    if not listeners:
        lines.append("No chat is subscribed, so none would go out; these are the reminders:")
        lines.extend(_messages(reminders, day))
        return "\n".join(lines) + "\n"
    # Per chat, the messages the sweep would build for it (one per deadline and offset).
    by_key = {row["key"]: row for row in rows}
    per_chat: dict[int, list[Reminder]] = {}
    done: dict[int, int] = {}
    for reminder in reminders:
        for chat in by_key[reminder.key]["chats"]:
            if chat["already_sent"]:
                done[chat["chat_id"]] = done.get(chat["chat_id"], 0) + 1
            else:
                per_chat.setdefault(chat["chat_id"], []).append(reminder)
    for chat_id in sorted(set(per_chat) | set(done)):
        wanted = per_chat.get(chat_id, [])
        lines.append("")
        lines.append(
            f"== chat {chat_id}: {len(wanted)} to send"
            + (f", {done[chat_id]} already sent" if chat_id in done else "")
        )
        lines.extend(_messages(wanted, day))
    unwanted = sum(1 for row in rows if not row["chats"])
    if unwanted:
        lines.append("")
        lines.append(f"{unwanted} reminders match no subscription and would not be sent.")
    return "\n".join(lines) + "\n"


def _messages(reminders: Sequence[Reminder], day: date) -> list[str]:
    groups: dict[tuple[str, ...], list[Reminder]] = {}
    for reminder in reminders:
        groups.setdefault(reminder.group, []).append(reminder)
    lines: list[str] = []
    for members in groups.values():
        lines.append("")
        lines.append(render(members, day))
    return lines

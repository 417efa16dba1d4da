"""Container health check: exit 0 when the event store is reachable and migrated, 1 otherwise.

Docker runs it every 30 s (HEALTHCHECK in the Dockerfile, healthcheck in compose.yaml); it
opens the store from the same TRACKER_* settings as the bot, asks for the head position (one
indexed query) and prints one line. The bot process itself is watched by the restart policy.
"""

from __future__ import annotations

import sys


def main() -> int:
    from events.errors import EventStoreError
    from events.sql import SqlEventStore
    from tracker.config import Settings

    try:
        settings = Settings()
        with SqlEventStore(settings.database_url, settings.database_schema) as store:
            head = store.head_position()
    except (EventStoreError, ValueError) as exc:
        print(f"unhealthy: {exc}")
        return 1
    print(f"healthy: {head} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())

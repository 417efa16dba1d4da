"""Composition root: the one place that picks adapters (store, clock) and builds the service."""

from __future__ import annotations

from dataclasses import dataclass

from events.sql import SqlEventStore, upgrade
from tracker.clock import Clock, SystemClock
from tracker.config import Settings
from tracker.service import TrackerService
from tracker.stores.checkpoints import SqlCheckpointStore


@dataclass
class Tracker:
    """Everything a front end needs, built once."""

    settings: Settings
    store: SqlEventStore
    service: TrackerService
    clock: Clock
    checkpoints: SqlCheckpointStore | None = None

    def close(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.close()
        self.store.close()


def migrate(settings: Settings) -> None:
    """Create or upgrade the schema of the configured database (safe to run again)."""
    upgrade(settings.database_url, settings.database_schema)


def build(settings: Settings | None = None, clock: Clock | None = None) -> Tracker:
    """Wire the tracker for `settings` (default: from the environment)."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    store = SqlEventStore(settings.database_url, settings.database_schema)
    # The ledger folded at start-up is saved now and then, so a restart on a large store reads
    # a checkpoint and folds only what came after it.
    checkpoints = SqlCheckpointStore(settings.database_url, settings.database_schema)
    service = TrackerService(store, clock, checkpoints=checkpoints)
    return Tracker(
        settings=settings, store=store, service=service, clock=clock, checkpoints=checkpoints
    )

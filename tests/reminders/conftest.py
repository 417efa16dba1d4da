"""Fixtures: the bundled CCM dataset in a migrated database (each backend), and its ledger."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from events.sql import SqlEventStore, upgrade
from projections.ledger import Ledger
from tracker.importer import bundled_events, load_bundled

if TYPE_CHECKING:
    from tests.databases import TestDatabase


@pytest.fixture
def loaded(db_url: TestDatabase) -> Iterator[TestDatabase]:
    """`db_url`, migrated (events and reminder tables) and holding the bundled dataset."""
    upgrade(db_url.url, db_url.schema)
    with SqlEventStore(db_url.url, db_url.schema) as store:
        load_bundled(store)
    yield db_url


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    """The bundled dataset folded with everything known (what the sweeper uses)."""
    return Ledger.from_events(bundled_events())

"""Shared fixtures: a fresh, empty database per test on every backend, and a migrated store.

- ``db_url`` (a `TestDatabase`) is parametrized over ``sqlite`` (a file in tmp_path) and
  ``postgres`` (a schema ``t_<hex>`` created for the test and dropped afterwards, in the
  database named by TRACKER_TEST_DATABASE_URL). It is NOT migrated: call
  ``events.sql.upgrade(db.url, db.schema)`` or use ``store``.
- ``store`` is a migrated `SqlEventStore` on that database, closed after the test.

PostgreSQL params carry the ``postgres`` mark (``-m "not postgres"`` runs SQLite only). When the
server cannot be reached they are skipped, except under CI=true where they fail: a CI run must
not go green by silently testing one backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from events.sql import SqlEventStore, make_engine, upgrade
from tests.databases import POSTGRES_START_HINT, TestDatabase, empty_database, postgres_url


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine | str]:
    """An engine on the test PostgreSQL server, or the reason it cannot be reached.

    Probed once per session so an absent server costs one connect timeout, not one per test.
    """
    url = postgres_url()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        masked = sa.make_url(url).render_as_string(hide_password=True)
        first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        yield (
            f"PostgreSQL is not reachable at {masked} ({first_line}); start it with "
            f"`{POSTGRES_START_HINT}` or set TRACKER_TEST_DATABASE_URL"
        )
        return
    yield engine
    engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A fresh, empty (un-migrated) database on each backend."""
    with empty_database(request.param, request, tmp_path) as database:
        yield database


@pytest.fixture
def store(db_url: TestDatabase) -> Iterator[SqlEventStore]:
    """A migrated, empty event store on each backend."""
    upgrade(db_url.url, db_url.schema)
    event_store = SqlEventStore(db_url.url, db_url.schema)
    try:
        yield event_store
    finally:
        event_store.close()

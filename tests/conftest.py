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

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from events.sql import SqlEventStore, make_engine, upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@dataclass(frozen=True)
class TestDatabase:
    """Where a test's database lives: pass `url` and `schema` to the store or `upgrade()`."""

    __test__ = False  # not a test class, despite the name

    backend: str  # "sqlite" or "postgres"
    url: str
    schema: str | None = None

    def engine(self) -> sa.Engine:
        """A raw engine on the same database and schema (for SQL that bypasses the store).

        The caller disposes of it.
        """
        return make_engine(self.url, self.schema)


def postgres_url() -> str:
    return os.environ.get("TRACKER_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


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
    if request.param == "sqlite":
        yield TestDatabase("sqlite", f"sqlite:///{tmp_path / 'events.db'}")
        return
    admin = request.getfixturevalue("postgres_admin")
    if isinstance(admin, str):
        if os.environ.get("CI") == "true":
            pytest.fail(admin, pytrace=False)
        pytest.skip(admin)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield TestDatabase("postgres", postgres_url(), schema)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def store(db_url: TestDatabase) -> Iterator[SqlEventStore]:
    """A migrated, empty event store on each backend."""
    upgrade(db_url.url, db_url.schema)
    event_store = SqlEventStore(db_url.url, db_url.schema)
    try:
        yield event_store
    finally:
        event_store.close()

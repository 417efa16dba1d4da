"""Where a test's database lives, shared by every test package (importable as tests.databases).

Kept out of conftest.py because several conftest modules exist and `from conftest import …`
resolves to whichever pytest loaded first.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from events.sql import make_engine

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


@contextmanager
def empty_database(
    backend: str, request: pytest.FixtureRequest, folder: Path, name: str = "events.db"
) -> Iterator[TestDatabase]:
    """A fresh, empty (un-migrated) database: a SQLite file in `folder`, or a PostgreSQL schema
    created for the caller and dropped afterwards. An unreachable server skips, or fails under
    CI=true, with the reason."""
    if backend == "sqlite":
        yield TestDatabase("sqlite", f"sqlite:///{folder / name}")
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

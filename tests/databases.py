"""Where a test's database lives, shared by every test package (importable as tests.databases).

Kept out of conftest.py because several conftest modules exist and `from conftest import …`
resolves to whichever pytest loaded first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

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

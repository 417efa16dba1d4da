"""Alembic environment for every tracker table (events first; later revisions add others).

`events.sql.upgrade()` hands over an open connection, already inside a transaction, in
``config.attributes["connection"]``. Run from the alembic CLI instead (say, for
``alembic revision --autogenerate`` with an ad-hoc ini file), it reads ``sqlalchemy.url`` and
builds an engine the same way the store does.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from events.sql import Base, lock_for_migration, make_engine

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        # Also taken by upgrade() already; repeated here for runs from the alembic CLI.
        lock_for_migration(connection)
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) for a DBA to review and run."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or run the migrations with `tracker db upgrade`")
    engine = make_engine(url)
    try:
        with engine.connect() as own_connection:
            own_connection.execution_options(tracker_write=True)
            _configure_and_run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

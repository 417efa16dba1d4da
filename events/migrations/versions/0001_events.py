"""The append-only events table, its indexes, and triggers that reject UPDATE and DELETE.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Written out in full rather than imported from events.sql: a migration is a frozen record of
what the schema was at this revision, whatever the model looks like later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Enforced in the database, not only in code, so that ad-hoc SQL and other software cannot
# rewrite history either. Inserts stay allowed (that is how events are added).
_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN
        SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
    END
    """,
    """
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN
        SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
    END
    """,
)

# The message is concatenated rather than using a RAISE placeholder: offline rendering
# (`alembic upgrade --sql`) doubles percent signs, which would break the function.
_POSTGRES_TRIGGERS = (
    """
    CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'events are append-only: ' || TG_OP || ' is not allowed',
            HINT = 'record a correction or retraction event instead';
    END
    $$
    """,
    """
    CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change()
    """,
    # TRUNCATE fires no row triggers.
    """
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change()
    """,
)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_from", sa.Date(), nullable=False),
        sa.Column("occurred_to", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(2000), nullable=False),
        sa.Column("source", sa.String(2000), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
        sa.UniqueConstraint("stream", "version", name=op.f("uq_events_stream_version")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_events_version_positive")),
        sa.CheckConstraint("occurred_from <= occurred_to", name=op.f("ck_events_occurred_range")),
    )
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_index("ix_events_type", "events", ["type"])
    dialect = op.get_context().dialect.name
    triggers: tuple[str, ...]
    if dialect == "sqlite":
        triggers = _SQLITE_TRIGGERS
    elif dialect == "postgresql":
        triggers = _POSTGRES_TRIGGERS
    else:
        raise NotImplementedError(f"no append-only triggers for {dialect}")
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    # Dropping the table takes its triggers with it; the function is separate on PostgreSQL.
    op.drop_index("ix_events_type", table_name="events")
    op.drop_index("ix_events_recorded_at", table_name="events")
    op.drop_table("events")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_reject_change()")

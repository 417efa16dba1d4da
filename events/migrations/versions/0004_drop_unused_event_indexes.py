"""Drop the two secondary indexes on `events` that no query uses: ix_events_recorded_at and
ix_events_type.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Every read of the events table goes by position (read_all, read_facts), by (stream, version)
(read_stream, the version check) or by event_id (get, the duplicate check of an append); no SQL
in events/, projections/, tracker/ or bot/ filters or sorts events by `type` or `recorded_at`
(knowledge time and type are applied to events in memory, after a read by position). The two
indexes were therefore only paid for, on every insert: in the 1M-event bench history they are
37 MB and 31 MB of the 436 MB file, and a plain-sqlite3 import of those 1M rows in 10k-row
transactions measured 60-62k rows/s with them and 60-67k rows/s without.

Should a query by knowledge time or type be added later, recreate the index it needs in a new
revision (downgrade() below shows the definitions).
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_events_type", table_name="events")
    op.drop_index("ix_events_recorded_at", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_index("ix_events_type", "events", ["type"])

"""Reminder bookkeeping: chat subscriptions, focal-point chats and per-chat deliveries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Written out in full rather than imported from tracker.stores.reminders: a migration is a frozen
record of what the schema was at this revision, whatever the model looks like later.

These tables are NOT append-only, unlike `events`: they record who wants reminders and which
reminder went to which chat, i.e. delivery bookkeeping rather than history, so rows are updated
(claimed -> sent) and deleted (unsubscribe) and no trigger forbids it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("state", sa.String(3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.CheckConstraint(
            "topic IN ('all', 'reports', 'extensions', 'meetings', 'state')",
            name=op.f("ck_subscriptions_known_topic"),
        ),
        sa.CheckConstraint(
            "(topic = 'state' AND state IS NOT NULL) OR (topic <> 'state' AND state IS NULL)",
            name=op.f("ck_subscriptions_state_iff_topic_state"),
        ),
    )
    # One row per (chat, topic, State); NULL States compare equal here through COALESCE, which a
    # plain UNIQUE constraint would not do (NULLs are distinct in SQL).
    op.create_index(
        "ux_subscriptions_chat_topic_state",
        "subscriptions",
        ["chat_id", "topic", sa.text("COALESCE(state, '')")],
        unique=True,
    )
    op.create_table(
        "focal_points",
        sa.Column("iso3", sa.String(3), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("iso3", name=op.f("pk_focal_points")),
    )
    op.create_table(
        "reminder_deliveries",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("fire_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("key", "chat_id", name=op.f("pk_reminder_deliveries")),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed')",
            name=op.f("ck_reminder_deliveries_known_status"),
        ),
    )
    op.create_index("ix_reminder_deliveries_fire_on", "reminder_deliveries", ["fire_on"])


def downgrade() -> None:
    op.drop_index("ix_reminder_deliveries_fire_on", table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")
    op.drop_table("focal_points")
    op.drop_index("ux_subscriptions_chat_topic_state", table_name="subscriptions")
    op.drop_table("subscriptions")

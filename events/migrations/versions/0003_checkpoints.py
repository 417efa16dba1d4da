"""Projection checkpoints: a folded ledger saved at a position, keyed by its code version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Written out in full rather than imported from tracker.stores.checkpoints: a migration is a
frozen record of what the schema was at this revision, whatever the model looks like later.

A cache, not history: rows are replaced and deleted (no append-only trigger), and dropping the
table loses nothing that a fold from zero does not rebuild.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "projection_checkpoints",
        sa.Column("projection", sa.String(100), nullable=False),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("max_recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "projection", "code_version", "position", name=op.f("pk_projection_checkpoints")
        ),
    )


def downgrade() -> None:
    op.drop_table("projection_checkpoints")

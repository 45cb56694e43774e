"""Customer segments (Voucherify's /v1/segments) and their members.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import Json, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_segments",
        sa.Column("id", sa.String(40)),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("filter", Json),
        sa.Column("window_days", sa.Integer),
        sa.Column("swept_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_segments"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_customer_segments_workspace_id_workspaces",
        ),
    )
    op.create_index("ix_customer_segments_workspace_id", "customer_segments", ["workspace_id"])
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.String(40)),
        sa.Column("customer_id", sa.String(40)),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "customer_id", name="pk_segment_members"),
    )
    op.create_index("ix_segment_members_customer_id", "segment_members", ["customer_id"])
    live = sa.text("merged_into IS NULL AND deleted_at IS NULL")
    op.create_index(
        "ix_customers_live_birthdate",
        "customers",
        ["workspace_id", "birthdate", "merged_into", "deleted_at"],
        sqlite_where=live,
        postgresql_where=live,
    )


def downgrade() -> None:
    op.drop_index("ix_customers_live_birthdate", "customers")
    op.drop_index("ix_segment_members_customer_id", "segment_members")
    op.drop_table("segment_members")
    op.drop_index("ix_customer_segments_workspace_id", "customer_segments")
    op.drop_table("customer_segments")

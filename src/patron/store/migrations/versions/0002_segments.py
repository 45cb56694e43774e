"""Segments and segment groups, installations (igrp), and each event's segment stamp.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import Json, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("segment_id", sa.Integer))
    op.add_column("events", sa.Column("segment_group_id", sa.Integer))
    op.create_table(
        "installations",
        sa.Column("igrp", sa.Integer, autoincrement=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("segments_version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("igrp", name="pk_installations"),
        sa.UniqueConstraint("workspace_id", name="uq_installations_workspace_id"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_installations_workspace_id_workspaces"
        ),
    )
    # Workspaces made before this revision get installation numbers in age order.
    op.execute(
        "INSERT INTO installations (workspace_id, segments_version, created_at) "
        "SELECT id, 0, created_at FROM workspaces ORDER BY created_at, id"
    )
    op.create_table(
        "segment_groups",
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("group_id", sa.Integer, autoincrement=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "group_id", name="pk_segment_groups"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_segment_groups_workspace_id_workspaces"
        ),
    )
    op.create_table(
        "segments",
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("segment_id", sa.Integer, autoincrement=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("ref", sa.String(100)),
        sa.Column("segment_order", sa.Integer, nullable=False),
        sa.Column("org_id", sa.Integer),
        sa.Column("criteria", Json, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "segment_id", name="pk_segments"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_segments_workspace_id_workspaces"
        ),
    )


def downgrade() -> None:
    for table in ("segments", "segment_groups", "installations"):
        op.drop_table(table)
    with op.batch_alter_table("events") as batch:
        batch.drop_column("segment_group_id")
        batch.drop_column("segment_id")

"""Async actions: accepted background jobs (bulk updates, CSV imports) and per-row results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import Json, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "async_actions",
        sa.Column("id", sa.String(40)),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("operation_status", sa.String(20)),
        sa.Column("request", Json, nullable=False),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_async_actions"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_async_actions_workspace_id_workspaces"
        ),
    )
    op.create_index(
        "ix_async_actions_workspace_id_created_at", "async_actions", ["workspace_id", "created_at"]
    )
    op.create_index("ix_async_actions_status", "async_actions", ["status"])
    op.create_table(
        "async_action_results",
        sa.Column("action_id", sa.String(40)),
        sa.Column("row", sa.Integer, autoincrement=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(40)),
        sa.Column("source_id", sa.String(1000)),
        sa.Column("error", Json),
        sa.PrimaryKeyConstraint("action_id", "row", name="pk_async_action_results"),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["async_actions.id"],
            name="fk_async_action_results_action_id_async_actions",
        ),
    )


def downgrade() -> None:
    op.drop_table("async_action_results")
    op.drop_index("ix_async_actions_status", "async_actions")
    op.drop_index("ix_async_actions_workspace_id_created_at", "async_actions")
    op.drop_table("async_actions")

"""Async actions: the job's input moves to a table of its own, kept until the job finishes.

SQLite rewrites a whole row when any column changes, and a job's row changes
after every chunk: with its input (up to 10 MB) in the row, a 100,000-row
import rewrote the input 200 times.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import Json

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "async_action_inputs",
        sa.Column("action_id", sa.String(40)),
        sa.Column("request", Json, nullable=False),
        sa.PrimaryKeyConstraint("action_id", name="pk_async_action_inputs"),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["async_actions.id"],
            name="fk_async_action_inputs_action_id_async_actions",
        ),
    )
    # Unfinished jobs keep their input; finished ones no longer need it.
    op.execute(
        "INSERT INTO async_action_inputs (action_id, request) SELECT id, request"
        " FROM async_actions WHERE status IN ('ENQUEUED', 'IN_PROGRESS')"
    )
    with op.batch_alter_table("async_actions") as batch:
        batch.drop_column("request")


def downgrade() -> None:
    with op.batch_alter_table("async_actions") as batch:
        batch.add_column(sa.Column("request", Json, nullable=False, server_default="{}"))
    op.drop_table("async_action_inputs")

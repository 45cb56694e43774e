"""Customer segments get a version of their own; job results name records generically.

Event segments and customer segments shared one ``segments_version``, so a
change to either recompiled both. Each kind now has its own counter on the
installation row (read together, once per transaction).

A bulk job's per-row result named a customer (``customer_id``, ``source_id``)
although the job runner knows only rows: the columns become ``record_id`` and
``record_key``, whatever record the job's type makes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installations") as batch:
        batch.add_column(
            sa.Column("customer_segments_version", sa.Integer, nullable=False, server_default="0")
        )
    with op.batch_alter_table("async_action_results") as batch:
        batch.alter_column("customer_id", new_column_name="record_id")
        batch.alter_column("source_id", new_column_name="record_key")


def downgrade() -> None:
    with op.batch_alter_table("async_action_results") as batch:
        batch.alter_column("record_key", new_column_name="source_id")
        batch.alter_column("record_id", new_column_name="customer_id")
    with op.batch_alter_table("installations") as batch:
        batch.drop_column("customer_segments_version")

"""Customer activities: no foreign key to workspaces.

Activities are written in bulk (a segment's backfill records one
``customer.segment.entered`` per member, 83,333 for one segment in the
benchmark), and PostgreSQL checks a foreign key with one trigger call per
row: 0.6 s of a 2.6 s insert. Workspaces are never deleted and every writer
takes the workspace id from an authenticated key, so the check guarded
nothing; the events table has none for the same reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_customer_activities_workspace_id_workspaces"


def upgrade() -> None:
    with op.batch_alter_table("customer_activities") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("customer_activities") as batch:
        batch.create_foreign_key(FOREIGN_KEY, "workspaces", ["workspace_id"], ["id"])

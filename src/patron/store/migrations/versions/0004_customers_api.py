"""The customers API: soft deletion, indexed list filters, customer activity.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import Json, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LIVE_INDEXES = (
    ("created_at",),
    ("updated_at",),
    ("name", "created_at"),
    ("city", "created_at"),
    ("email", "created_at"),
)


def upgrade() -> None:
    op.add_column("customers", sa.Column("deleted_at", UTCDateTime()))
    op.add_column("customers", sa.Column("city", sa.Text))
    city = (
        "address ->> 'city'"
        if op.get_bind().dialect.name == "postgresql"
        else "json_extract(address, '$.city')"
    )
    op.execute(f"UPDATE customers SET city = {city} WHERE address IS NOT NULL")
    # Partial indexes of the live customers, one per list_customers filter and
    # order (see schema.py); the full email index is replaced by its live one.
    op.drop_index("ix_customers_workspace_id_email", "customers")
    live = sa.text("merged_into IS NULL AND deleted_at IS NULL")
    for columns in LIVE_INDEXES:
        op.create_index(
            "ix_customers_live_" + "_".join(columns),
            "customers",
            ["workspace_id", *columns, "merged_into", "deleted_at"],
            sqlite_where=live,
            postgresql_where=live,
        )
    op.create_table(
        "customer_activities",
        sa.Column("id", sa.String(40)),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_activities"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_customer_activities_workspace_id_workspaces",
        ),
    )
    op.create_index(
        "ix_customer_activities_customer_id_created_at",
        "customer_activities",
        ["customer_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_customer_activities_customer_id_created_at", "customer_activities")
    op.drop_table("customer_activities")
    for columns in LIVE_INDEXES:
        op.drop_index("ix_customers_live_" + "_".join(columns), "customers")
    op.create_index("ix_customers_workspace_id_email", "customers", ["workspace_id", "email"])
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("city")
        batch.drop_column("deleted_at")

"""Workspaces, keys, customers, identities, events and groups.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import BigId, Json, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_workspaces_name"),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_hash", sa.String(64)),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("hint", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_api_keys_workspace_id_workspaces"
        ),
    )
    op.create_index("ix_api_keys_workspace_id", "api_keys", ["workspace_id"])
    op.create_table(
        "customers",
        sa.Column("id", sa.String(40)),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(1000)),
        sa.Column("name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("birthdate", sa.String(40)),
        sa.Column("address", Json),
        sa.Column("description", sa.Text),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("merged_into", sa.String(40)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_customers_workspace_id_workspaces"
        ),
    )
    op.create_index(
        "ix_customers_workspace_id_external_id", "customers", ["workspace_id", "external_id"]
    )
    op.create_index("ix_customers_workspace_id_email", "customers", ["workspace_id", "email"])
    op.create_index(
        "ix_customers_workspace_id_created_at", "customers", ["workspace_id", "created_at"]
    )
    op.create_table(
        "identities",
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("kind", sa.String(20)),
        sa.Column("value", sa.String(1000)),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "kind", "value", name="pk_identities"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_identities_customer_id_customers"
        ),
    )
    op.create_index("ix_identities_customer_id", "identities", ["customer_id"])
    op.create_table(
        "events",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(1000), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("user_id", sa.String(1000)),
        sa.Column("anonymous_id", sa.String(1000)),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("original_timestamp", UTCDateTime()),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("message_id", "workspace_id", name="uq_events_message_id_workspace_id"),
    )
    op.create_index("ix_events_customer_id_timestamp", "events", ["customer_id", "timestamp"])
    op.create_table(
        "customer_groups",
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("group_id", sa.String(1000)),
        sa.Column("traits", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "group_id", name="pk_customer_groups"),
    )
    op.create_table(
        "group_members",
        sa.Column("workspace_id", sa.String(40)),
        sa.Column("group_id", sa.String(1000)),
        sa.Column("customer_id", sa.String(40)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "group_id", "customer_id", name="pk_group_members"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_group_members_customer_id_customers"
        ),
    )
    op.create_index("ix_group_members_customer_id", "group_members", ["customer_id"])


def downgrade() -> None:
    for table in (
        "group_members",
        "customer_groups",
        "events",
        "identities",
        "customers",
        "api_keys",
        "workspaces",
    ):
        op.drop_table(table)

"""Promotions: applications, campaigns, rulesets, coupons, referrals, loyalty, sessions.

The tables of Talon.One's objects inside a workspace (see the promotions
section of ``store/schema.py`` for what each holds), and two columns on
``api_keys``: the application an Integration API key belongs to, and when a
Management API login token expires.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from patron.store.types import Amount, BigId, Json, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotent_answers",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", "key", name="pk_idempotent_answers"),
    )
    op.create_index(
        "ix_idempotent_answers_created_at", "idempotent_answers", ["created_at"], unique=False
    )
    op.create_table(
        "idempotent_profiles",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint(
            "application_id", "key", "integration_id", name="pk_idempotent_profiles"
        ),
    )
    op.create_index(
        "ix_idempotent_profiles_integration_id",
        "idempotent_profiles",
        ["integration_id"],
        unique=False,
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("case_sensitivity", sa.String(length=24), nullable=False),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("promotions_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_applications_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_applications_workspace_id_name"),
    )
    op.create_table(
        "custom_attributes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=200), server_default="", nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("suggestions", Json, nullable=False),
        sa.Column("editable", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_custom_attributes_workspace_id_workspaces",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_custom_attributes"),
        sa.UniqueConstraint(
            "workspace_id",
            "entity",
            "event_type",
            "name",
            name="uq_custom_attributes_name",
        ),
    )
    op.create_table(
        "loyalty_programs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("subscribed_applications", Json, nullable=False),
        sa.Column("default_validity", sa.String(length=20), nullable=False),
        sa.Column("default_pending", sa.String(length=20), nullable=False),
        sa.Column("allow_subledger", sa.Integer(), server_default="0", nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_loyalty_programs_workspace_id_workspaces",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_programs"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_loyalty_programs_workspace_id_name"),
    )
    op.create_table(
        "managers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_managers_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_managers"),
        sa.UniqueConstraint("email", name="uq_managers_email"),
    )
    op.create_table(
        "audiences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("segment_id", sa.String(length=40), nullable=False),
        sa.Column("integration", sa.String(length=100), nullable=True),
        sa.Column("integration_id", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["customer_segments.id"],
            name="fk_audiences_segment_id_customer_segments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_audiences_workspace_id_workspaces"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audiences"),
        sa.UniqueConstraint("segment_id", name="uq_audiences_segment_id"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("start_time", UTCDateTime(), nullable=True),
        sa.Column("end_time", UTCDateTime(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("type", sa.String(length=20), server_default="advanced", nullable=False),
        sa.Column("features", Json, nullable=False),
        sa.Column("tags", Json, nullable=False),
        sa.Column("limits", Json, nullable=False),
        sa.Column("coupon_settings", Json, nullable=True),
        sa.Column("referral_settings", Json, nullable=True),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("active_ruleset_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_campaigns_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_index("ix_campaigns_application_id", "campaigns", ["application_id"], unique=False)
    op.create_table(
        "customer_sessions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("profile_integration_id", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("total", Amount(), nullable=False),
        sa.Column("first_session", sa.Integer(), nullable=False),
        sa.Column("update_count", sa.Integer(), nullable=False),
        sa.Column("effects", Json, nullable=False),
        sa.Column("committed", Json, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_customer_sessions_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_sessions"),
        sa.UniqueConstraint(
            "application_id",
            "integration_id",
            name="uq_customer_sessions_application_id_integration_id",
        ),
    )
    op.create_index(
        "ix_customer_sessions_workspace_id_profile_integration_id",
        "customer_sessions",
        ["workspace_id", "profile_integration_id"],
        unique=False,
    )
    op.create_table(
        "loyalty_ledger",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("subledger_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("remaining", Amount(), nullable=False),
        sa.Column("start_date", UTCDateTime(), nullable=True),
        sa.Column("expiry_date", UTCDateTime(), nullable=True),
        sa.Column("name", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("session_integration_id", sa.String(length=1000), nullable=True),
        sa.Column("transaction_uuid", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sources", Json, nullable=True),
        sa.Column("reversed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["loyalty_programs.id"],
            name="fk_loyalty_ledger_program_id_loyalty_programs",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_ledger"),
    )
    op.create_index(
        "ix_loyalty_ledger_transaction_uuid", "loyalty_ledger", ["transaction_uuid"], unique=False
    )
    op.create_table(
        "loyalty_accounts",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("subledger_id", sa.String(length=200), nullable=False),
        sa.Column("negative", Amount(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["loyalty_programs.id"],
            name="fk_loyalty_accounts_program_id_loyalty_programs",
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "integration_id", "subledger_id", name="pk_loyalty_accounts"
        ),
    )
    op.create_index(
        "ix_loyalty_ledger_balance",
        "loyalty_ledger",
        ["program_id", "integration_id", "subledger_id", "expiry_date"],
        unique=False,
    )
    op.create_table(
        "campaign_usage",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("used", Amount(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_usage_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint(
            "campaign_id", "action", "integration_id", name="pk_campaign_usage"
        ),
    )
    op.create_table(
        "coupons",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("lookup", sa.String(length=200), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=False),
        sa.Column("usage_counter", sa.Integer(), nullable=False),
        sa.Column("discount_limit", Amount(), nullable=False),
        sa.Column("discount_counter", Amount(), nullable=False),
        sa.Column("per_profile_limit", sa.Integer(), nullable=False),
        sa.Column("reservation_limit", sa.Integer(), nullable=False),
        sa.Column("start_date", UTCDateTime(), nullable=True),
        sa.Column("expiry_date", UTCDateTime(), nullable=True),
        sa.Column("recipient_integration_id", sa.String(length=1000), nullable=True),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("is_reservation_mandatory", sa.Integer(), server_default="0", nullable=False),
        sa.Column("implicitly_reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_by_session", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name="fk_coupons_application_id_applications"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_coupons_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_coupons"),
        sa.UniqueConstraint("application_id", "lookup", name="uq_coupons_application_id_lookup"),
    )
    op.create_index(
        "ix_coupons_application_id_recipient_integration_id",
        "coupons",
        ["application_id", "recipient_integration_id"],
        unique=False,
    )
    op.create_index("ix_coupons_campaign_id_id", "coupons", ["campaign_id", "id"], unique=False)
    op.create_table(
        "referrals",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("lookup", sa.String(length=200), nullable=False),
        sa.Column("advocate_integration_id", sa.String(length=1000), nullable=False),
        sa.Column("friend_integration_id", sa.String(length=1000), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=False),
        sa.Column("usage_counter", sa.Integer(), nullable=False),
        sa.Column("start_date", UTCDateTime(), nullable=True),
        sa.Column("expiry_date", UTCDateTime(), nullable=True),
        sa.Column("attributes", Json, nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name="fk_referrals_application_id_applications",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_referrals_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referrals"),
        sa.UniqueConstraint("application_id", "lookup", name="uq_referrals_application_id_lookup"),
    )
    op.create_index(
        "ix_referrals_advocate_integration_id",
        "referrals",
        ["advocate_integration_id"],
        unique=False,
    )
    op.create_table(
        "rulesets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("rules", Json, nullable=False),
        sa.Column("bindings", Json, nullable=False),
        sa.Column("rb_version", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_rulesets_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rulesets"),
    )
    op.create_index("ix_rulesets_campaign_id", "rulesets", ["campaign_id"], unique=False)
    op.create_table(
        "coupon_redemptions",
        sa.Column("coupon_id", BigId, nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name="fk_coupon_redemptions_coupon_id_coupons"
        ),
        sa.PrimaryKeyConstraint("coupon_id", "integration_id", name="pk_coupon_redemptions"),
    )
    op.create_index(
        "ix_coupon_redemptions_integration_id",
        "coupon_redemptions",
        ["integration_id"],
        unique=False,
    )
    op.create_table(
        "coupon_reservations",
        sa.Column("coupon_id", BigId, nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name="fk_coupon_reservations_coupon_id_coupons"
        ),
        sa.PrimaryKeyConstraint("coupon_id", "integration_id", name="pk_coupon_reservations"),
    )
    op.create_index(
        "ix_coupon_reservations_integration_id",
        "coupon_reservations",
        ["integration_id"],
        unique=False,
    )
    op.create_table(
        "referral_redemptions",
        sa.Column("referral_id", BigId, nullable=False),
        sa.Column("integration_id", sa.String(length=1000), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name="fk_referral_redemptions_referral_id_referrals",
        ),
        sa.PrimaryKeyConstraint("referral_id", "integration_id", name="pk_referral_redemptions"),
    )
    op.create_index(
        "ix_referral_redemptions_integration_id",
        "referral_redemptions",
        ["integration_id"],
        unique=False,
    )
    op.add_column("api_keys", sa.Column("application_id", sa.Integer(), nullable=True))
    op.add_column("api_keys", sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "expires_at")
    op.drop_column("api_keys", "application_id")
    op.drop_index("ix_referral_redemptions_integration_id", table_name="referral_redemptions")
    op.drop_table("referral_redemptions")
    op.drop_index("ix_coupon_reservations_integration_id", table_name="coupon_reservations")
    op.drop_table("coupon_reservations")
    op.drop_index("ix_coupon_redemptions_integration_id", table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_index("ix_rulesets_campaign_id", table_name="rulesets")
    op.drop_table("rulesets")
    op.drop_index("ix_referrals_advocate_integration_id", table_name="referrals")
    op.drop_table("referrals")
    op.drop_index("ix_coupons_campaign_id_id", table_name="coupons")
    op.drop_index("ix_coupons_application_id_recipient_integration_id", table_name="coupons")
    op.drop_table("coupons")
    op.drop_table("campaign_usage")
    op.drop_index(
        "ix_loyalty_ledger_balance",
        table_name="loyalty_ledger",
    )
    op.drop_table("loyalty_accounts")
    op.drop_index("ix_loyalty_ledger_transaction_uuid", table_name="loyalty_ledger")
    op.drop_table("loyalty_ledger")
    op.drop_index(
        "ix_customer_sessions_workspace_id_profile_integration_id", table_name="customer_sessions"
    )
    op.drop_table("customer_sessions")
    op.drop_index("ix_campaigns_application_id", table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_table("audiences")
    op.drop_table("managers")
    op.drop_table("loyalty_programs")
    op.drop_table("custom_attributes")
    op.drop_table("applications")
    op.drop_index("ix_idempotent_profiles_integration_id", table_name="idempotent_profiles")
    op.drop_table("idempotent_profiles")
    op.drop_index("ix_idempotent_answers_created_at", table_name="idempotent_answers")
    op.drop_table("idempotent_answers")

"""The promotions tables: applications, campaigns, rulesets, codes, loyalty, sessions.

Declared on :data:`patron.store.schema.metadata` (migration 0010). See the
promotions section of ``schema.py`` for what rows that name a customer keep.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from patron.store.schema import EXTERNAL_ID, ID, metadata
from patron.store.types import Amount, BigId, Json, UTCDateTime

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("currency", String(3), nullable=False),
    Column("timezone", String(64), nullable=False),
    # sensitive, insensitive-uppercase or insensitive-lowercase (how codes are looked up)
    Column("case_sensitivity", String(24), nullable=False),
    Column("attributes", Json, nullable=False),
    Column("settings", Json, nullable=False),  # the rest of Talon's Application fields
    # Grows with every change to the application's campaigns or rulesets: each
    # process recompiles its campaigns when it moves (``CampaignCache``).
    Column("promotions_version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

# People who log in to the Management API (``POST /v1/sessions``): an e-mail
# and a password hash (scrypt), per workspace.
managers = Table(
    "managers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False, index=True),
    Column("name", String(1000), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("state", String(20), nullable=False),  # enabled, disabled, archived
    Column("start_time", UTCDateTime()),
    Column("end_time", UTCDateTime()),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("type", String(20), nullable=False, server_default="advanced"),
    Column("features", Json, nullable=False),  # ["coupons", "referrals", "loyalty"]
    Column("tags", Json, nullable=False),
    Column("limits", Json, nullable=False),  # Talon's LimitConfig list
    Column("coupon_settings", Json),
    Column("referral_settings", Json),
    Column("attributes", Json, nullable=False),
    Column("active_ruleset_id", Integer),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime()),  # deleted campaigns keep their coupons' history
)

# Every saved version of a campaign's rules; a campaign points at one.
rulesets = Table(
    "rulesets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("rules", Json, nullable=False),
    Column("bindings", Json, nullable=False),
    Column("rb_version", String(40)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("activated_at", UTCDateTime()),
)

# A campaign's usage of each limited action (Talon's LimitConfig actions),
# overall (``integration_id`` "") and per customer: the counters its limits
# are checked against, raised by conditional updates that cannot overshoot.
campaign_usage = Table(
    "campaign_usage",
    metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), primary_key=True),
    Column("action", String(40), primary_key=True),
    Column("integration_id", String(EXTERNAL_ID), primary_key=True),
    Column("used", Amount(), nullable=False),
)

coupons = Table(
    "coupons",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("value", String(200), nullable=False),
    # The code as the application's case sensitivity compares it: unique per application.
    Column("lookup", String(200), nullable=False),
    Column("usage_limit", Integer, nullable=False),  # 0: unlimited
    Column("usage_counter", Integer, nullable=False),
    Column("discount_limit", Amount(), nullable=False),  # 0: unlimited
    Column("discount_counter", Amount(), nullable=False),
    Column("per_profile_limit", Integer, nullable=False),  # 0: unlimited
    Column("reservation_limit", Integer, nullable=False),  # 0: unlimited
    Column("start_date", UTCDateTime()),
    Column("expiry_date", UTCDateTime()),
    Column("recipient_integration_id", String(EXTERNAL_ID)),
    Column("attributes", Json, nullable=False),
    Column("is_reservation_mandatory", Integer, nullable=False, server_default="0"),
    Column("implicitly_reserved", Integer, nullable=False, server_default="0"),
    Column("batch_id", String(ID)),
    # The session that created it (a createCoupon effect), if one did.
    Column("created_by_session", String(EXTERNAL_ID)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("application_id", "lookup"),
    Index(None, "campaign_id", "id"),
    Index(None, "application_id", "recipient_integration_id"),
)

# Who reserved a coupon (hard for mandatory-reservation coupons, else soft).
coupon_reservations = Table(
    "coupon_reservations",
    metadata,
    Column("coupon_id", BigId, ForeignKey("coupons.id"), primary_key=True),
    Column("integration_id", String(EXTERNAL_ID), primary_key=True, index=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# How many times each customer redeemed each coupon (per-profile limits, inventory).
coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("coupon_id", BigId, ForeignKey("coupons.id"), primary_key=True),
    Column("integration_id", String(EXTERNAL_ID), primary_key=True, index=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("count", Integer, nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("code", String(200), nullable=False),
    Column("lookup", String(200), nullable=False),
    Column("advocate_integration_id", String(EXTERNAL_ID), nullable=False, index=True),
    Column("friend_integration_id", String(EXTERNAL_ID)),
    Column("usage_limit", Integer, nullable=False),
    Column("usage_counter", Integer, nullable=False),
    Column("start_date", UTCDateTime()),
    Column("expiry_date", UTCDateTime()),
    Column("attributes", Json, nullable=False),
    Column("batch_id", String(ID)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("application_id", "lookup"),
)

# Friends who used a referral code (inventory's ``referredCustomers``).
referral_redemptions = Table(
    "referral_redemptions",
    metadata,
    Column("referral_id", BigId, ForeignKey("referrals.id"), primary_key=True),
    Column("integration_id", String(EXTERNAL_ID), primary_key=True, index=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("count", Integer, nullable=False),
)

loyalty_programs = Table(
    "loyalty_programs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("subscribed_applications", Json, nullable=False),  # application ids
    # Talon's durations: "unlimited" or a number and a unit ("30D", "1M") — as given.
    Column("default_validity", String(20), nullable=False),
    Column("default_pending", String(20), nullable=False),
    Column("allow_subledger", Integer, nullable=False, server_default="0"),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

# The points ledger: one row per addition or deduction. An addition keeps
# what is left of it (``remaining``), so a deduction takes the earliest-
# expiring points first by updating additions; pending points are additions
# whose ``start_date`` is ahead; expired ones are past ``expiry_date``.
loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("program_id", Integer, ForeignKey("loyalty_programs.id"), nullable=False),
    Column("integration_id", String(EXTERNAL_ID), nullable=False),
    Column("subledger_id", String(200), nullable=False),  # "": the main ledger
    Column("type", String(20), nullable=False),  # addition, subtraction
    Column("amount", Amount(), nullable=False),
    Column("remaining", Amount(), nullable=False),  # additions: not yet spent
    Column("start_date", UTCDateTime()),  # active from (pending before)
    Column("expiry_date", UTCDateTime()),  # None: never expires
    Column("name", String(1000), nullable=False, server_default=""),
    # What wrote it: a session (closed), the Management API, or a rollback.
    Column("application_id", Integer),
    Column("session_integration_id", String(EXTERNAL_ID)),
    Column("transaction_uuid", String(64), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    # A deduction: how much it took from each addition ({"<ledger id>": "<points>"}),
    # so that rolling it back gives each share back where it came from.
    Column("sources", Json),
    Column("reversed_at", UTCDateTime()),  # when its transaction was rolled back
    Index(
        "ix_loyalty_ledger_balance", "program_id", "integration_id", "subledger_id", "expiry_date"
    ),
)

# One row per customer, program and subledger: the points the customer owes
# (a rolled-back addition that was already spent), and the row every change
# to that ledger locks first, so two deductions at once never spend the same
# points (PostgreSQL; SQLite has one writer anyway). ``created_at``: joined.
loyalty_accounts = Table(
    "loyalty_accounts",
    metadata,
    Column("program_id", Integer, ForeignKey("loyalty_programs.id"), primary_key=True),
    Column("integration_id", String(EXTERNAL_ID), primary_key=True),
    Column("subledger_id", String(200), primary_key=True),
    Column("negative", Amount(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Attributes and custom event types declared with ``POST /v1/attributes``.
custom_attributes = Table(
    "custom_attributes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("event_type", String(200), nullable=False, server_default=""),
    Column("name", String(200), nullable=False),
    Column("title", String(200), nullable=False),
    Column("type", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("suggestions", Json, nullable=False),
    Column("editable", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "workspace_id", "entity", "event_type", "name", name="uq_custom_attributes_name"
    ),
)

# An audience is a static customer segment; this row gives it Talon's
# integer id (and the integration that created it, if one did).
audiences = Table(
    "audiences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    # Deleting the segment (through any surface) deletes its audience id.
    Column(
        "segment_id",
        String(ID),
        ForeignKey("customer_segments.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("integration", String(100)),
    Column("integration_id", String(EXTERNAL_ID)),
    Column("created_at", UTCDateTime(), nullable=False),
)

# A Talon.One customer session (a cart), as the last update left it.
customer_sessions = Table(
    "customer_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("workspace_id", String(ID), nullable=False),
    Column("integration_id", String(EXTERNAL_ID), nullable=False),
    Column("profile_integration_id", String(EXTERNAL_ID), nullable=False),  # "": anonymous
    Column("state", String(24), nullable=False),
    # The session's request fields as merged so far: cart items, coupon codes,
    # referral code, additional costs, identifiers, attributes, loyalty cards.
    Column("data", Json, nullable=False),
    Column("total", Amount(), nullable=False),  # before discounts
    Column("first_session", Integer, nullable=False),
    Column("update_count", Integer, nullable=False),
    Column("effects", Json, nullable=False),  # the current effects, as last answered
    # What closing committed (coupons and referral redeemed, points written,
    # discounts counted), so that cancelling can roll exactly that back.
    Column("committed", Json),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    UniqueConstraint("application_id", "integration_id"),
    Index(None, "workspace_id", "profile_integration_id"),
)

# Answers to writes sent with an ``Idempotency-Key``: a retry gets the stored answer
# (status 0: claimed by a request still running; see domain/promotions/idempotency.py).
idempotent_answers = Table(
    "idempotent_answers",
    metadata,
    Column("application_id", Integer, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
)

# The profiles whose data an idempotent answer carries: erasing a customer's data
# erases those answers too.
idempotent_profiles = Table(
    "idempotent_profiles",
    metadata,
    Column("application_id", Integer, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("integration_id", String(EXTERNAL_ID), primary_key=True, index=True),
)

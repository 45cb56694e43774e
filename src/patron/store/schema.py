"""The tables. Migrations (``store/migrations``) create them; a test checks they agree."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
)

from patron.store.types import BigId, Json, UTCDateTime

ID = 40  # "cust_" + 26 characters, with room to spare
EXTERNAL_ID = 1000  # the longest userId / anonymousId / messageId accepted

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),  # SHA-256 hex of the key
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("hint", String(8), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("external_id", String(EXTERNAL_ID)),
    Column("name", Text),
    Column("email", Text),
    Column("phone", Text),
    Column("birthdate", String(40)),
    Column("address", Json),
    Column("description", Text),
    Column("attributes", Json, nullable=False),
    Column("merged_into", String(ID)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "workspace_id", "external_id"),
    Index(None, "workspace_id", "created_at"),
)

identities = Table(
    "identities",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("value", String(EXTERNAL_ID), primary_key=True),
    Column("customer_id", String(ID), ForeignKey("customers.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Append-only. No foreign keys: the hot table pays for no checks on insert.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("customer_id", String(ID), nullable=False),
    Column("message_id", String(EXTERNAL_ID), nullable=False),
    Column("type", String(16), nullable=False),
    Column("name", Text),
    Column("user_id", String(EXTERNAL_ID)),
    Column("anonymous_id", String(EXTERNAL_ID)),
    Column("timestamp", UTCDateTime(), nullable=False),
    Column("original_timestamp", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("payload", Json, nullable=False),
    # message_id first: the dedupe probe stays an index lookup even before
    # PostgreSQL has statistics for the table.
    UniqueConstraint("message_id", "workspace_id"),
    Index(None, "customer_id", "timestamp"),
)

customer_groups = Table(
    "customer_groups",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("group_id", String(EXTERNAL_ID), primary_key=True),
    Column("traits", Json, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

group_members = Table(
    "group_members",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("group_id", String(EXTERNAL_ID), primary_key=True),
    Column("customer_id", String(ID), ForeignKey("customers.id"), primary_key=True, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# -- segments (Infinity Config API) -------------------------------------------

# Each event keeps the segment and group it was classified into at ingest
# (null for events stored before segments existed).
events.append_column(Column("segment_id", Integer))
events.append_column(Column("segment_group_id", Integer))

# A workspace's Infinity installation number (igrp). ``segments_version``
# grows with every change to its event segments or groups, and
# ``customer_segments_version`` with every change to its customer segments, so
# each process can tell cheaply whether its compiled segment lists are stale.
installations = Table(
    "installations",
    metadata,
    Column("igrp", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, unique=True),
    Column("segments_version", Integer, nullable=False),
    Column("customer_segments_version", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime(), nullable=False),
)

segment_groups = Table(
    "segment_groups",
    metadata,
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), primary_key=True),
    Column("group_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("status", Integer, nullable=False),  # 200 active, 410 deleted
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), primary_key=True),
    Column("segment_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("ref", String(100)),
    Column("segment_order", Integer, nullable=False),
    Column("org_id", Integer),
    Column("criteria", Json, nullable=False),
    Column("status", Integer, nullable=False),  # 200 active, 410 deleted
    Column("group_id", Integer, nullable=False),  # 0: no group
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# -- async actions (migration 0003) -------------------------------------------

# A background job accepted with 202 (bulk customer updates, CSV imports).
# Work is committed in chunks together with ``processed``, so a restarted
# Patron resumes a job where it stopped instead of forgetting or repeating it.
async_actions = Table(
    "async_actions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("type", String(60), nullable=False),
    Column("status", String(20), nullable=False, index=True),  # ENQUEUED … DONE / FAILED
    Column("operation_status", String(20)),  # SUCCESS / FAILED once done
    Column("request_id", String(ID), nullable=False),
    Column("total", Integer, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Index("ix_async_actions_workspace_id_created_at", "workspace_id", "created_at"),
)

# One row per input row of a job: its outcome (a separate table, so a job of
# 100,000 rows appends results instead of rewriting one growing document).
async_action_results = Table(
    "async_action_results",
    metadata,
    Column("action_id", String(ID), ForeignKey("async_actions.id"), primary_key=True),
    Column("row", Integer, primary_key=True, autoincrement=False),
    Column("status", String(20), nullable=False),
    # The record the row made or changed: Patron's id and the caller's key for it.
    Column("record_id", String(ID)),
    Column("record_key", String(EXTERNAL_ID)),
    Column("error", Json),
)

# -- the customers API (migration 0004) ---------------------------------------

# A customer deleted through the customers API keeps its row (and its events)
# until permanently deleted; ``deleted_at`` hides it everywhere. The address's
# city is copied into a column of its own so that ``list_customers?city=``
# is an index lookup on both databases.
customers.append_column(Column("deleted_at", UTCDateTime()))
customers.append_column(Column("city", Text))
# list_customers' indexes hold live customers only (not merged away, not
# deleted), as every list query asks: a page and its total are then read from
# the index alone, without visiting a million rows to test those two columns.
# Each equality filter's index ends in created_at, the default order: SQLite
# then finds a page by the filter instead of walking every customer in
# created_at order and testing each.
LIVE = and_(customers.c.merged_into.is_(None), customers.c.deleted_at.is_(None))
# Always null in these indexes, but listed: SQLite reads an index alone (a
# covering index) only if it holds every column the query names.
LIVE_COLUMNS = ("merged_into", "deleted_at")
for _columns in (
    ("created_at",),
    ("updated_at",),
    ("name", "created_at"),
    ("city", "created_at"),
    ("email", "created_at"),
):
    Index(
        "ix_customers_live_" + "_".join(_columns),
        customers.c.workspace_id,
        *(customers.c[name] for name in (*_columns, *LIVE_COLUMNS)),
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )

# What happened to a customer that is not an event: updated and deleted
# through the customers API, entered or left a segment. (``customer.created``
# is read from the customer row and tracked events from the events table, so
# the tracking hot path writes nothing here.)
# No foreign keys: a backfill writes one row per member of a segment in bulk
# (see migration 0007).
customer_activities = Table(
    "customer_activities",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("customer_id", String(ID), nullable=False),
    Column("type", String(60), nullable=False),
    Column("data", Json, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "customer_id", "created_at"),
)

# A job's input, apart from the job (the job's row is updated after every
# chunk, and SQLite rewrites a whole row on update), in chunks of consecutive
# rows (migration 0009): accepting or running a job holds one chunk in
# memory, however large the job. ``rows_json`` is a JSON array as text,
# written and read whole, never queried into. Deleted when the job finishes:
# nothing reads it afterwards, and customers permanently deleted must not
# linger in old inputs.
async_action_input_chunks = Table(
    "async_action_input_chunks",
    metadata,
    Column("action_id", String(ID), ForeignKey("async_actions.id"), primary_key=True),
    Column("first_row", Integer, primary_key=True, autoincrement=False),
    Column("rows_json", Text, nullable=False),
)

# -- customer segments (migration 0006) -----------------------------------------

# Voucherify's segments: static lists, or filters kept up to date.
customer_segments = Table(
    "customer_segments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("filter", Json),
    # The longest window of its behavioural conditions, in days: the time
    # sweep visits only such segments, from where it last stopped.
    Column("window_days", Integer),
    Column("swept_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Relative dates on birthdates: the time sweep finds the live customers whose
# birthdate crossed a window's edge by this index.
Index(
    "ix_customers_live_birthdate",
    customers.c.workspace_id,
    customers.c.birthdate,
    *(customers.c[name] for name in LIVE_COLUMNS),
    sqlite_where=LIVE,
    postgresql_where=LIVE,
)

# Who is in which segment now (no foreign keys: customers are erased apart).
segment_members = Table(
    "segment_members",
    metadata,
    Column("segment_id", String(ID), primary_key=True),
    Column("customer_id", String(ID), primary_key=True, index=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# -- promotions (migration 0010) ------------------------------------------------
#
# Talon.One's objects, inside a workspace. Ids are integers, as Talon's are
# (its clients type them so). Customers are Patron's customers: a profile's
# ``integrationId`` is the customer's external id, so rows that name a
# customer keep that id (``integration_id``), which merges never change and
# which a coupon reserved for someone not yet seen can name too. Money and
# points are ``Amount`` (exact millionths).

# An application's Integration API keys are ``api_keys`` rows of kind
# ``talon_integration_key`` naming it; Bearer tokens from ``POST /v1/sessions``
# expire.
api_keys.append_column(Column("application_id", Integer))
api_keys.append_column(Column("expires_at", UTCDateTime()))

# The promotions tables (Talon.One's objects) are declared on this metadata in
# ``store/promotions/tables.py``; ``store/declared.py`` gathers every table.

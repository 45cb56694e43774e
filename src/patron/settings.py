"""Patron's configuration: one typed object, read once from ``PATRON_*`` variables.

Every field here is documented in the README's configuration table (a test
checks that), with the default shown here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# The stores Patron runs on, as SQLAlchemy names their drivers.
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
URL_EXAMPLES = "sqlite:///patron.db or postgresql://user@host:5432/patron"


class Settings(BaseSettings):
    """Everything Patron can be told from its environment."""

    model_config = SettingsConfigDict(env_prefix="PATRON_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///patron.db",
        description="SQLAlchemy URL of the store: a SQLite file, or postgresql://…",
    )
    host: str = Field(default="127.0.0.1", description="Address `patron serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `patron serve` listens on.")
    workers: int = Field(
        default=1, ge=1, description="Server processes (PostgreSQL only; SQLite needs 1)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the server and the CLI."
    )
    access_log: bool = Field(default=False, description="Log every HTTP request.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as timestamped text, or as one JSON object per line.",
    )
    ready_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How long GET /ready waits for the database before answering 503.",
    )
    ingest_queue_limit: int = Field(
        default=50_000,
        ge=1,
        description="Messages waiting for the database before tracking calls get 429.",
    )
    commit_batch_limit: int = Field(
        default=5_000,
        ge=1,
        description="Most messages written in one group-committed transaction.",
    )
    key_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How long a process trusts an API key it has already checked.",
    )
    segment_sweep_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often customer segments with time windows are re-evaluated.",
    )
    csv_import_max_mb: int = Field(
        default=10,
        ge=1,
        description="Largest CSV file `POST /v1/customers/importCSV` takes, in MB.",
    )
    database_startup_timeout: float = Field(
        default=60.0,
        ge=0,
        description="Seconds to wait at start-up for a PostgreSQL database that is not reachable.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite `synchronous` pragma: FULL survives power loss, NORMAL a crash.",
    )
    talon_lock_wait_ms: int = Field(
        default=200,
        ge=0,
        description="How long a Talon.One session or profile update waits for another "
        "update of the same session or profile before answering 409.",
    )
    keys_dir: str = Field(
        default="",
        description="Folder for the first start's keys file when no terminal shows them "
        "(default: the SQLite database's folder, else the working directory).",
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        # Users write postgresql://…; SQLAlchemy would pick psycopg2 for that.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix) :]
        parsed = _parse_database_url(url)
        if parsed.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(f"Patron does not run on {parsed.drivername!r}: use {URL_EXAMPLES}")
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database's file, relative to the working directory; None if in memory."""
        if not self.is_sqlite:
            return None
        database = make_url(self.database_url).database
        return Path(database) if database and database != ":memory:" else None


def _parse_database_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number
        parsed = None
    if parsed is None or (parsed.port is not None and not 0 < parsed.port < 65536):
        raise ValueError(f"not a database URL: use {URL_EXAMPLES}")
    return parsed


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()

"""Patron's configuration: one typed object, read once from ``PATRON_*`` variables.

Every field here is documented in the README's configuration table (a test
checks that), with the default shown here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    database_startup_timeout: float = Field(
        default=60.0,
        ge=0,
        description="Seconds to wait at start-up for a PostgreSQL database that is not reachable.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite `synchronous` pragma: FULL survives power loss, NORMAL a crash.",
    )

    @field_validator("database_url")
    @classmethod
    def _use_psycopg(cls, url: str) -> str:
        # Users write postgresql://…; SQLAlchemy would pick psycopg2 for that.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()

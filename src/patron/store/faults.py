"""What a database error means, decided in one place for both databases.

Three answers, because a caller must do three different things:

* **race** — another transaction got there first (a deadlock, a serialisation
  failure, a lock it would not wait for, the same row inserted by another
  process): run the transaction again, now. Expected with many writers; not
  worth an operator's attention.
* **unavailable** — the database cannot be reached or cannot store anything
  (connection refused or lost, server shutting down or starting up, too many
  connections, disk full, a read-only or damaged file, a lock still held after
  the busy timeout): the request may succeed later, so clients get 503 with
  ``Retry-After``.
* **unexpected** — anything else: a value the database refuses (a NUL
  character, a number out of range), a broken statement, a missing table.
  Retrying cannot help, so the client gets a 500 and the server's log one
  traceback. Telling clients to retry such a request would have them retry
  forever.
"""

from __future__ import annotations

import enum
import logging
import threading

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger(__name__)


class Fault(enum.Enum):
    RACE = "race"
    UNAVAILABLE = "unavailable"
    UNEXPECTED = "unexpected"


class StorageFault(Exception):
    """Patron itself refused to touch the database's files (see :mod:`.sqlite_files`)."""


# PostgreSQL (SQLSTATE): a lost race, worth running again at once.
_RACE_STATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "23505",  # unique_violation: another process inserted the same row first
}
# PostgreSQL: the server is out of reach, or cannot take the work now.
_UNAVAILABLE_STATES = {
    "25006",  # read_only_sql_transaction: a standby after a failover
    "3D000",  # invalid_catalog_name: the database is not there (yet, or any more)
    "57014",  # query_canceled: a statement timeout, or an operator's cancel
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: starting up
    "XX001",  # data_corrupted
    "XX002",  # index_corrupted
}
_UNAVAILABLE_CLASSES = {
    "08",  # connection exception
    "53",  # insufficient resources: disk full, out of memory, too many connections
    "58",  # system error: I/O
}
# SQLite primary result codes that mean the file cannot be used now.
_SQLITE_UNAVAILABLE = {
    5,  # SQLITE_BUSY: still locked after busy_timeout
    6,  # SQLITE_LOCKED
    7,  # SQLITE_NOMEM
    8,  # SQLITE_READONLY: file, directory or filesystem not writable
    10,  # SQLITE_IOERR
    11,  # SQLITE_CORRUPT
    13,  # SQLITE_FULL: disk full
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
    26,  # SQLITE_NOTADB: the file was overwritten
}
_SQLITE_CONSTRAINT_UNIQUE = {1555, 2067}  # PRIMARYKEY, UNIQUE


def classify(error: BaseException) -> Fault:
    """Race, unavailable or unexpected: see the module's docstring."""
    if isinstance(error, StorageFault | PoolTimeout):  # PoolTimeout: every connection busy
        return Fault.UNAVAILABLE
    if not isinstance(error, DBAPIError):
        return Fault.UNEXPECTED
    if error.connection_invalidated or isinstance(error.orig, StorageFault):
        return Fault.UNAVAILABLE
    orig = error.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        if code in _SQLITE_CONSTRAINT_UNIQUE:
            return Fault.RACE
        return Fault.UNAVAILABLE if code & 0xFF in _SQLITE_UNAVAILABLE else Fault.UNEXPECTED
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        if state in _RACE_STATES:
            return Fault.RACE
        if state in _UNAVAILABLE_STATES or state[:2] in _UNAVAILABLE_CLASSES:
            return Fault.UNAVAILABLE
        return Fault.UNEXPECTED
    # No code at all: the driver's own failure to reach the server (refused,
    # reset, timed out, name not resolved) or to use a closed connection.
    module = type(orig).__module__.partition(".")[0]
    if module in ("psycopg", "sqlite3") and type(orig).__name__ in (
        "OperationalError",
        "InterfaceError",
    ):
        return Fault.UNAVAILABLE
    return Fault.UNEXPECTED


def is_unique_violation(error: BaseException) -> bool:
    """A race that must stop being one: retried, but never reported as an outage."""
    orig = getattr(error, "orig", None)
    return (
        getattr(orig, "sqlstate", None) == "23505"
        or getattr(orig, "sqlite_errorcode", None) in _SQLITE_CONSTRAINT_UNIQUE
    )


def reason(error: BaseException) -> str:
    """The driver's first line about ``error``: short, and without SQL or parameters."""
    orig = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0]}" if text else type(orig).__name__


class OutageLog:
    """Says once, at ERROR, that the database went away, and once, at INFO, that it is back.

    During an outage every request fails the same way; one line per request
    would bury the one that matters.
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._down = False
        self._refused = 0

    def failed(self, cause: str) -> None:
        with self._lock:
            first, self._down = not self._down, True
            self._refused += 1
        if first:
            log.error(
                "the %s is not available (%s); answering 503 until it is back", self.database, cause
            )
        else:
            log.debug("the %s is still not available (%s)", self.database, cause)

    def recovered(self) -> None:
        if not self._down:  # the common case: no lock
            return
        with self._lock:
            if not self._down:
                return
            refused, self._down, self._refused = self._refused, False, 0
        log.info(
            "the %s is available again (%d calls were refused meanwhile)", self.database, refused
        )

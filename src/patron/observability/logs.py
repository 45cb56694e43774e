"""Log lines: timestamped text for people, or one JSON object per line for machines.

``PATRON_LOG_FORMAT`` chooses: ``text`` (the default)::

    2025-05-01T12:00:00.123Z WARNING  patron: unexpected error … [request 5f0c…]

or ``json``::

    {"time":"2025-05-01T12:00:00.123Z","level":"WARNING","logger":"patron",
     "message":"unexpected error …","request_id":"5f0c…"}

Patron's loggers (``patron`` and below) and uvicorn's (its errors and its
access log) write the same format. A line logged while a request is handled
carries that request's id (:mod:`patron.observability.context`), whichever
logger wrote it; an exception's traceback is part of its line (``exception``
in JSON).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from patron.observability.context import current_request_id
from patron.settings import Settings


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_id(record: logging.LogRecord) -> str | None:
    explicit = getattr(record, "request_id", None)  # logged with extra={"request_id": …}
    return explicit if isinstance(explicit, str) else current_request_id()


class TextFormatter(logging.Formatter):
    """``<UTC time> <LEVEL> <logger>: <message> [request <id>]``, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname:<8} {record.name}: {record.getMessage()}"
        request_id = _request_id(record)
        if request_id is not None:
            line += f" [request {request_id}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id is not None:
            entry["request_id"] = request_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(_access_fields(record.args))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    """uvicorn's access line as fields: it logs (client, method, path, HTTP version, status)."""
    if len(args) != 5:
        return {}
    client, method, path, _version, status = args
    return {"client": client, "method": method, "path": path, "status": status}


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


class PatronHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure_logging` installs (and replaces on the next call)."""


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Give the ``patron`` loggers one handler, in the settings' format and level.

    They do not propagate to the root logger: uvicorn has its own handlers,
    and a library's root configuration must not print Patron's lines twice.
    Handlers others added (a test's) stay.
    """
    logger = logging.getLogger("patron")
    for handler in [h for h in logger.handlers if isinstance(h, PatronHandler)]:
        logger.removeHandler(handler)
    handler = PatronHandler(stream)
    handler.setFormatter(FORMATTERS[settings.log_format]())
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(settings.log_level.upper())


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers as uvicorn sets them up, in Patron's format."""
    formatter = FORMATTERS[settings.log_format]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"patron": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "patron",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "patron",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }

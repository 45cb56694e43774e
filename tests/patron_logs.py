"""Capturing what Patron's loggers say, for tests of what an operator gets to read."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def patron_records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of the ``patron`` loggers, DEBUG and up, each once.

    The app stops ``patron`` propagating to the root logger (where caplog
    listens) once it has run in the process; so the handler goes on ``patron``
    itself, with propagation off meanwhile.
    """
    logger = logging.getLogger("patron")
    propagate, level = logger.propagate, logger.level
    logger.addHandler(caplog.handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.propagate = propagate
        logger.setLevel(level)


def said(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    """The messages at ``level`` or above, as ``LEVEL: message``."""
    return [f"{r.levelname}: {r.getMessage()}" for r in caplog.records if r.levelno >= level]

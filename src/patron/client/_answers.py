"""Reading the server's answer to a batch: accepted, refused (which messages), or retry."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from patron.client.errors import Problem, RequestRejected

MAX_RETRY_AFTER = 60.0  # seconds; a guard against absurd Retry-After headers


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``min(cap, base * 2**(n-1))`` times 0.5 to 1.5.

    A ``Retry-After`` the server sent wins (capped at a minute).
    """

    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1, 2, …)."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        backoff = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return backoff * random.uniform(0.5, 1.5)


@dataclass(frozen=True, slots=True)
class Transient:
    """A failed attempt worth repeating: a 5xx, a 429, or no answer at all."""

    reason: str
    cause: BaseException
    status: int | None = None
    retry_after: float | None = None

    @classmethod
    def of_error(cls, error: httpx.HTTPError) -> Transient:
        return cls(f"{type(error).__name__}: {error}", error)

    @classmethod
    def of_response(cls, response: httpx.Response) -> Transient:
        status = response.status_code
        code, message, _ = _error_body(response)
        cause = httpx.HTTPStatusError(f"HTTP {status}", request=response.request, response=response)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return cls(f"HTTP {status} {code}: {message}", cause, status, retry_after)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A 4xx: the server's reason, and its problems by message index (None: the request)."""

    status: int
    code: str
    message: str
    by_index: dict[int | None, list[Problem]] = field(default_factory=dict)

    def names_messages(self) -> bool:
        """Whether every problem names a message, so the others can be sent again."""
        return bool(self.by_index) and None not in self.by_index

    def error_for(self, index: int) -> RequestRejected:
        """The error of the message at ``index`` of the refused batch."""
        problems = self.by_index.get(index, []) + self.by_index.get(None, [])
        return RequestRejected(self.status, self.code, self.message, tuple(problems))


def is_retryable(status: int) -> bool:
    return status == 429 or status >= 500


def refusal(response: httpx.Response, size: int) -> Refusal:
    """The refusal a 4xx (or any other answer not worth repeating) carries.

    A problem whose index is missing or outside the batch of ``size`` counts
    as a problem of the whole request.
    """
    code, message, errors = _error_body(response)
    by_index: dict[int | None, list[Problem]] = {}
    for entry in errors:
        index = entry.get("index")
        if not (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < size):
            index = None
        field_name = entry.get("field")
        problem = Problem(
            str(field_name) if field_name is not None else None,
            str(entry.get("message", message)),
        )
        by_index.setdefault(index, []).append(problem)
    return Refusal(response.status_code, code, message, by_index)


def parse_retry_after(header: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP date; None if unusable."""
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_body(response: httpx.Response) -> tuple[str, str, list[dict[str, Any]]]:
    """``code``, ``message`` and the ``errors`` entries of a Segment-style error body."""
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {}
    errors = document.get("errors")
    entries = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    fallback = response.text[:200].strip() or response.reason_phrase
    return str(document.get("code") or "unknown"), str(document.get("message") or fallback), entries

"""The domain's errors: a small hierarchy that carries meaning.

Each API surface maps these, in exactly one place, to its vendor's error body
and status code. Nothing below the surfaces raises HTTP errors.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: where (``field``, ``index``) and what."""

    message: str
    field: str | None = None
    index: int | None = None

    def describe(self) -> str:
        where = ""
        if self.index is not None:
            where = f"batch[{self.index}]"
        if self.field:
            where = f"{where}.{self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message


class PatronError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PatronError):
    """No ``kind`` (``"customer"``, ``"segment"``, …) is known by ``ref``."""

    code = "not_found"

    def __init__(self, kind: str, ref: object, message: str | None = None) -> None:
        super().__init__(message or f"no {kind} {ref!r}")
        self.kind = kind
        self.ref = ref


class Conflict(PatronError):
    code = "conflict"


class Invalid(PatronError):
    """The input breaks a rule. ``problems`` lists every broken rule found."""

    code = "invalid_request"

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [Problem(message)]

    @classmethod
    def of(cls, problems: list[Problem]) -> Invalid:
        first = problems[0].describe()
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return cls(first + more, problems)


class Unauthorized(PatronError):
    """No credentials, or credentials Patron does not know."""

    code = "unauthorized"


class Forbidden(PatronError):
    """Known credentials without the right to do this."""

    code = "forbidden"


class TooLarge(PatronError):
    code = "too_large"


class RetryLater(PatronError):
    """Nothing was done, but the same request may succeed after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    """Patron is shedding load."""

    code = "rate_limited"


class Unavailable(RetryLater):
    """A transient fault: the database is busy or unreachable."""

    code = "unavailable"

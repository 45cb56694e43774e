"""The HTTP status of each domain error, shared by every API surface."""

from __future__ import annotations

from patron.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PatronError,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
)

HTTP_STATUS: dict[type[PatronError], int] = {
    Invalid: 400,
    TooLarge: 413,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    Unavailable: 503,
}

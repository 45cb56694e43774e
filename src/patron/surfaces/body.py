"""Reading request bodies within a size limit, inflating gzip and deflate.

The limit applies to the inflated body, and inflation stops as soon as it is
passed: a small compressed "bomb" costs at most ``limit`` bytes of memory.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
from starlette.requests import Request

from patron.domain.errors import Invalid, TooLarge

_GZIP = 16 + zlib.MAX_WBITS


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, inflated, or TooLarge / Invalid."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is larger than {limit // 1024} KB")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():  # also reads chunked bodies with no length
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"request body is larger than {limit // 1024} KB")
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding in ("gzip", "x-gzip"):
        return _inflate(raw, _GZIP, limit)
    if encoding == "deflate":
        return _inflate(raw, zlib.MAX_WBITS, limit)
    raise Invalid(f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or none")


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        body = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise Invalid(f"request body is not valid compressed data: {error}") from None
    if len(body) > limit:
        raise TooLarge(f"request body is larger than {limit // 1024} KB once inflated")
    if not inflater.eof:
        raise Invalid("request body is truncated compressed data")
    return body


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or Invalid."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:  # the standard library also takes integers beyond 64 bits
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise Invalid("request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise Invalid("request body must be a JSON object")
    return document

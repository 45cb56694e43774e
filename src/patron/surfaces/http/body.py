"""Reading request bodies within a size limit, inflating gzip and deflate.

The limit applies to the inflated body, and inflation stops as soon as it is
passed: a small compressed "bomb" costs at most ``limit`` bytes of memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncGenerator
from typing import Any

import orjson
from starlette.requests import Request

from patron.domain.errors import Invalid, TooLarge

_GZIP = 16 + zlib.MAX_WBITS
# "\u0000" preceded by an even number of backslashes: an escaped NUL, not the
# text "\\u0000". (JSON cannot carry a raw NUL byte in a string at all.)
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


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


def stream_body(request: Request, *, limit: int) -> AsyncGenerator[bytes, None]:
    """The request body, inflated, piece by piece as it arrives, for bodies too large
    to hold in memory (a file upload): TooLarge once past ``limit`` bytes inflated.

    A declared length over the limit and an unsupported Content-Encoding are
    refused at once, before anything is read.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is larger than {limit // 1024} KB")
    encoding = request.headers.get("content-encoding", "").strip().lower()
    wbits = _WBITS.get(encoding, 0)
    if encoding not in ("", "identity") and not wbits:
        raise Invalid(f"unsupported Content-Encoding {encoding!r}: send gzip, deflate or none")
    return _limited(_inflating(request, wbits) if wbits else request.stream(), limit)


_WBITS = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": zlib.MAX_WBITS}


async def _limited(pieces: AsyncGenerator[bytes, None], limit: int) -> AsyncGenerator[bytes, None]:
    total = 0
    async for piece in pieces:
        total += len(piece)
        if total > limit:
            raise TooLarge(f"request body is larger than {limit // 1024} KB")
        yield piece


async def _inflating(request: Request, wbits: int) -> AsyncGenerator[bytes, None]:
    """Inflate as the body arrives, at most 64 KB at a time (a bomb stops at the
    caller's limit); gzip allows several members back to back, as read_body does."""
    inflater = zlib.decompressobj(wbits)
    pending = b""  # compressed bytes not inflated yet
    async for piece in request.stream():
        pending += piece
        while pending:
            if inflater.eof:  # what follows a member is another gzip member, or ignored
                if wbits != _GZIP or (len(pending) >= 2 and not pending.startswith(_MAGIC)):
                    return
                if len(pending) < 2:
                    break  # the next piece tells
                inflater = zlib.decompressobj(wbits)
            try:
                out = inflater.decompress(pending, _INFLATE_STEP)
            except zlib.error as error:
                raise Invalid(f"request body is not valid compressed data: {error}") from None
            pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            if out:
                yield out
    if not inflater.eof:
        raise Invalid("request body is truncated compressed data")


_MAGIC = b"\x1f\x8b"
_INFLATE_STEP = 64 * 1024


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Inflate every member (gzip allows several back to back), within ``limit``."""
    parts: list[bytes] = []
    size = 0
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            part = inflater.decompress(data, limit + 1 - size)
        except zlib.error as error:
            raise Invalid(f"request body is not valid compressed data: {error}") from None
        size += len(part)
        if size > limit:
            raise TooLarge(f"request body is larger than {limit // 1024} KB once inflated")
        if not inflater.eof:
            raise Invalid("request body is truncated compressed data")
        parts.append(part)
        data = inflater.unused_data
        if wbits != _GZIP or not data.startswith(b"\x1f\x8b"):
            return b"".join(parts)


def contains_nul(json_text: bytes) -> bool:
    """Whether JSON text holds the NUL character (which it can only hold escaped)."""
    # A substring search is ~50x cheaper than the regex; most texts end there.
    return b"\\u0000" in json_text and _ESCAPED_NUL.search(json_text) is not None


def parse_json(body: bytes, *, refuse_nul: bool = True) -> Any:
    """The body as any JSON document, or Invalid.

    Refused as well: invalid UTF-8 or lone surrogates, nesting beyond 1,024
    levels (the parser's limit), and the NUL character, which PostgreSQL
    cannot store (refused on SQLite too, so both stores accept the same input).
    ``refuse_nul=False`` leaves NUL characters to the caller, to say where
    they are (a batch names the message holding one).
    """
    if refuse_nul and contains_nul(body):
        raise Invalid("request body contains a NUL character (\\u0000), which Patron refuses")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Invalid(f"request body is not valid JSON: {error}") from None


def parse_json_object(body: bytes, *, refuse_nul: bool = True) -> dict[str, Any]:
    """The body as a JSON object, or Invalid (see :func:`parse_json`)."""
    document = parse_json(body, refuse_nul=refuse_nul)
    if not isinstance(document, dict):
        raise Invalid("request body must be a JSON object")
    return document

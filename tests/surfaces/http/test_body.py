"""Streamed request bodies: inflated as they arrive, refused once past their limit."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from typing import Any

import pytest
from starlette.requests import Request

from patron.domain.errors import Invalid, TooLarge
from patron.surfaces.http.body import stream_body

pytestmark = pytest.mark.anyio


def request(pieces: Sequence[bytes], headers: dict[str, str]) -> Request:
    """A request whose body arrives in ``pieces``."""
    messages = [
        {"type": "http.request", "body": piece, "more_body": n < len(pieces) - 1}
        for n, piece in enumerate(pieces)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "method": "POST", "headers": raw}, receive)


def split(data: bytes, size: int) -> list[bytes]:
    return [data[n : n + size] for n in range(0, len(data), size)]


async def body(pieces: Sequence[bytes], encoding: str = "", limit: int = 1 << 20) -> bytes:
    headers = {"content-encoding": encoding} if encoding else {}
    return b"".join([piece async for piece in stream_body(request(pieces, headers), limit=limit)])


PLAIN = b"".join(b"line %d of a file\n" % n for n in range(5_000))


@pytest.mark.parametrize("piece_size", [1, 7, 1_000, 1 << 20])
async def test_bodies_are_inflated_however_they_arrive(piece_size: int) -> None:
    assert await body(split(PLAIN, piece_size)) == PLAIN
    assert await body(split(PLAIN, piece_size), "identity") == PLAIN
    assert await body(split(gzip.compress(PLAIN), piece_size), "gzip") == PLAIN
    assert await body(split(zlib.compress(PLAIN), piece_size), "deflate") == PLAIN
    members = gzip.compress(PLAIN[:1000]) + gzip.compress(PLAIN[1000:])  # back to back
    assert await body(split(members, piece_size), "x-gzip") == PLAIN
    # What follows the compressed data (and is not another gzip member) is ignored.
    assert await body(split(gzip.compress(PLAIN) + b"junk", piece_size), "gzip") == PLAIN
    assert await body([]) == b""


async def test_bodies_past_their_limit_are_refused() -> None:
    assert await body(split(PLAIN, 1000), limit=len(PLAIN)) == PLAIN
    with pytest.raises(TooLarge):
        await body(split(PLAIN, 1000), limit=len(PLAIN) - 1)
    bomb = gzip.compress(bytes(20 << 20))  # 20 MB of zeros in 20 KB
    with pytest.raises(TooLarge):
        await body(split(bomb, 64 << 10), "gzip", limit=1 << 20)
    declared = request([PLAIN], {"content-length": str(len(PLAIN))})
    with pytest.raises(TooLarge):  # refused before anything is read
        stream_body(declared, limit=len(PLAIN) - 1)


async def test_bad_compressed_bodies_are_invalid() -> None:
    with pytest.raises(Invalid, match="unsupported Content-Encoding"):
        stream_body(request([PLAIN], {"content-encoding": "br"}), limit=1 << 20)
    with pytest.raises(Invalid, match="truncated"):
        await body([gzip.compress(PLAIN)[:-20]], "gzip")
    with pytest.raises(Invalid, match="not valid compressed data"):
        await body([b"not gzip at all"], "gzip")

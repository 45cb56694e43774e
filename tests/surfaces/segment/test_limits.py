"""Limits over HTTP: message, request and batch sizes, compressed and chunked bodies,
and back-pressure (429 with Retry-After).

A single call's body is at most 32 KB; a batch's (``/v1/batch``, ``/v1/b``,
``/v1/import``) at most 4.5 MB, so that the 4 MB requests RudderStack's
library builds fit (``test_official_sdks.py`` sends them through it)."""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from patron.domain.errors import NotFound
from patron.services import Services
from patron.settings import Settings
from tests.conftest import WorkspaceKeys
from tests.surfaces.segment.support import (
    assert_error,
    assert_invalid,
    assert_nothing_stored,
    assert_ok,
    count_rows,
    post_raw,
)

pytestmark = pytest.mark.anyio

KB = 1024
MESSAGE_LIMIT = 32 * KB
BATCH_BYTES_LIMIT = 4608 * KB  # 4.5 MB
BATCH_LIMIT = 20_000  # calls: ~4 MiB of the smallest ones RudderStack's library builds


def padded(document: dict[str, Any], size: int) -> dict[str, Any]:
    """``document`` with ``properties.pad`` grown so that its compact JSON is ``size`` bytes."""
    document = {**document, "properties": {"pad": ""}}
    missing = size - len(orjson.dumps(document))
    assert missing >= 0
    document["properties"]["pad"] = "x" * missing
    assert len(orjson.dumps(document)) == size
    return document


def track_body(size: int, user: str = "u1") -> bytes:
    """A /v1/track body of exactly ``size`` bytes."""
    return orjson.dumps(padded({"userId": user, "event": "Big"}, size))


def batch_body(size: int, user: str = "u1") -> bytes:
    """A /v1/batch body of exactly ``size`` bytes, every item under the message limit."""
    item = {"type": "track", "userId": user, "event": "Big"}
    empty = len(orjson.dumps({"batch": []}))
    per_item = 30 * KB
    count = -(-(size - empty) // (per_item + 1))
    items = [padded(item, per_item) for _ in range(count - 1)]
    rest = size - len(orjson.dumps({"batch": items})) - (1 if items else 0)
    items.append(padded(item, rest))
    body = orjson.dumps({"batch": items})
    assert len(body) == size
    return body


async def chunks(data: bytes, size: int = 8 * KB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


# -- message size -------------------------------------------------------------------


async def test_a_single_call_of_exactly_32_kb_is_accepted(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    assert_ok(await post_raw(api, workspace.write_key, "/v1/track", track_body(MESSAGE_LIMIT)))
    assert (await count_rows(app_services[1], workspace.id))[0] == 1


@pytest.mark.parametrize("path", ["/v1/track", "/v1/t", "/anything/v1/identify"])
async def test_a_single_call_over_32_kb_is_too_large(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    path: str,
) -> None:
    response = await post_raw(api, workspace.write_key, path, track_body(MESSAGE_LIMIT + 1))
    assert_error(response, 400, "too_large")
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_a_batch_item_of_exactly_32_kb_is_accepted(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    item = padded({"type": "track", "userId": "u1", "event": "Big"}, MESSAGE_LIMIT)
    assert_ok(
        await post_raw(api, workspace.write_key, "/v1/batch", orjson.dumps({"batch": [item]}))
    )
    assert (await count_rows(app_services[1], workspace.id))[0] == 1


async def test_a_batch_item_over_32_kb_refuses_the_batch(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    small = {"type": "track", "userId": "u1", "event": "Small"}
    big = padded({"type": "track", "userId": "u2", "event": "Big"}, MESSAGE_LIMIT + 1)
    body = orjson.dumps({"batch": [small, small, big]})
    response = await post_raw(api, workspace.write_key, "/v1/batch", body)
    assert response.status_code == 400, response.text[:500]
    problem = response.json()
    assert problem["success"] is False
    assert problem["code"] in ("too_large", "invalid_request")
    assert [error["index"] for error in problem["errors"]] == [2]
    await assert_nothing_stored(app_services[1], workspace.id)


# -- request size --------------------------------------------------------------------


async def test_a_batch_request_of_exactly_4_5_mb_is_accepted(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = batch_body(BATCH_BYTES_LIMIT)
    assert_ok(await post_raw(api, workspace.write_key, "/v1/batch", body))
    stored, _ = await count_rows(app_services[1], workspace.id)
    assert stored == len(orjson.loads(body)["batch"])


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b", "/v1/import", "/prefix/v1/batch"])
async def test_a_batch_request_over_4_5_mb_is_too_large(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    path: str,
) -> None:
    response = await post_raw(api, workspace.write_key, path, batch_body(BATCH_BYTES_LIMIT + 1))
    assert_error(response, 400, "too_large")
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_a_batch_of_20000_messages_is_accepted(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    batch = [{"type": "track", "userId": "u1", "event": "E"} for _ in range(BATCH_LIMIT)]
    assert_ok(await post_raw(api, workspace.write_key, "/v1/batch", orjson.dumps({"batch": batch})))
    assert await count_rows(app_services[1], workspace.id) == (BATCH_LIMIT, 1)


async def test_a_batch_of_20001_messages_is_refused_whole(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    batch = [{"type": "track", "userId": "u1", "event": "E"} for _ in range(BATCH_LIMIT + 1)]
    body = orjson.dumps({"batch": batch})
    assert len(body) < BATCH_BYTES_LIMIT  # refused for its count, not its size
    response = await post_raw(api, workspace.write_key, "/v1/batch", body)
    assert "20,000" in assert_error(response, 400, "too_large")["message"]
    await assert_nothing_stored(app_services[1], workspace.id)


# -- compressed bodies ----------------------------------------------------------------


async def test_gzip_and_deflate_bodies_are_inflated(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    single = orjson.dumps({"userId": "g1", "event": "Gzipped"})
    assert_ok(await post_raw(api, workspace.write_key, "/v1/track", gzip.compress(single), "gzip"))
    batch = orjson.dumps({"batch": [{"type": "track", "userId": "g2", "event": "Deflated"}]})
    assert_ok(
        await post_raw(api, workspace.write_key, "/v1/batch", zlib.compress(batch), "deflate")
    )
    batch = orjson.dumps({"batch": [{"type": "identify", "userId": "g3", "traits": {"a": 1}}]})
    assert_ok(await post_raw(api, workspace.write_key, "/v1/import", gzip.compress(batch), "GZIP"))
    plain = orjson.dumps({"userId": "g4", "event": "Plain"})
    assert_ok(await post_raw(api, workspace.write_key, "/v1/t", plain, "identity"))
    for ref, name in (("g1", "Gzipped"), ("g2", "Deflated"), ("g4", "Plain")):
        found = await services.customers.list_events(workspace_id=workspace.id, ref=ref, limit=9)
        assert [e["name"] for e in found] == [name]
    view = await services.customers.get(workspace_id=workspace.id, ref="g3")
    assert view.profile.attributes == {"a": 1}


async def test_a_gzipped_batch_of_exactly_4_5_mb_inflated_is_accepted(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    body = gzip.compress(batch_body(BATCH_BYTES_LIMIT))
    assert len(body) < 32 * KB
    assert_ok(await post_raw(api, workspace.write_key, "/v1/batch", body, "gzip"))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_the_limits_apply_to_the_inflated_body(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    encoding: str,
) -> None:
    compress = gzip.compress if encoding == "gzip" else zlib.compress
    batch = compress(batch_body(BATCH_BYTES_LIMIT + 1))
    single = compress(track_body(MESSAGE_LIMIT + 1))
    assert len(batch) < 32 * KB
    response = await post_raw(api, workspace.write_key, "/v1/batch", batch, encoding)
    assert_error(response, 400, "too_large")
    response = await post_raw(api, workspace.write_key, "/v1/track", single, encoding)
    assert_error(response, 400, "too_large")
    await assert_nothing_stored(app_services[1], workspace.id)


@functools.cache
def gzip_bomb(inflated: int) -> bytes:
    """``inflated`` bytes of zeros, gzipped, without ever holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * KB)
    parts = [compressor.compress(block) for _ in range(inflated // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/track"])
async def test_a_gzip_bomb_is_refused_without_inflating_it(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    path: str,
) -> None:
    bomb = gzip_bomb(50 * 1024 * KB)  # 50 MB of zeros in about 50 KB
    assert len(bomb) < 500 * KB
    tracemalloc.start()
    try:
        response = await post_raw(api, workspace.write_key, path, bomb, "gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_error(response, 400, "too_large")
    assert peak < 10 * 1024 * KB, f"inflating the bomb took {peak} bytes at its peak"
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_bad_encodings_and_corrupt_compressed_bodies_get_400(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = orjson.dumps({"userId": "u1", "event": "E"})
    zipped = gzip.compress(body)
    cases = [
        ("br", body),
        ("compress", body),
        ("zstd", body),
        ("gzip, br", zipped),
        ("gzip", body),  # not compressed at all
        ("gzip", zipped[:-12]),  # truncated
        ("gzip", zipped[:10] + b"\x00" * (len(zipped) - 10)),  # corrupt
        ("gzip", b"\x1f\x8b"),
        ("deflate", body),
        ("deflate", zlib.compress(body)[:-3]),
        ("gzip", b""),
    ]
    failures = []
    for encoding, content in cases:
        response = await post_raw(api, workspace.write_key, "/v1/track", content, encoding)
        try:
            assert_error(response, 400, "invalid_request")
        except AssertionError as error:
            failures.append(f"{encoding} {content[:16]!r}: {error}")
    assert not failures, "\n".join(failures)
    await assert_nothing_stored(app_services[1], workspace.id)


async def test_a_gzip_body_of_several_members_is_read_whole(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    body = orjson.dumps({"userId": "u1", "event": "Two Members"})
    content = gzip.compress(body[:12]) + gzip.compress(body[12:])
    assert gzip.decompress(content) == body  # what any gzip reader makes of it
    assert_ok(await post_raw(api, workspace.write_key, "/v1/track", content, "gzip"))
    found = await app_services[1].customers.list_events(workspace_id=workspace.id, ref="u1")
    assert [event["name"] for event in found] == ["Two Members"]


# -- chunked bodies (no Content-Length) ----------------------------------------------


async def test_a_chunked_body_without_content_length_is_accepted(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    services = app_services[1]
    batch = [{"type": "track", "userId": "c1", "event": f"E{i}"} for i in range(100)]
    body = orjson.dumps({"batch": batch})
    assert_ok(await post_raw(api, workspace.write_key, "/v1/batch", chunks(body, 1000)))
    single = orjson.dumps({"userId": "c2", "event": "Chunked"})
    assert_ok(await post_raw(api, workspace.write_key, "/v1/track", chunks(single, 7)))
    zipped = gzip.compress(orjson.dumps({"userId": "c3", "event": "Chunked and zipped"}))
    assert_ok(await post_raw(api, workspace.write_key, "/v1/t", chunks(zipped, 5), "gzip"))
    assert (
        len(await services.customers.list_events(workspace_id=workspace.id, ref="c1", limit=999))
        == 100
    )
    for ref in ("c2", "c3"):
        assert len(await services.customers.list_events(workspace_id=workspace.id, ref=ref)) == 1


async def test_a_chunked_body_over_the_limit_is_too_large(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    key = workspace.write_key
    response = await post_raw(api, key, "/v1/batch", chunks(batch_body(BATCH_BYTES_LIMIT + 1)))
    assert_error(response, 400, "too_large")
    response = await post_raw(api, key, "/v1/track", chunks(track_body(MESSAGE_LIMIT + 1), 1000))
    assert_error(response, 400, "too_large")
    await assert_nothing_stored(app_services[1], workspace.id)


# -- back-pressure ----------------------------------------------------------------------


class TestBackPressure:
    """An app whose ingest queue holds a single message."""

    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database_url=database_url, key_cache_seconds=0, ingest_queue_limit=1)

    async def test_a_full_ingest_queue_answers_429_with_retry_after(
        self,
        api: httpx.AsyncClient,
        app_services: tuple[object, Services],
        workspace: WorkspaceKeys,
    ) -> None:
        services = app_services[1]
        auth = (workspace.write_key, "")
        assert_ok(await api.post("/v1/track", auth=auth, json={"userId": "warm", "event": "E"}))
        responses = await asyncio.gather(
            *(
                api.post("/v1/track", auth=auth, json={"userId": f"u{number}", "event": "E"})
                for number in range(60)
            )
        )
        statuses = [response.status_code for response in responses]
        assert set(statuses) <= {200, 429}, statuses
        assert 429 in statuses
        assert 200 in statuses
        for number, response in enumerate(responses):
            if response.status_code == 429:
                assert_error(response, 429, "rate_limited")
                assert response.headers["retry-after"].isdigit()
                assert int(response.headers["retry-after"]) >= 1
                with pytest.raises(NotFound):  # refused means not stored
                    await services.customers.get(workspace_id=workspace.id, ref=f"u{number}")
            else:  # acknowledged means stored
                await services.customers.get(workspace_id=workspace.id, ref=f"u{number}")


# -- how a message is measured ------------------------------------------------------------


async def test_a_message_is_measured_as_compact_json_written_by_python_or_orjson(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    # orjson writes 1e-05 as 0.00001; the Segment library measures its 32 KB the
    # Python way, so a message within its limit must be within Patron's.
    def item(count: int) -> dict[str, Any]:
        return {
            "type": "track",
            "userId": "u1",
            "event": "Floats",
            "properties": {"x": [1e-05] * count},
        }

    def python_size(document: dict[str, Any]) -> int:
        return len(json.dumps(document, separators=(",", ":")).encode())

    fits = max(n for n in range(5000, 6000) if python_size(item(n)) <= MESSAGE_LIMIT)
    assert len(orjson.dumps(item(fits))) > MESSAGE_LIMIT
    body = orjson.dumps({"batch": [item(fits)]})
    assert_ok(await post_raw(api, workspace.write_key, "/v1/batch", body))
    body = orjson.dumps({"batch": [item(fits), item(fits + 1)]})
    response = await post_raw(api, workspace.write_key, "/v1/batch", body)
    assert [(e["index"], e["field"]) for e in assert_invalid(response)] == [(1, None)]
    assert (await count_rows(app_services[1], workspace.id))[0] == 1


async def test_the_batch_context_counts_towards_the_size_of_each_message(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    small = {"type": "track", "userId": "u1", "event": "Small"}
    big = padded({"type": "track", "userId": "u1", "event": "Big"}, 20 * KB)
    context = {"page": {"title": "t" * 20 * KB}}
    body = orjson.dumps({"context": context, "batch": [small, big, small]})
    response = await post_raw(api, workspace.write_key, "/v1/batch", body)
    errors = assert_invalid(response)
    assert [(e["index"], e["field"]) for e in errors] == [(1, None)]
    assert "32 KB" in errors[0]["message"]
    # A batch context over 32 KB by itself: one problem, for the batch.
    context = {"page": {"title": "t" * MESSAGE_LIMIT}}
    body = orjson.dumps({"context": context, "batch": [small, small, small]})
    errors = assert_invalid(await post_raw(api, workspace.write_key, "/v1/batch", body))
    assert [(e["index"], e["field"]) for e in errors] == [(None, "context")]
    await assert_nothing_stored(app_services[1], workspace.id)

"""``Idempotency-Key`` for the Integration API's writes (see
:mod:`patron.domain.promotions.idempotency`).

Session updates and events keep their answer in their own transaction (the
router hands :func:`idempotency` to the service). Every other write is
wrapped by :func:`once`: claim the key, run the handler, keep its answer.
A replayed answer has the stored status and body, ``Content-Type`` and an
``Idempotent-Replayed: true`` header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import Request, Response

from patron.domain.promotions.applications import Caller
from patron.domain.promotions.idempotency import HEADER, Answer, Idempotency, check_key
from patron.domain.promotions.session_request import request_digest
from patron.services import Services

REPLAYED = "Idempotent-Replayed"


def idempotency(request: Request, body: Any) -> Idempotency | None:
    """The request's key and the digest of what it asks (method, path, query, body)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    check_key(key)
    query = sorted(request.query_params.multi_items())
    document = {"method": request.method, "path": request.url.path, "query": query, "body": body}
    return Idempotency(key, request_digest(document))


def answer_response(answer: Answer, *, replayed: bool = False) -> Response:
    headers = {REPLAYED: "true"} if replayed else None
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    return Response(
        answer.body, status_code=answer.status, media_type="application/json", headers=headers
    )


async def once(
    request: Request,
    services: Services,
    caller: Caller,
    body: Any,
    write: Callable[[], Awaitable[Response]],
    *,
    profile_ids: Iterable[Any] = (),
) -> Response:
    """``write()``'s response, or with a key already answered, that answer again.

    ``profile_ids``: the integration ids whose data the answer carries
    (anything not a non-empty string is skipped: the body is not checked yet).
    """
    key = idempotency(request, body)
    if key is None:
        return await write()
    application_id = caller.application_id
    kept = await services.idempotency.claim(application_id, key)
    if kept is not None:
        return answer_response(kept, replayed=True)
    try:
        response = await write()
    except BaseException:
        await services.idempotency.settle(application_id, key, Answer(500, ""))
        raise
    named = tuple(p for p in profile_ids if isinstance(p, str) and p)
    answer = Answer(response.status_code, bytes(response.body).decode(), named)
    await services.idempotency.settle(application_id, key, answer)
    return response


def strings_at(items: Any, name: str) -> list[Any]:
    """``item[name]`` of each object in a list (the profile ids of a bulk body)."""
    if not isinstance(items, list):
        return []
    return [item.get(name) for item in items if isinstance(item, dict)]

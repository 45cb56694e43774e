"""The customers API: Voucherify's ``/v1/customers…`` and ``/v1/async-actions…``.

Requests authenticate with the workspace's app id and token, sent as the
``X-App-Id`` and ``X-App-Token`` headers (``patron workspace create`` prints
them). Handlers just raise: the app that serves this router answers every
error in Voucherify's format (``errors.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import IO, Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from patron.domain.clock import utcnow
from patron.domain.customers import rows as customer_rows
from patron.domain.customers.service import validate_page
from patron.domain.errors import Invalid, Problem, TooLarge
from patron.domain.jobs.model import AsyncAction, RowResult
from patron.domain.jobs.runner import AsyncActionService
from patron.services import Services
from patron.surfaces.http.body import parse_json, parse_json_object, read_body, stream_body
from patron.surfaces.http.url import refuse_unstorable_text
from patron.surfaces.voucherify import customer_rows as voucherify_rows
from patron.surfaces.voucherify import wire
from patron.surfaces.voucherify.customer_rows import CUSTOMER_PROPERTIES, customer_row
from patron.surfaces.voucherify.redeemables import redeemables_page

MB = 1024 * 1024
# Voucherify's limit for bulk requests (CSV files: PATRON_CSV_IMPORT_MAX_MB, 10 by default).
MAX_BULK = 10 * MB
MAX_CUSTOMER = 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # the form's boundaries and headers around the file
REPORT_PAGE = 1000  # rows of a job's report read at once

router = APIRouter(prefix="/v1", tags=["customers"])


async def _open(request: Request) -> tuple[Services, str]:
    """The services and the caller's workspace id, or Unauthorized.

    Every handler starts here, so a URL no record can match (an id holding
    NUL) is refused here too, once the caller is known.
    """
    services: Services = request.app.state.services
    workspace_id = await services.workspaces.authenticate_app(
        app_id=request.headers.get("x-app-id"), token=request.headers.get("x-app-token")
    )
    refuse_unstorable_text(request)
    return services, workspace_id


async def _json(request: Request, limit: int) -> Any:
    body = await read_body(request, limit=limit)
    if body.lstrip().startswith(b"["):  # the bulk update takes a list
        return parse_json(body)
    return parse_json_object(body)


async def _customer_row(request: Request, properties: frozenset[str]) -> dict[str, Any]:
    row, problems = customer_row(await _json(request, MAX_CUSTOMER), properties=properties)
    if problems:
        raise Invalid.of(problems)
    return row


# -- customers ---------------------------------------------------------------------


@router.post("/customers")
async def create_customer(request: Request) -> Response:
    services, workspace_id = await _open(request)
    row = await _customer_row(request, CUSTOMER_PROPERTIES)
    profile, _ = await services.customers.upsert(workspace_id=workspace_id, row=row)
    return JSONResponse(wire.customer_json(profile))


@router.get("/customers")
async def list_customers(request: Request) -> Response:
    services, workspace_id = await _open(request)
    query = wire.customer_query(request.query_params)
    page = await services.customers.list(workspace_id=workspace_id, query=query)
    return JSONResponse(
        {
            "object": "list",
            "data_ref": "customers",
            "customers": [wire.customer_json(profile) for profile in page.customers],
            "total": page.total,
            "has_more": page.has_more,
        }
    )


@router.post("/customers/importCSV")
async def import_customers_csv(request: Request) -> Response:
    """The file is spooled to disk as it arrives and parsed as a stream while the
    job's input is staged: memory stays flat in the file's size."""
    services, workspace_id = await _open(request)
    async with _csv_file(request, services.settings.csv_import_max_mb * MB) as file:
        rows = await asyncio.to_thread(voucherify_rows.csv_rows, file)  # reads the header
        return await _submit(services, workspace_id, customer_rows.CSV_IMPORT, rows)


@router.post("/customers/bulk/async")
async def update_customers_in_bulk(request: Request) -> Response:
    services, workspace_id = await _open(request)
    rows = voucherify_rows.rows_from_bulk_update(await _json(request, MAX_BULK))
    return await _submit(services, workspace_id, customer_rows.BULK_UPDATE, rows)


@router.post("/customers/metadata/async")
async def update_customers_metadata_in_bulk(request: Request) -> Response:
    services, workspace_id = await _open(request)
    rows = voucherify_rows.rows_from_metadata_update(await _json(request, MAX_BULK))
    return await _submit(services, workspace_id, customer_rows.METADATA_UPDATE, rows)


@router.get("/customers/{customer_id}")
async def get_customer(request: Request, customer_id: str) -> Response:
    services, workspace_id = await _open(request)
    profile = await services.customers.profile(workspace_id=workspace_id, ref=customer_id)
    return JSONResponse(wire.customer_json(profile))


@router.put("/customers/{customer_id}")
async def update_customer(request: Request, customer_id: str) -> Response:
    """The SDKs send the whole customer, so its ``id`` or ``source_id`` may be in the
    body: taken when it names the customer of the path, refused (400) otherwise."""
    services, workspace_id = await _open(request)
    row = await _customer_row(request, CUSTOMER_PROPERTIES)
    profile = await services.customers.update(workspace_id=workspace_id, ref=customer_id, row=row)
    return JSONResponse(wire.customer_json(profile))


@router.delete("/customers/{customer_id}")
async def delete_customer(request: Request, customer_id: str) -> Response:
    services, workspace_id = await _open(request)
    await services.customers.delete(workspace_id=workspace_id, ref=customer_id)
    return Response(status_code=204)


@router.post("/customers/{customer_id}/permanent-deletion")
async def delete_customer_permanently(request: Request, customer_id: str) -> Response:
    services, workspace_id = await _open(request)
    report = await services.customers.erase(workspace_id=workspace_id, ref=customer_id)
    return JSONResponse(wire.deletion_json(report))


@router.get("/customers/{customer_id}/activity")
async def list_customer_activity(request: Request, customer_id: str) -> Response:
    services, workspace_id = await _open(request)
    query = wire.activity_query(request.query_params)
    page = await services.customers.activity(
        workspace_id=workspace_id, ref=customer_id, query=query
    )
    data = [wire.activity_json(activity) for activity in page.activities]
    more = data[-1]["id"] if page.has_more and data else None
    return JSONResponse(
        {
            "object": "list",
            "data_ref": "data",
            "data": data,
            "has_more": page.has_more,
            "more_starting_after": more,
        }
    )


@router.get("/customers/{customer_id}/activities")
async def list_customer_activities(request: Request, customer_id: str) -> Response:
    """The deprecated listing: the same activity, with a date-time cursor."""
    services, workspace_id = await _open(request)
    query = wire.activity_query(request.query_params, deprecated=True)
    page = await services.customers.activity(
        workspace_id=workspace_id, ref=customer_id, query=query
    )
    data = [wire.activity_json(activity) for activity in page.activities]
    total = await services.customers.count_activity(
        workspace_id=workspace_id, ref=customer_id, query=query
    )
    return JSONResponse(
        {
            "object": "list",
            "data_ref": "data",
            "data": data,
            "total": total,
            "has_more": page.has_more,
        }
    )


@router.get("/customers/{customer_id}/redeemables")
async def list_customer_redeemables(request: Request, customer_id: str) -> Response:
    """The codes a customer holds: coupons reserved for or addressed to them, referral
    codes they advocate, loyalty balances (filters are accepted, not applied)."""
    services, workspace_id = await _open(request)
    found = await services.profiles.holdings(workspace_id=workspace_id, ref=customer_id)
    page = redeemables_page(found.holdings, found.profile.id, request.query_params, utcnow())
    return JSONResponse(page)


@router.get("/customers/{customer_id}/segments")
async def list_customer_segments(request: Request, customer_id: str) -> Response:
    """The segments a customer is in; for an unknown id, those it would qualify for."""
    services, workspace_id = await _open(request)
    found = await services.customer_segments.of_customer(workspace_id=workspace_id, ref=customer_id)
    data = [{"id": s.id, "name": s.name, "object": "segment"} for s in found]
    return JSONResponse({"object": "list", "data_ref": "data", "data": data, "total": len(data)})


# -- segments ----------------------------------------------------------------------


@router.post("/segments")
async def create_segment(request: Request) -> Response:
    services, workspace_id = await _open(request)
    body = parse_json_object(await read_body(request, limit=MAX_CUSTOMER))
    unknown = sorted(set(body) - {"name", "type", "filter", "customers"})
    if unknown:
        raise Invalid.of([Problem("is not a segment property", key) for key in unknown])
    segment, _ = await services.customer_segments.create(
        workspace_id=workspace_id,
        name=body.get("name"),
        type_=body.get("type"),
        filter_=body.get("filter"),
        customers=body.get("customers"),
    )
    return JSONResponse(wire.segment_json(segment))


@router.get("/segments")
async def list_segments(request: Request) -> Response:
    services, workspace_id = await _open(request)
    found = await services.customer_segments.list(workspace_id=workspace_id)
    data = [wire.segment_json(segment) for segment in found]
    return JSONResponse({"object": "list", "data_ref": "data", "data": data, "total": len(data)})


@router.get("/segments/{segment_id}")
async def get_segment(request: Request, segment_id: str) -> Response:
    services, workspace_id = await _open(request)
    segment = await services.customer_segments.get(workspace_id=workspace_id, segment_id=segment_id)
    return JSONResponse(wire.segment_json(segment))


@router.delete("/segments/{segment_id}")
async def delete_segment(request: Request, segment_id: str) -> Response:
    services, workspace_id = await _open(request)
    await services.customer_segments.delete(workspace_id=workspace_id, segment_id=segment_id)
    return Response(status_code=204)


# -- async actions -----------------------------------------------------------------


@router.get("/async-actions")
async def list_async_actions(request: Request) -> Response:
    services, workspace_id = await _open(request)
    query = wire.Query(request.query_params)
    limit, end = query.integer("limit", 10), query.moment("end_date")
    query.check()
    validate_page(limit)
    found = await services.async_actions.list(
        workspace_id=workspace_id, limit=limit + 1, created_before=end
    )
    return JSONResponse(
        {
            "object": "list",
            "data_ref": "async_actions",
            "async_actions": [wire.async_action_json(action) for action in found[:limit]],
            "has_more": len(found) > limit,
        }
    )


@router.get("/async-actions/{async_action_id}")
async def get_async_action(request: Request, async_action_id: str) -> Response:
    """The job and its per-row report. A report of more than a page of rows is
    sent as it is read, a page at a time: a job's size does not cost memory."""
    services, workspace_id = await _open(request)
    jobs = services.async_actions
    action = await jobs.get(workspace_id=workspace_id, action_id=async_action_id)
    page = await jobs.results(
        workspace_id=workspace_id, action_id=async_action_id, limit=REPORT_PAGE
    )
    if len(page) < REPORT_PAGE:
        return JSONResponse(
            {**wire.async_action_json(action), "result": wire.async_action_result(action, page)}
        )
    return StreamingResponse(_report(jobs, action, page), media_type="application/json")


async def _report(
    jobs: AsyncActionService[Any], action: AsyncAction, page: list[RowResult]
) -> AsyncIterator[bytes]:
    """The job's JSON, its ``result.results`` written a page of rows at a time."""
    head = orjson.dumps(wire.async_action_json(action))[:-1]
    summary = orjson.dumps(wire.async_action_summary(action))[:-1]
    yield head + b',"result":' + summary + b',"results":['
    separator = b""
    while page:
        yield separator + b",".join(orjson.dumps(wire.result_json(result)) for result in page)
        separator = b","
        if len(page) < REPORT_PAGE:
            break
        page = await jobs.results(
            workspace_id=action.workspace_id,
            action_id=action.id,
            after_row=page[-1].row,
            limit=REPORT_PAGE,
        )
    yield b"]}}"


async def _submit(
    services: Services, workspace_id: str, type_: str, rows: Iterable[dict[str, Any]]
) -> Response:
    """Store the job (committed before answering) and answer 202 with its id."""
    action = await services.async_actions.submit(workspace_id=workspace_id, type_=type_, rows=rows)
    return JSONResponse({"async_action_id": action.id}, 202)


@asynccontextmanager
async def _csv_file(request: Request, limit: int) -> AsyncIterator[IO[bytes]]:
    """The ``file`` part of a multipart upload, at most ``limit`` bytes, spooled to a
    temporary file as it arrives; the file is gone once the context is left."""
    body = stream_body(request, limit=limit + MULTIPART_SLACK)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("send the CSV file as multipart/form-data, in a part named 'file'")
    parser = MultiPartParser(
        request.headers, body, max_files=1, max_fields=10, max_part_size=MAX_CUSTOMER
    )
    try:
        form = await parser.parse()
    except (MultiPartException, MultipartParseError) as error:
        raise Invalid(f"the multipart body cannot be read: {error}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("send the CSV file in a multipart part named 'file'")
        if upload.size is None or upload.size > limit:
            raise TooLarge(f"the CSV file is larger than {limit // MB} MB")
        yield upload.file
    finally:
        await form.close()

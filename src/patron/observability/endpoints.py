"""``GET /ready`` and ``GET /metrics``, on the root app beside ``/health``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from patron.observability.metrics import CONTENT_TYPE, Metrics
from patron.observability.readiness import Readiness


def add_endpoints(api: FastAPI, metrics: Metrics, readiness: Readiness) -> None:
    @api.get("/ready", include_in_schema=False)
    async def ready() -> Response:
        """200 when the database answers a trivial query in time; else 503."""
        problem = await readiness.problem()
        if problem is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse(
            {"status": "unavailable", "problem": problem},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @api.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:  # sync: collecting runs in a thread, not on the loop
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

"""Around every HTTP request: a request id for its log lines, and its metrics.

The dispatcher (``patron.app``) hands each request to :meth:`ObservedRequests.serve`
with the surface it chose. The cost stays in the microseconds the tracking
hot path can spare: two clock reads, one context variable, two cached label
children and a wrapper around ``send``; the request id is only made once a
line is logged or an error answered.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patron.observability.context import CURRENT, RequestContext
from patron.observability.metrics import Metrics

# The route label of a request no route took (an unknown path): one label for
# all of them, so scanners cannot grow the metrics without bound.
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The template of the route a Starlette app matched (``/v1/customers/{id}``)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class ObservedRequests:
    """Serves a request through a surface's app, with a request id, timed and counted.

    ``route`` names the route a request took once it has been answered (by
    default :func:`route_template`); it must return a bounded set of names.
    """

    def __init__(self, metrics: Metrics, route: Callable[[Scope], str] = route_template) -> None:
        self.metrics = metrics
        self.route = route

    async def serve(
        self,
        surface: str,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        request_id_prefix: str = "",
    ) -> None:
        context = RequestContext(request_id_prefix)
        token = CURRENT.set(context)
        status = 500  # what the server answers if the app raises before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = perf_counter()
        try:
            await app(scope, receive, sending)
        finally:
            seconds = perf_counter() - started
            self.metrics.request_answered(
                surface, self.route(scope), status, seconds, context.refusal
            )
            CURRENT.reset(token)

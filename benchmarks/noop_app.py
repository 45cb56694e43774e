"""The reference: a no-op ASGI endpoint on the same server stack as Patron.

It reads the whole request body and answers exactly what Patron answers, so
the difference between the two is what Patron does with an event.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"success":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"16")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

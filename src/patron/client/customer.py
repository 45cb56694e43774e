"""A customer: who they are, remembered between calls, as in the seed's Customer class."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from patron.client._messages import take
from patron.client.errors import InvalidCall

if TYPE_CHECKING:
    from patron.client.client import TrackingClient


class Customer:
    """Makes calls as one person. Create it with :meth:`TrackingClient.new_customer`.

    ``user_id``, ``anonymous_id`` and ``traits`` given to :meth:`identify`
    overwrite the object's own; every other call sends the object's ids.
    """

    def __init__(
        self,
        api_client: TrackingClient,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        traits: dict[str, Any] | None = None,
        **aliases: Any,
    ) -> None:
        fields = {"user_id": user_id, "anonymous_id": anonymous_id, **aliases}
        self.api_client = api_client
        self.user_id: str | None = take(fields, "user_id")
        self.anonymous_id: str | None = take(fields, "anonymous_id")
        self.traits: dict[str, Any] = dict(traits or {})
        if fields:
            raise InvalidCall(f"unknown customer fields: {', '.join(sorted(fields))}")

    def identify(self, **fields: Any) -> asyncio.Future[None]:
        """Say who the customer is. Returns an awaitable settled by the server's answer."""
        if (user_id := take(fields, "user_id")) is not None:
            self.user_id = user_id
        if (anonymous_id := take(fields, "anonymous_id")) is not None:
            self.anonymous_id = anonymous_id
        if (traits := fields.pop("traits", None)) is not None:
            self.traits = dict(traits)
        return self.api_client.identify(**self._ids(), traits=self.traits, **fields)

    def track(self, event: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Record what the customer did; ``event`` is required."""
        return self.api_client.track(event, **self._ids(), **fields)

    def page(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        return self.api_client.page(name, **self._ids(), **fields)

    def screen(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        return self.api_client.screen(name, **self._ids(), **fields)

    def group(self, group_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        return self.api_client.group(group_id, **self._ids(), **fields)

    def alias(self, user_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Link the customer's current id to ``user_id``, which becomes their id."""
        new_id = user_id if user_id is not None else take(fields, "user_id")
        previous = self.user_id or self.anonymous_id
        future = self.api_client.alias(new_id, previous_id=previous, **fields)
        self.user_id = new_id
        return future

    def _ids(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "anonymous_id": self.anonymous_id}

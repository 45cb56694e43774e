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

    Accepts ``user_id``/``userId``, ``anonymous_id``/``anonymousId`` and
    ``traits``. Every call sends the object's ids; ``user_id``,
    ``anonymous_id`` and ``traits`` given to :meth:`identify` overwrite the
    object's own first, while ids given to any other call apply to that call
    only. Each call returns the awaitable of :class:`TrackingClient`'s call.
    """

    def __init__(
        self,
        api_client: TrackingClient,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        traits: dict[str, Any] | None = None,
        **camel_case: Any,
    ) -> None:
        fields = {"user_id": user_id, "anonymous_id": anonymous_id, **camel_case}
        self.api_client = api_client
        self.user_id: str | None = take(fields, "user_id")
        self.anonymous_id: str | None = take(fields, "anonymous_id")
        self.traits: dict[str, Any] = dict(traits or {})
        if fields:
            raise InvalidCall(f"unknown customer fields: {', '.join(sorted(fields))}")

    def __repr__(self) -> str:
        return f"Customer(user_id={self.user_id!r}, anonymous_id={self.anonymous_id!r})"

    def identify(self, **fields: Any) -> asyncio.Future[None]:
        """Say who the customer is: sends the ids and ``traits``, after taking new ones.

        Also takes ``context``, ``integrations``, ``timestamp``, ``message_id``,
        ``custom`` and custom fields as keyword arguments.
        """
        if (user_id := take(fields, "user_id")) is not None:
            self.user_id = user_id
        if (anonymous_id := take(fields, "anonymous_id")) is not None:
            self.anonymous_id = anonymous_id
        if (traits := fields.pop("traits", None)) is not None:
            self.traits = dict(traits)
        return self.api_client.identify(**self._ids(fields), traits=self.traits, **fields)

    def track(self, event: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Record what the customer did: ``event`` (required), ``properties``, and the rest."""
        return self.api_client.track(event, **self._ids(fields), **fields)

    def page(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Record a page view: ``name``, ``category``, ``properties``, and the rest."""
        return self.api_client.page(name, **self._ids(fields), **fields)

    def screen(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Record a screen view: ``name``, ``category``, ``properties``, and the rest."""
        return self.api_client.screen(name, **self._ids(fields), **fields)

    def group(self, group_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Put the customer in group ``group_id``; ``traits`` describe the group."""
        return self.api_client.group(group_id, **self._ids(fields), **fields)

    def alias(self, user_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """Link the customer's current id (or ``previous_id``) to ``user_id``, their new id."""
        new_id = take({**fields, "user_id": user_id}, "user_id")
        fields.pop("userId", None)
        previous_id = take(fields, "previous_id") or self.user_id or self.anonymous_id
        future = self.api_client.alias(new_id, previous_id=previous_id, **fields)
        self.user_id = new_id
        return future

    def _ids(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The ids to send: the call's own (taken out of ``fields``), else the object's."""
        user_id = take(fields, "user_id")
        anonymous_id = take(fields, "anonymous_id")
        return {
            "user_id": self.user_id if user_id is None else user_id,
            "anonymous_id": self.anonymous_id if anonymous_id is None else anonymous_id,
        }

"""Patron's asynchronous tracking client.

Works against Patron and any Segment-compatible tracking endpoint::

    async with TrackingClient("WRITE_KEY", "http://127.0.0.1:8000") as client:
        customer = client.new_customer(user_id="user-1", traits={"plan": "pro"})
        await customer.identify()
        await customer.track("Order Completed", properties={"total": 42.5})

The exceptions are documented, as a tree, in :mod:`patron.client.errors`.
"""

from patron.client.client import DEFAULT_HOST, ErrorHandler, TrackingClient
from patron.client.customer import Customer
from patron.client.errors import (
    ClientClosed,
    DeliveryFailed,
    InvalidCall,
    MessageTooLarge,
    PatronClientError,
    Problem,
    RequestRejected,
)

__all__ = [
    "DEFAULT_HOST",
    "ClientClosed",
    "Customer",
    "DeliveryFailed",
    "ErrorHandler",
    "InvalidCall",
    "MessageTooLarge",
    "PatronClientError",
    "Problem",
    "RequestRejected",
    "TrackingClient",
]

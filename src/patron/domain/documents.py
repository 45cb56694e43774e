"""JSON-like documents (dicts and lists) as requests hand them to the domain."""

from __future__ import annotations

from typing import Any


def deeper_than(value: Any, levels: int) -> bool:
    """Whether objects and lists nest in ``value`` more than ``levels`` deep.

    Breadth-first and without recursion, so a hostile document cannot
    exhaust the stack before it is refused.
    """
    level = [value]
    for _ in range(levels):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return any(isinstance(item, dict | list) for item in level)

"""Compiled expressions: a closure to run and enough structure to print them back.

Compiling turns each JSON expression into a tree of nodes once; evaluating
calls ``node.run(scope)``, a closure that calls its arguments' closures — no
parsing, no lookups by name. The tree keeps what the JSON said
(:meth:`Node.to_json` gives it back unchanged) and how to show it to a person
(:meth:`Node.describe`, Talang's own Lisp notation).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.values import Shape

if TYPE_CHECKING:
    from patron.domain.promotions.model import Coupon, EvaluationContext, Referral


class CampaignView(Protocol):
    """What rules may read of the campaign they belong to."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def attributes(self) -> Mapping[str, Any]: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


FRAME_SIZE = 8  # block variables: one slot per nesting level (the compiler's MAX_BLOCK_DEPTH)


@dataclass(slots=True)
class Scope:
    """Everything one campaign's rules see while they are evaluated."""

    context: EvaluationContext
    campaign: CampaignView
    now: datetime
    coupon: Coupon | None = None
    referral: Referral | None = None
    # Lambda variables, by the slot the compiler gave each (its nesting depth). Scratch
    # space: scopes evaluated one after another may share one.
    frame: list[Any] = field(default_factory=lambda: [None] * FRAME_SIZE)
    # Binding values, computed at most once per scope.
    memo: dict[Any, Any] = field(default_factory=dict)
    # Answers that depend on the context only (the customer's event history): one dict
    # for every campaign of an evaluation, so 100 campaigns asking one question ask once.
    shared: dict[Any, Any] = field(default_factory=dict)


Run = Callable[[Scope], Any]


class Node(ABC):
    """A compiled expression (each kind of node says how it reads as JSON and as Talang)."""

    __slots__ = ("_text", "run", "shape")

    def __init__(self, run: Run, shape: Shape) -> None:
        self.run = run
        self.shape = shape
        self._text: str | None = None

    @abstractmethod
    def to_json(self) -> Any: ...

    def json_parts(self) -> list[Any]:
        """The JSON elements this argument takes in its call (a lambda may take two)."""
        return [self.to_json()]

    def describe(self) -> str:
        """The expression in Talang's Lisp notation (computed once: failure reasons use it)."""
        if self._text is None:
            self._text = self._describe()
        return self._text

    @abstractmethod
    def _describe(self) -> str: ...

    def children(self) -> tuple[Node, ...]:
        return ()

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children():
            yield from child.walk()


class Literal(Node):
    __slots__ = ("raw", "value")

    def __init__(self, raw: Any, value: Any, shape: Shape) -> None:
        super().__init__(lambda _scope: value, shape)
        self.raw = raw
        self.value = value

    def to_json(self) -> Any:
        return self.raw

    def _describe(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False)


class PathNode(Node):
    __slots__ = ("raw", "text")

    def __init__(self, run: Run, shape: Shape, raw: tuple[Any, ...]) -> None:
        super().__init__(run, shape)
        self.raw = raw
        self.text = ".".join(str(part) for part in raw)

    def to_json(self) -> Any:
        return [".", *self.raw]

    def _describe(self) -> str:
        return self.text


class Call(Node):
    __slots__ = ("args", "name")

    def __init__(self, run: Run, shape: Shape, name: str, args: tuple[Node, ...]) -> None:
        super().__init__(run, shape)
        self.name = name
        self.args = args

    def to_json(self) -> Any:
        return [self.name, *(part for arg in self.args for part in arg.json_parts())]

    def _describe(self) -> str:
        inner = " ".join(arg.describe() for arg in self.args)
        return f"({self.name} {inner})" if inner else f"({self.name})"

    def children(self) -> tuple[Node, ...]:
        return self.args


class Lambda(Node):
    """A block a list function runs per item: one parameter, one body.

    Talang writes it three ways, all accepted and each printed back as
    written: ``["Item"], body`` (two elements of the call), ``"Item", body``,
    or one element ``[["Item"], body]``.
    """

    __slots__ = ("body", "param", "slot", "style")

    STYLES = ("list", "name", "block")

    def __init__(self, param: str, slot: int, body: Node, style: str) -> None:
        super().__init__(body.run, body.shape)
        self.param = param
        self.slot = slot
        self.body = body
        self.style = style

    def json_parts(self) -> list[Any]:
        body = self.body.to_json()
        if self.style == "list":
            return [[self.param], body]
        if self.style == "name":
            return [self.param, body]
        return [[[self.param], body]]

    def to_json(self) -> Any:
        return [[self.param], self.body.to_json()]

    def _describe(self) -> str:
        return f"(({self.param}) {self.body.describe()})"

    def children(self) -> tuple[Node, ...]:
        return (self.body,)


class Pair(Node):
    """A ``(Key value)`` pair of ``kv``."""

    __slots__ = ("key", "value")

    def __init__(self, key: str, value: Node) -> None:
        super().__init__(value.run, value.shape)
        self.key = key
        self.value = value

    def to_json(self) -> Any:
        return [self.key, self.value.to_json()]

    def _describe(self) -> str:
        return f"({self.key} {self.value.describe()})"

    def children(self) -> tuple[Node, ...]:
        return (self.value,)


class Refused(Node):
    """Stands in for an expression the compiler refused, so it can go on and find more."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any, shape: Shape) -> None:
        super().__init__(_refused, shape)
        self.raw = raw

    def to_json(self) -> Any:
        return self.raw

    def _describe(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False, default=str)


def _refused(_scope: Scope) -> Any:
    raise EvaluationError("this expression did not compile")

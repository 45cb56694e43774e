"""The criteria language shared by event and customer segments.

Criteria arrive as JSON, are parsed once (:func:`parse`) into a small typed
tree (:mod:`.tree`) and evaluated two ways that always agree: in Python
against one record (:func:`compile_predicate`, compiled once into closures)
and as SQL against a whole table (``patron.store.criteria_sql``).

Shape
-----
A top-level list of criteria: every one must match. Each criterion is
``{"field": "…", "op": "…", "value": …}`` or a group: ``{"all": [...]}``,
``{"any": [...]}``, ``{"not": criterion-or-list}`` (a list inside ``not``
means "not all of these"). At most 100 conditions, groups 6 deep.

Fields are dotted paths (``context.page.url``) of up to 8 names, each
starting with a letter, ``_`` or ``$``; a path only descends into objects
(never array items). For events a bare name that is not a top-level event
field means ``properties.<name>`` (``act`` is ``properties.act``), and
``segment``, ``goal``, ``goalTitle``, ``goalValue``, ``goalCurrency`` and
``attribution…`` are refused.

Operators (names are case-insensitive)
--------------------------------------
============  ===========================  ==========================================
name          negation                     value; matches when the field's value…
============  ===========================  ==========================================
``equals``    ``nequals`` (``eq``/``neq``,  string, number or boolean; has that JSON
              ``ne``)                      type and is equal (numbers as doubles)
``begins``    ``nbegins``                  string; is a string starting with it
``ends``      ``nends``                    string; is a string ending with it
``contains``  ``ncontains``                string; is a string containing it
``regex``     ``nregex``                   pattern (subset below); is a string it
                                           matches anywhere
``in``        ``nin``                      list of 1 to 1000 scalars; ``equals`` one
``gt``        ``ngt``                      number; is a number greater
``gte``       ``ngte``                     number; greater or equal
``lt``        ``nlt``                      number; less
``lte``       ``nlte``                     number; less or equal
``between``   ``nbetween``                 ``[low, high]``; a number in it, inclusive
``exists``    ``nexists`` (``missing``)    none; is present and not null
``before``    ``nbefore``                  date; is a date strictly earlier
``after``     ``nafter``                   date; is a date strictly later
``within``    ``nwithin``                  whole days N (0 to 36500); is a date in
                                           [now - N days, now]
============  ===========================  ==========================================

Dates, in values and in records, are ISO-8601 text: ``YYYY-MM-DD`` or
``YYYY-MM-DDTHH:MM[:SS[.fff]]`` with an optional ``Z`` or ``±HH:MM`` (none
means UTC); years 1000 to 9999, at most milliseconds. Other text is not a date.
"Now" is cut to the millisecond.

The missing-field rule
----------------------
A field that is absent, null, or of another type than the operator needs
(``gt`` on a string, ``begins`` on a number, ``before`` on text that is not a
date, ``equals "1"`` on the number 1) satisfies **no** positive operator, and
therefore satisfies **every** negation: each ``n…`` operator is exactly
``not`` of its positive form. No value is ever converted to another type.

Regular expressions
-------------------
See :mod:`patron.domain.criteria.regex` for the portable subset.
"""

from __future__ import annotations

from patron.domain.criteria.evaluate import Predicate, compile_predicate
from patron.domain.criteria.fields import any_field, event_field
from patron.domain.criteria.parse import OPERATORS, FieldRefused, parse
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, NotOf, Op, Pattern

__all__ = [
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Condition",
    "FieldRefused",
    "Node",
    "NotOf",
    "Op",
    "Pattern",
    "Predicate",
    "any_field",
    "compile_predicate",
    "event_field",
    "parse",
]

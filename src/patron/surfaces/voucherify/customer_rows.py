"""Voucherify's bulk requests as customer rows (see :mod:`patron.domain.customers.rows`).

A CSV file (``POST /v1/customers/importCSV``, read as a stream), a bulk update
body and a metadata bulk update body each become rows; a row the domain
cannot apply becomes an error row, reported per row by the job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import IO, Any

from patron.domain.customers.rows import (
    ADDRESS_FIELDS,
    MAX_TEXT,
    TEXT_FIELDS,
    checked,
    metadata_problem,
    row_problem,
)
from patron.domain.errors import Invalid, Problem

# The seed's standard CSV columns (case-insensitive); every other column is metadata.
CSV_COLUMNS = {
    "id": ("id",),
    "source_id": ("source_id",),
    "name": ("fields", "name"),
    "email": ("fields", "email"),
    "phone": ("fields", "phone"),
    "birthdate": ("fields", "birthdate"),
    "birthday": ("fields", "birthdate"),
    "description": ("fields", "description"),
    **{f"address_{part}": ("address", part) for part in ADDRESS_FIELDS},
}


def csv_rows(file: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The rows of a CSV file (header line first), read as a stream: one row in
    memory at a time, whatever the file's size. A bad row becomes an error row.

    The header is read at once: Invalid if the file is empty or its header
    unusable. Reading the rows raises Invalid when the file turns out to be
    unusable as a whole (not UTF-8, a NUL character), wherever that shows.
    """
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    reader = csv.reader(_checked_lines(text))
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid.of(
            [Problem("is empty: the first line must name the columns", "file")]
        ) from None
    except csv.Error as error:
        raise Invalid.of([Problem(f"is not valid CSV: {error}", "file")]) from None
    names = [name.strip() for name in header]
    if not any(names) or len({n.lower() for n in names}) != len(names):
        raise Invalid.of([Problem("the header must name each column once", "file")])
    return _csv_rows(reader, names)


def _checked_lines(text: io.TextIOWrapper) -> Iterator[str]:
    try:
        for line in text:
            if "\x00" in line:
                raise Invalid.of([Problem("must not contain NUL characters", "file")])
            yield line
    except UnicodeDecodeError:
        raise Invalid.of([Problem("must be a UTF-8 CSV file", "file")]) from None
    finally:
        text.detach()  # the file is the caller's to close, not the text wrapper's


def _csv_rows(reader: Iterator[list[str]], names: list[str]) -> Iterator[dict[str, Any]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield {"error": f"line {reader.line_num}: not valid CSV: {error}"}  # type: ignore[attr-defined]
            return
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        if len(cells) > len(names):
            yield {"error": f"has {len(cells)} cells but the header names {len(names)} columns"}
            continue
        yield _csv_row(dict(zip(names, cells, strict=False)))


def _csv_row(cells: Mapping[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {"fields": {}, "metadata": {}}
    address: dict[str, str] = {}
    for name, raw in cells.items():
        value = raw.strip()
        if not value:
            continue
        target = CSV_COLUMNS.get(name.lower())
        if target is None:
            row["metadata"][name] = value
        elif target[0] == "fields":
            row["fields"][target[1]] = value
        elif target[0] == "address":
            address[target[1]] = value
        else:
            row[target[0]] = value
    if address:
        row["fields"]["address"] = address
    return checked(row)


def rows_from_bulk_update(body: Any) -> list[dict[str, Any]]:
    """Voucherify's bulk update body: a list of customer objects, each with a source_id."""
    if not isinstance(body, list):
        raise Invalid.of([Problem("must be a list of customers", "body")])
    problems: list[Problem] = []
    rows = []
    for index, item in enumerate(body):
        row, found = customer_row(item, f"[{index}].", properties=BULK_PROPERTIES)
        if isinstance(item, dict) and item.get("source_id") is None:
            found.append(Problem("is required", f"[{index}].source_id"))
        problems.extend(found)
        rows.append(row)
    if problems:
        raise Invalid.of(problems)
    return rows


# What a customer object of Voucherify's API may hold.
BULK_PROPERTIES = frozenset(
    {"source_id", *TEXT_FIELDS, "birthdate", "birthday", "address", "metadata"}
)
CUSTOMER_PROPERTIES = BULK_PROPERTIES | {"id"}


def customer_row(
    item: Any, prefix: str = "", *, properties: frozenset[str] = CUSTOMER_PROPERTIES
) -> tuple[dict[str, Any], list[Problem]]:
    """One Voucherify customer object as a row, and what is wrong with it.

    Absent properties change nothing; ``null`` clears a field (or removes a
    metadata key, or an address part). ``birthday`` is the older name of
    ``birthdate``. Problems name the property, prefixed by ``prefix``.
    """
    if not isinstance(item, dict):
        return {"error": "must be an object"}, [Problem("must be an object", prefix.rstrip("."))]
    problems = [
        Problem("is not a customer property", prefix + key)
        for key in sorted(set(item) - properties)
    ]
    fields = {key: item[key] for key in (*TEXT_FIELDS, "address") if key in item}
    for name in ("birthday", "birthdate"):  # birthdate wins when both are sent
        if name in item:
            fields["birthdate"] = item[name]
    row = {
        **{key: item[key] for key in ("id", "source_id") if item.get(key) is not None},
        "fields": fields,
        "metadata": item.get("metadata") if item.get("metadata") is not None else {},
    }
    problem = row_problem(row)
    if problem is not None:
        problems.append(Problem(problem[1], prefix + problem[0]))
    return (row if not problems else {"error": problems[0].describe()}), problems


def rows_from_metadata_update(body: Any) -> list[dict[str, Any]]:
    """Voucherify's metadata bulk update: the same metadata for every listed source_id."""
    if not isinstance(body, dict):
        raise Invalid.of([Problem("must be an object", "body")])
    source_ids, metadata = body.get("source_ids"), body.get("metadata")
    problems: list[Problem] = []
    if not isinstance(source_ids, list) or not source_ids:
        problems.append(Problem("must be a non-empty list of source ids", "source_ids"))
    elif not all(isinstance(s, str) and 0 < len(s) <= MAX_TEXT for s in source_ids):
        problems.append(Problem(f"must hold strings of 1 to {MAX_TEXT} characters", "source_ids"))
    if not isinstance(metadata, dict) or not metadata:
        problems.append(Problem("must be a non-empty object", "metadata"))
    elif (problem := metadata_problem(metadata)) is not None:
        problems.append(Problem(problem[1], problem[0]))
    if problems:
        raise Invalid.of(problems)
    assert isinstance(source_ids, list)
    assert isinstance(metadata, dict)
    return [{"source_id": s, "fields": {}, "metadata": metadata} for s in source_ids]

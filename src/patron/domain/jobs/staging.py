"""A job's input on its way to the store: chunked, encoded and staged in a temporary file.

A job's rows often come from a stream — a CSV upload being parsed — that may
turn out to be unusable at its very end (a byte that is not UTF-8), and an
accepted job must have all of its input stored or none of it. So the rows
are first read, chunked and encoded here, outside any transaction, in
bounded memory: one chunk at a time, onto disk once past
:data:`IN_MEMORY_BYTES`. Only then does one transaction copy the encoded
chunks into the store, one at a time, without parsing anything: the store's
single writer is held for the copy alone, not for the parsing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from patron.domain.jobs.model import InputChunk

# Small jobs (a bulk update of a few customers) never touch the disk.
IN_MEMORY_BYTES = 1024 * 1024


class StagedInput:
    """Rows chunked ``chunk_size`` at a time, each chunk a line of JSON in a temporary file."""

    def __init__(self, chunk_size: int) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.chunk_size = chunk_size
        self.rows = 0
        self.chunks = 0
        # Lives as long as this object (closed by close() or leaving ``with``).
        self._file = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115

    def __enter__(self) -> StagedInput:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def add(self, rows: Iterable[Any]) -> None:
        """Stage ``rows`` (blocking: run it in a thread). Whatever iterating them raises
        propagates; the rows staged so far are then thrown away with this object."""
        chunk: list[Any] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == self.chunk_size:
                self._write(chunk)
                chunk = []
        if chunk:
            self._write(chunk)

    def _write(self, chunk: list[Any]) -> None:
        # Compact JSON never holds a raw newline (strings escape theirs): one chunk a line.
        self._file.write(orjson.dumps(chunk) + b"\n")
        self.rows += len(chunk)
        self.chunks += 1

    def input_chunks(self) -> Iterator[InputChunk]:
        """The staged chunks in order, one at a time. Each call starts from the first
        again: a transaction the store retries reads them anew."""
        self._file.seek(0)
        for number, line in enumerate(self._file):
            yield InputChunk(number * self.chunk_size, line[:-1].decode())

"""The embedded default's intake gate: SQLite has one writer at a time, and a busy worker child that begins its
next transaction the moment it commits starves the web's webhook writes (acknowledgements waited up to 2.7 s
at 200 updates/s, bench/ingest.py). While the web is storing a delivery it raises a flag in a one-byte file
beside the database; the child, before it begins a transaction, waits (a bounded moment) for the flag to drop."""
from __future__ import annotations

import asyncio
import mmap
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

LONGEST_YIELD = 0.1  # seconds a worker transaction waits for the web at most: processing must go on too
STEP = 0.001


class IntakeGate:
    """A flag shared by the web (raises it around its intake transaction) and its worker child (yields to it)."""

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < 1:
                os.ftruncate(fd, 1)
            self._map = mmap.mmap(fd, 1)
        finally:
            os.close(fd)

    @classmethod
    def beside(cls, database_url: str) -> IntakeGate | None:
        """The gate of a SQLite file database (`<file>-intake`); None for anything else."""
        path = make_url(database_url).database
        if not database_url.startswith("sqlite") or not path or path == ":memory:" or path.startswith("file:"):
            return None
        return cls(path + "-intake")

    @contextmanager
    def raised(self) -> Iterator[None]:
        """The web is (about to be) waiting for the write lock: the child should not take it again."""
        self._map[0] = 1
        try:
            yield
        finally:
            self._map[0] = 0

    async def yield_to_intake(self) -> None:
        """Awaited in the child before BEGIN IMMEDIATE: let a waiting web write go first (bounded). Asynchronous,
        so the child's other transactions go on meanwhile (one of them may hold the lock the web waits for)."""
        deadline = time.monotonic() + LONGEST_YIELD
        while self._map[0] and time.monotonic() < deadline:  # noqa: ASYNC110 - a flag in another process
            await asyncio.sleep(STEP)

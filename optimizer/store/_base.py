"""Connection and transaction handling shared by the ``Store`` methods.

Contracts:
- Every store method runs in exactly one transaction: its own, or the one opened by an
  enclosing ``Store.transaction()`` in the same context (thread / asyncio task), which it
  joins. So writes inside ``transaction()`` commit or roll back together, and reads inside it
  see those uncommitted writes.
- Write transactions start with ``BEGIN IMMEDIATE`` on SQLite: a second writer (another
  process, or another thread of this one) waits up to the busy timeout, then gets a
  ``StoreError``. Readers never wait (WAL).
- Buffered writes (response cache, call log) are flushed into a ``transaction()`` before it
  commits.
- Every ``SQLAlchemyError`` is translated into a ``StoreError`` with a plain message.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from optimizer.errors import NotFoundError, StoreError
from optimizer.store._schema import BEGIN_OPTION, translate_error
from optimizer.store.ids import is_id_prefix

logger = logging.getLogger(__name__)
_counter = itertools.count()


class StoreBase:
    """Engine, transaction scope and error translation; the domain methods live in ``Store``."""

    def __init__(self, engine: Engine, url: str, *, busy_timeout_s: float = 30.0) -> None:
        self._engine = engine
        self.url = url
        self._busy_timeout_s = busy_timeout_s
        self._tx: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"promptbreed_store_tx_{next(_counter)}", default=None
        )
        self._closed = False

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def _conn(self, *, write: bool) -> Iterator[Connection]:
        """The connection of the enclosing ``transaction()``, or a fresh one-statement-group
        transaction (committed on success, rolled back on error)."""
        if self._closed:
            raise StoreError(f"the store {self.url} is closed; open it again with open_store()")
        current = self._tx.get()
        try:
            if current is not None:
                yield current
                return
            with self._engine.connect() as conn:
                if write:
                    conn = conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise translate_error(exc, self.url, self._busy_timeout_s) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes (e.g. one generation) into one transaction.

        Store methods called inside the block, in the same thread or asyncio task, join it;
        nested ``transaction()`` blocks join the outer one. Keep it short: do the LLM work
        first and write its results inside the block, because on SQLite the block holds the
        database's write lock and every other writer waits for it.
        """
        if self._tx.get() is not None:
            yield
            return
        with self._conn(write=True) as conn:
            token = self._tx.set(conn)
            try:
                yield
                self._flush_buffers()  # buffered cache entries / call records commit too
            finally:
                self._tx.reset(token)

    def _flush_buffers(self) -> None:
        """Hook: write in-memory write buffers into the current transaction."""

    def _resolve_id(self, conn: Connection, table: Table, ident: str, what: str, hint: str) -> str:
        """Full id for an id or a unique id prefix; NotFoundError otherwise."""
        ident = ident.strip().lower()
        if not ident or not is_id_prefix(ident):
            raise NotFoundError(f"no {what} with id {ident!r}; {hint}")
        col = table.c.id
        if conn.execute(select(col).where(col == ident)).scalar() is not None:
            return ident
        upper = ident[:-1] + chr(ord(ident[-1]) + 1)
        found: Sequence[str] = conn.execute(
            select(col).where(col >= ident, col < upper).order_by(col).limit(6)
        ).scalars().all()
        if not found:
            raise NotFoundError(f"no {what} with id {ident!r}; {hint}")
        if len(found) > 1:
            shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
            raise NotFoundError(
                f"{what} id prefix {ident!r} is ambiguous ({shown}); give more characters"
            )
        return found[0]

    def insert_ignore(self, conn: Connection, table: Table, keys: Sequence[str]) -> Any:
        """An INSERT that skips rows conflicting on ``keys`` (None if the dialect lacks one)."""
        name = conn.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys))
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=list(keys))
        if name in ("mysql", "mariadb"):
            return table.insert().prefix_with("IGNORE")
        return None

    def close(self) -> None:
        """Release connections. Further calls raise StoreError."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

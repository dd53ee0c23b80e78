"""The store's implementations of the gateway's ``ResponseCache`` and ``CallLog`` protocols.

Contracts (see ``optimizer.llm.types``):
- ``SQLResponseCache.get`` returns None on a miss, else the stored ``Completion`` with
  ``cached=True`` and ``request_hash`` set; usage, cost and latency are those of the original
  call (the gateway decides what a hit is charged). ``put`` is idempotent: the first value
  stored under a key wins (``get`` reads the database before the write buffer).
- Both buffer their writes in memory (thread-safe) and are written together, in one
  transaction, by ``Store.flush()``: when ``SQLCallLog.flush()`` is called (the gateway does so
  after every batch of calls), when a buffer is full (cache: 64 entries or 1 s old; log: 500
  records), at the end of every ``Store.transaction()`` and at ``Store.close()``. A crash can
  therefore lose at most about a second of cache entries (those answers are paid again on
  resume); on a failed write the entries stay buffered and the error is raised.
- ``get`` on SQLite uses one dedicated autocommit connection (about 10x cheaper than a pooled
  transaction per lookup, which matters with the fast offline model); inside a
  ``Store.transaction()`` it uses the transaction's connection like every other read.
- Well-known tags (``run_id``, ``candidate_id``, ``example_id``) get their own indexed
  columns in ``llm_calls``; the other tags are kept in ``tags_json``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from optimizer.errors import StoreError
from optimizer.llm.types import CallRecord, Completion, Usage
from optimizer.store import _convert
from optimizer.store.models import cache_t, llm_calls_t
from optimizer.store.records import LLMCallRow

if TYPE_CHECKING:
    from optimizer.store.sql import Store

_TAG_COLUMNS = ("run_id", "candidate_id", "example_id")
_CACHE_COLS = ("model", "text", "input_tokens", "output_tokens", "cost_usd", "latency_ms",
               "finish_reason")
_GET_SQL = f"SELECT {', '.join(_CACHE_COLS)} FROM response_cache WHERE request_hash = ?"


class SQLResponseCache:
    """``ResponseCache`` backed by the ``response_cache`` table."""

    def __init__(self, store: Store, *, flush_every: int = 64, max_delay_s: float = 1.0) -> None:
        self._store = store
        self._flush_every, self._max_delay_s = flush_every, max_delay_s
        self._pending: dict[str, dict[str, Any]] = {}
        self._oldest = 0.0
        self._lock = threading.RLock()
        self._raw: Any = None  # dedicated DBAPI connection for get() on SQLite

    def get(self, key: str) -> Completion | None:
        row = self._read(key)
        if row is None:
            with self._lock:
                row = self._pending.get(key)
        if row is None:
            return None
        return Completion(
            text=row["text"], model=row["model"],
            usage=Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"]),
            cost_usd=row["cost_usd"], latency_ms=row["latency_ms"],
            finish_reason=row["finish_reason"], cached=True, request_hash=key,
        )

    def put(self, key: str, completion: Completion) -> None:
        values = {
            "request_hash": key, "model": completion.model, "text": completion.text,
            "input_tokens": completion.usage.input_tokens,
            "output_tokens": completion.usage.output_tokens, "cost_usd": completion.cost_usd,
            "latency_ms": completion.latency_ms, "finish_reason": completion.finish_reason,
            "created_at": time.time(),
        }
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.setdefault(key, values)
            due = (len(self._pending) >= self._flush_every
                   or time.monotonic() - self._oldest >= self._max_delay_s)
        if due:
            self._store.flush()

    def flush(self) -> None:
        """Write buffered entries now (together with the call log's)."""
        self._store.flush()

    def __len__(self) -> int:
        from sqlalchemy import func

        with self._store._conn(write=False) as conn:
            stored = int(conn.execute(select(func.count()).select_from(cache_t)).scalar_one())
        return stored + len(self._pending)

    # ---- used by Store.flush / Store.close ----------------------------------------------
    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows, self._pending = list(self._pending.values()), {}
        return rows

    def _restore(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            for r in rows:
                self._pending.setdefault(r["request_hash"], r)

    def _write(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        stmt = self._store.insert_ignore(conn, cache_t, ["request_hash"])
        if stmt is None:  # portable path: skip keys already stored
            keys = [r["request_hash"] for r in rows]
            stored = set(conn.execute(
                select(cache_t.c.request_hash).where(cache_t.c.request_hash.in_(keys))
            ).scalars())
            rows = [r for r in rows if r["request_hash"] not in stored]
            stmt = insert(cache_t)
        if rows:
            conn.execute(stmt, rows)

    def _read(self, key: str) -> Mapping[str, Any] | None:
        store = self._store
        if store.dialect != "sqlite" or store._tx.get() is not None:
            with store._conn(write=False) as conn:
                return conn.execute(
                    select(cache_t).where(cache_t.c.request_hash == key)
                ).mappings().first()
        with self._lock:
            try:
                if self._raw is None:
                    self._raw = store._engine.raw_connection()
                found = self._raw.cursor().execute(_GET_SQL, (key,)).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"database error at {store.url}: {exc}") from exc
        return None if found is None else dict(zip(_CACHE_COLS, found, strict=True))

    def _close(self) -> None:
        with self._lock:
            if self._raw is not None:
                self._raw.close()  # back to the pool
                self._raw = None


class SQLCallLog:
    """``CallLog`` backed by the ``llm_calls`` table, with an in-memory write buffer."""

    def __init__(self, store: Store, *, flush_every: int = 500) -> None:
        self._store = store
        self._flush_every = flush_every
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.RLock()

    def record_many(self, records: list[CallRecord]) -> None:
        rows = [_call_params(r) for r in records]
        with self._lock:
            self._buffer.extend(rows)
            due = len(self._buffer) >= self._flush_every
        if due:
            self._store.flush()

    def flush(self) -> None:
        """Write every buffered record (and buffered cache entries) in one transaction."""
        self._store.flush()

    @property
    def pending(self) -> int:
        """Records buffered but not yet written."""
        return len(self._buffer)

    def calls(self, run_id: str | None = None, limit: int | None = None) -> list[LLMCallRow]:
        """Stored calls (of one run), oldest first. Buffered records are not included."""
        q = select(llm_calls_t).order_by(llm_calls_t.c.id).limit(limit)
        if run_id is not None:
            q = q.where(llm_calls_t.c.run_id == run_id)
        with self._store._conn(write=False) as conn:
            return [_convert.llm_call_row(r) for r in conn.execute(q).mappings()]

    # ---- used by Store.flush ------------------------------------------------------------
    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows, self._buffer = self._buffer, []
        return rows

    def _restore(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._buffer = rows + self._buffer

    def _write(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(insert(llm_calls_t), rows)


def _call_params(rec: CallRecord) -> dict[str, Any]:
    tags = dict(rec.tags)
    cols = {name: _str_or_none(tags.pop(name, None)) for name in _TAG_COLUMNS}
    return {
        "request_hash": rec.request_hash, "model": rec.model, "role": rec.role,
        "input_tokens": rec.input_tokens, "output_tokens": rec.output_tokens,
        "cost_usd": rec.cost_usd, "latency_ms": rec.latency_ms, "cached": rec.cached,
        "error": rec.error, **cols, "tags_json": tags or None, "created_at": rec.created_at,
    }


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)

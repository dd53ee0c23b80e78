"""The store's implementations of the gateway's ``ResponseCache`` and ``CallLog`` protocols.

Contracts (see ``optimizer.llm.types``):
- ``SQLResponseCache.get`` returns None on a miss, else the stored ``Completion`` with
  ``cached=True`` and ``request_hash`` set; usage, cost and latency are those of the original
  call (the gateway decides what a hit is charged). ``put`` is idempotent: the first value
  stored under a key wins. Each ``put`` commits on its own (unless called inside
  ``Store.transaction()``, which it joins), so a crash never loses paid-for answers.
- ``SQLCallLog.record_many`` buffers in memory (thread-safe) and writes by itself once
  ``flush_every`` records are waiting; ``flush`` writes everything in one transaction. If a
  flush fails the records stay buffered and the error is raised. ``Store.close`` flushes.
- Well-known tags (``run_id``, ``candidate_id``, ``example_id``) get their own indexed
  columns; the other tags are kept in ``tags_json``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select

from optimizer.llm.types import CallRecord, Completion, Usage
from optimizer.store import _convert
from optimizer.store.models import cache_t, llm_calls_t
from optimizer.store.records import LLMCallRow

if TYPE_CHECKING:
    from optimizer.store._base import StoreBase

_TAG_COLUMNS = ("run_id", "candidate_id", "example_id")


class SQLResponseCache:
    """``ResponseCache`` backed by the ``response_cache`` table."""

    def __init__(self, store: StoreBase) -> None:
        self._store = store

    def get(self, key: str) -> Completion | None:
        with self._store._conn(write=False) as conn:
            row = conn.execute(
                select(cache_t).where(cache_t.c.request_hash == key)
            ).mappings().first()
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
        with self._store._conn(write=True) as conn:
            stmt = self._store.insert_ignore(conn, cache_t, ["request_hash"])
            if stmt is None:
                exists = conn.execute(
                    select(cache_t.c.request_hash).where(cache_t.c.request_hash == key)
                ).first()
                if exists is not None:
                    return
                stmt = insert(cache_t)
            conn.execute(stmt, values)

    def __len__(self) -> int:
        with self._store._conn(write=False) as conn:
            return int(conn.execute(select(func.count()).select_from(cache_t)).scalar_one())


class SQLCallLog:
    """``CallLog`` backed by the ``llm_calls`` table, with an in-memory write buffer."""

    def __init__(self, store: StoreBase, *, flush_every: int = 500) -> None:
        self._store = store
        self._flush_every = flush_every
        self._buffer: list[CallRecord] = []
        self._lock = threading.RLock()

    def record_many(self, records: list[CallRecord]) -> None:
        with self._lock:
            self._buffer.extend(records)
            if len(self._buffer) >= self._flush_every:
                self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._buffer = self._buffer, []
            if not pending:
                return
            try:
                with self._store._conn(write=True) as conn:
                    conn.execute(insert(llm_calls_t), [_call_params(r) for r in pending])
            except BaseException:
                self._buffer = pending + self._buffer
                raise

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

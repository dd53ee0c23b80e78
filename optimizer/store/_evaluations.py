"""Store methods for proposals, evaluations and per-operator statistics.

Contracts:
- ``add_evaluations`` is a bulk, idempotent insert: a row whose key (candidate_id, split,
  example_id, repeat) is already stored is skipped (``INSERT ... ON CONFLICT DO NOTHING`` on
  SQLite/PostgreSQL), so re-running a batch after a crash never stores anything twice. It
  returns how many rows were new. It uses Core ``executemany`` (no ORM objects).
- ``iter_evaluations`` pages through a run with keyset pagination, so a whole run is never
  held in memory and no connection is held between pages.
- ``operator_stats`` is computed from ``proposals`` (no separate table to keep in sync).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.engine import Connection

from optimizer.errors import StoreError
from optimizer.llm.types import content_hash
from optimizer.store import _convert
from optimizer.store._base import StoreBase
from optimizer.store.ids import new_id
from optimizer.store.models import evaluations_t, proposals_t
from optimizer.store.records import (
    SPLITS,
    EvaluationRecord,
    EvaluationRow,
    OperatorStat,
    ProposalRecord,
)

_EVAL_KEY = ("candidate_id", "split", "example_id", "repeat")


class EvaluationsMixin(StoreBase):
    # ---- proposals ----------------------------------------------------------------------
    def add_proposal(
        self,
        run_id: str,
        *,
        generation: int,
        operator: str,
        parent_ids: Sequence[str],
        mutation_prompt: str,
        raw_output: str,
        accepted: bool,
        reason: str = "",
        child_candidate_id: str | None = None,
        calls: int = 0,
        tokens: int = 0,
        cost_usd: float = 0.0,
        parent_score: float | None = None,
        child_score: float | None = None,
        minibatch: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> ProposalRecord:
        """Record one operator application, accepted or rejected, with its cost.

        ``parent_score``/``child_score`` are the minibatch scores before/after; ``minibatch``
        lists the example ids they were measured on. ``child_candidate_id`` is None when the
        output was unusable (nothing to store as a candidate).
        """
        values = {
            "id": new_id("proposal"), "run_id": run_id, "generation": generation,
            "operator": operator, "parent_id": parent_ids[0] if parent_ids else None,
            "parent_ids_json": list(parent_ids), "child_candidate_id": child_candidate_id,
            "mutation_prompt": mutation_prompt,
            "mutation_prompt_hash": content_hash(mutation_prompt), "raw_output": raw_output,
            "accepted": accepted, "reason": reason, "calls": calls, "tokens": tokens,
            "cost_usd": cost_usd, "parent_score": parent_score, "child_score": child_score,
            "minibatch_json": list(minibatch) or None, "meta_json": dict(meta) if meta else None,
            "created_at": time.time(),
        }
        with self._conn(write=True) as conn:
            conn.execute(insert(proposals_t).values(**values))
        return _convert.proposal_record(values)

    def proposals(
        self, run_id: str, generation: int | None = None, accepted: bool | None = None
    ) -> list[ProposalRecord]:
        """A run's proposals in creation order."""
        q = select(proposals_t).where(proposals_t.c.run_id == run_id).order_by(proposals_t.c.id)
        if generation is not None:
            q = q.where(proposals_t.c.generation == generation)
        if accepted is not None:
            q = q.where(proposals_t.c.accepted == accepted)
        with self._conn(write=False) as conn:
            return [_convert.proposal_record(r) for r in conn.execute(q).mappings()]

    def operator_stats(self, run_id: str) -> list[OperatorStat]:
        """Per (operator, mutation-prompt) counts of proposals, acceptances, improvements."""
        p = proposals_t
        improved = case(
            (p.c.child_score.is_not(None) & p.c.parent_score.is_not(None)
             & (p.c.child_score > p.c.parent_score), 1),
            else_=0,
        )
        q = (
            select(
                p.c.operator, p.c.mutation_prompt_hash, func.count().label("n"),
                func.sum(case((p.c.accepted, 1), else_=0)).label("acc"),
                func.sum(improved).label("imp"), func.sum(p.c.tokens).label("tok"),
                func.sum(p.c.cost_usd).label("cost"),
            )
            .where(p.c.run_id == run_id)
            .group_by(p.c.operator, p.c.mutation_prompt_hash)
            .order_by(p.c.operator, p.c.mutation_prompt_hash)
        )
        with self._conn(write=False) as conn:
            return [
                OperatorStat(
                    run_id=run_id, operator=r.operator,
                    mutation_prompt_hash=r.mutation_prompt_hash, proposals=r.n,
                    accepted=int(r.acc or 0), improved=int(r.imp or 0), tokens=int(r.tok or 0),
                    cost_usd=float(r.cost or 0.0),
                )
                for r in conn.execute(q)
            ]

    # ---- evaluations --------------------------------------------------------------------
    def add_evaluations(self, rows: Sequence[EvaluationRow]) -> int:
        """Store the rows not stored yet (idempotent); returns the number of new rows."""
        if not rows:
            return 0
        bad = {r.split for r in rows} - SPLITS
        if bad:
            raise StoreError(f"unknown split(s) {sorted(bad)}; use one of {sorted(SPLITS)}")
        now = time.time()
        params = [_convert.evaluation_params(r, now) for r in rows]
        with self._conn(write=True) as conn:
            stmt = self.insert_ignore(conn, evaluations_t, _EVAL_KEY)
            if stmt is None:
                return self._insert_missing(conn, params)
            if conn.dialect.name == "sqlite":  # sqlite3 sums executemany rowcounts exactly
                return int(conn.execute(stmt, params).rowcount)
            # other drivers batch executemany and may report only the last batch: count
            before = self._count_for(conn, {p["candidate_id"] for p in params})
            conn.execute(stmt, params)
            return self._count_for(conn, {p["candidate_id"] for p in params}) - before

    def _count_for(self, conn: Connection, candidate_ids: set[str]) -> int:
        e = evaluations_t
        q = select(func.count()).select_from(e).where(e.c.candidate_id.in_(candidate_ids))
        return int(conn.execute(q).scalar_one())

    def _insert_missing(self, conn: Connection, params: list[dict[str, Any]]) -> int:
        """Portable fallback for dialects without ON CONFLICT: filter, then insert."""
        e = evaluations_t
        keys = {tuple(p[k] for k in _EVAL_KEY) for p in params}
        cand = {k[0] for k in keys}
        stored = set(conn.execute(
            select(e.c.candidate_id, e.c.split, e.c.example_id, e.c.repeat)
            .where(e.c.candidate_id.in_(cand))
        ).tuples())
        new, seen = [], set(stored)
        for p in params:
            k = tuple(p[k] for k in _EVAL_KEY)
            if k not in seen:
                seen.add(k)
                new.append(p)
        if new:
            conn.execute(insert(e), new)
        return len(new)

    def evaluations(
        self, candidate_id: str, split: str | None = None
    ) -> list[EvaluationRecord]:
        """A candidate's evaluations (of one split), in insertion order."""
        q = select(evaluations_t).where(evaluations_t.c.candidate_id == candidate_id)
        if split is not None:
            q = q.where(evaluations_t.c.split == split)
        with self._conn(write=False) as conn:
            rows = conn.execute(q.order_by(evaluations_t.c.id)).mappings().all()
        return [_convert.evaluation_record(r) for r in rows]

    def iter_evaluations(
        self, run_id: str, split: str | None = None, *, page_size: int = 5000
    ) -> Iterator[EvaluationRecord]:
        """All evaluations paid by a run, page by page (memory bounded by ``page_size``)."""
        e, last = evaluations_t, 0
        while True:
            q = select(e).where((e.c.run_id == run_id) & (e.c.id > last))
            if split is not None:
                q = q.where(e.c.split == split)
            with self._conn(write=False) as conn:
                page = conn.execute(q.order_by(e.c.id).limit(page_size)).mappings().all()
            if not page:
                return
            for r in page:
                yield _convert.evaluation_record(r)
            last = page[-1]["id"]

    def evaluated_example_ids(
        self, candidate_id: str, split: str, repeat: int | None = None
    ) -> set[str]:
        """Ids of the examples already scored for this candidate and split (any repeat, or
        only ``repeat``): the work a resumed run must not pay for again."""
        e = evaluations_t
        q = select(e.c.example_id).where((e.c.candidate_id == candidate_id) & (e.c.split == split))
        if repeat is not None:
            q = q.where(e.c.repeat == repeat)
        with self._conn(write=False) as conn:
            return set(conn.execute(q.distinct()).scalars())

    def evaluation_counts(self, candidate_ids: Sequence[str], split: str) -> dict[str, int]:
        """Number of stored evaluations per candidate for one split (0 for none)."""
        e = evaluations_t
        q = (
            select(e.c.candidate_id, func.count())
            .where(e.c.candidate_id.in_(list(candidate_ids)) & (e.c.split == split))
            .group_by(e.c.candidate_id)
        )
        with self._conn(write=False) as conn:
            counts = {cid: n for cid, n in conn.execute(q)}
        return {c: int(counts.get(c, 0)) for c in candidate_ids}


__all__ = ["EvaluationsMixin"]

"""``Store``: the SQLAlchemy implementation of the lineage store (runs, candidates, lineage).

Contracts:
- The store is the only writer of the database. Every method returns frozen records from
  ``records.py`` (never ORM rows); records do not change after they are returned.
- Lookups by id (``get_run``, ``get_candidate``) accept a unique id prefix; an unknown or
  ambiguous id raises ``NotFoundError``. Writes take full ids; an unknown one raises
  ``NotFoundError`` too. Any database failure raises ``StoreError``.
- Candidates are content-addressed within a run: ``add_candidate`` with the same text,
  mutation-prompt and context as an existing candidate of the run returns that candidate
  unchanged (no new row, no new parent edges). ``find_candidate`` tells beforehand.
- Evaluations and proposals: ``_evaluations.py``; reviews, releases and aliases:
  ``_releases.py``; the call log and the response cache: ``cache.py``; transactions:
  ``_base.py``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine

from optimizer.errors import NotFoundError
from optimizer.llm.types import content_hash
from optimizer.store import _convert
from optimizer.store._evaluations import EvaluationsMixin
from optimizer.store._releases import ReleasesMixin
from optimizer.store._util import candidate_hash, check_choice, current_code_version
from optimizer.store.cache import SQLCallLog, SQLResponseCache
from optimizer.store.ids import new_id
from optimizer.store.models import candidates_t, parents_t, population_t, runs_t
from optimizer.store.records import (
    CANDIDATE_STATES,
    RUN_KINDS,
    RUN_STATUSES,
    CandidateRecord,
    RunRecord,
)

_RUN_HINT = "`breed runs` lists the runs in this database"
_CAND_HINT = "`breed status RUN` shows a run's candidates"

_ANCESTORS_SQL = sql_text(
    """
    WITH RECURSIVE anc(id, depth) AS (
        SELECT parent_id, 1 FROM candidate_parents WHERE child_id = :cid
        UNION
        SELECT p.parent_id, anc.depth + 1
        FROM candidate_parents AS p JOIN anc ON p.child_id = anc.id
        WHERE anc.depth < :max_depth
    )
    SELECT id, MIN(depth) AS depth FROM anc GROUP BY id ORDER BY MIN(depth), id
    """
)


class Store(EvaluationsMixin, ReleasesMixin):
    """The lineage store. Open it with ``optimizer.store.open_store(url)``.

    Runs: ``create_run``, ``update_run``, ``finish_run``, ``get_run``, ``list_runs``.
    Candidates and lineage: ``add_candidate``, ``find_candidate``, ``get_candidate``,
    ``update_candidate``, ``candidates``, ``ancestors``, ``children``, ``lineage_edges``,
    ``set_population``, ``population``. Proposals and scores: ``add_proposal``, ``proposals``,
    ``operator_stats``, ``add_evaluations``, ``evaluations``, ``iter_evaluations``,
    ``evaluated_example_ids``, ``evaluation_counts``. Promotion history: ``add_review``,
    ``reviews``, ``create_release``, ``releases``, ``get_release``, ``move_alias``,
    ``aliases``, ``alias_history``. Gateway adapters: ``response_cache``, ``call_log``,
    ``flush``. Scope: ``transaction``, ``close`` (also a context manager).
    """

    def __init__(self, engine: Engine, url: str, *, busy_timeout_s: float = 30.0) -> None:
        super().__init__(engine, url, busy_timeout_s=busy_timeout_s)
        self._cache = SQLResponseCache(self)
        self._call_log = SQLCallLog(self)

    # ---- runs ---------------------------------------------------------------------------
    def create_run(
        self,
        kind: str,
        name: str,
        config: Mapping[str, Any],
        seed: int,
        task: str,
        *,
        code_version: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> str:
        """Record a new run in status ``running``; returns its id."""
        check_choice(kind, RUN_KINDS, "run kind")
        run_id, now = new_id("run"), time.time()
        cfg = dict(config)
        with self._conn(write=True) as conn:
            conn.execute(insert(runs_t).values(
                id=run_id, name=name, kind=kind, status="running", task=task, seed=seed,
                config_json=cfg, config_hash=content_hash(cfg),
                code_version=code_version or current_code_version(), generation=0, totals_json={},
                rng_state_json=None, meta_json=dict(meta) if meta else None,
                created_at=now, updated_at=now, finished_at=None,
            ))
        return run_id

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        totals: Mapping[str, Any] | None = None,
        rng_state: Any = None,
        generation: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Change the given fields (None leaves a field as it is; ``meta`` replaces the bag)."""
        values: dict[str, Any] = {"updated_at": time.time()}
        if status is not None:
            check_choice(status, RUN_STATUSES, "run status")
            values["status"] = status
        if totals is not None:
            values["totals_json"] = dict(totals)
        if rng_state is not None:
            values["rng_state_json"] = rng_state
        if generation is not None:
            values["generation"] = generation
        if meta is not None:
            values["meta_json"] = dict(meta)
        self._update_run(run_id, values)

    def finish_run(
        self, run_id: str, status: str, totals: Mapping[str, Any] | None = None
    ) -> None:
        """Set a final status (anything but ``running``), the totals and ``finished_at``."""
        check_choice(status, RUN_STATUSES - {"running"}, "final run status")
        now = time.time()
        values: dict[str, Any] = {"status": status, "updated_at": now, "finished_at": now}
        if totals is not None:
            values["totals_json"] = dict(totals)
        self._update_run(run_id, values)

    def _update_run(self, run_id: str, values: dict[str, Any]) -> None:
        with self._conn(write=True) as conn:
            res = conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(**values))
            if res.rowcount == 0:
                raise NotFoundError(f"no run with id {run_id!r}; {_RUN_HINT}")

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id or unique id prefix."""
        with self._conn(write=False) as conn:
            full = self._resolve_id(conn, runs_t, run_id, "run", _RUN_HINT)
            row = conn.execute(select(runs_t).where(runs_t.c.id == full)).mappings().one()
        return _convert.run_record(row)

    def list_runs(
        self, limit: int | None = 50, *, kind: str | None = None, status: str | None = None
    ) -> list[RunRecord]:
        """Runs, newest first."""
        q = select(runs_t).order_by(runs_t.c.id.desc()).limit(limit)
        if kind is not None:
            q = q.where(runs_t.c.kind == kind)
        if status is not None:
            q = q.where(runs_t.c.status == status)
        with self._conn(write=False) as conn:
            return [_convert.run_record(r) for r in conn.execute(q).mappings()]

    # ---- candidates ---------------------------------------------------------------------
    def add_candidate(
        self,
        run_id: str,
        text: str,
        *,
        generation: int,
        operator: str,
        mutation_prompt: str = "",
        parent_ids: Sequence[str] = (),
        context: Sequence[Any] = (),
        meta: Mapping[str, Any] | None = None,
        state: str = "pending",
    ) -> CandidateRecord:
        """Store a candidate with its lineage edges, or return the run's existing candidate
        with the same content (see the module docstring)."""
        check_choice(state, CANDIDATE_STATES, "candidate state")
        chash = candidate_hash(text, mutation_prompt, context)
        with self._conn(write=True) as conn:
            existing = self._by_hash(conn, run_id, chash)
            if existing is not None:
                return existing
            cid = new_id("candidate")
            conn.execute(insert(candidates_t).values(
                id=cid, run_id=run_id, content_hash=chash, text=text,
                mutation_prompt=mutation_prompt, context_json=list(context) or None,
                generation=generation, operator=operator, state=state, fitness=None,
                dev_score=None, meta_json=dict(meta) if meta else None, created_at=time.time(),
            ))
            if parent_ids:
                conn.execute(insert(parents_t), [
                    {"child_id": cid, "parent_id": pid, "position": i}
                    for i, pid in enumerate(parent_ids)
                ])
            return self._candidates_where(conn, candidates_t.c.id == cid)[0]

    def find_candidate(
        self, run_id: str, text: str, mutation_prompt: str = "", context: Sequence[Any] = ()
    ) -> CandidateRecord | None:
        """The run's candidate with exactly this content, if any."""
        with self._conn(write=False) as conn:
            return self._by_hash(conn, run_id, candidate_hash(text, mutation_prompt, context))

    def get_candidate(self, candidate_id: str) -> CandidateRecord:
        """The candidate with this id or unique id prefix."""
        with self._conn(write=False) as conn:
            full = self._resolve_id(conn, candidates_t, candidate_id, "candidate", _CAND_HINT)
            return self._candidates_where(conn, candidates_t.c.id == full)[0]

    def update_candidate(
        self,
        candidate_id: str,
        *,
        state: str | None = None,
        fitness: float | None = None,
        dev_score: float | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Change the given fields (None leaves a field as it is; ``meta`` replaces the bag)."""
        values: dict[str, Any] = {}
        if state is not None:
            check_choice(state, CANDIDATE_STATES, "candidate state")
            values["state"] = state
        if fitness is not None:
            values["fitness"] = fitness
        if dev_score is not None:
            values["dev_score"] = dev_score
        if meta is not None:
            values["meta_json"] = dict(meta)
        if not values:
            return
        with self._conn(write=True) as conn:
            res = conn.execute(
                update(candidates_t).where(candidates_t.c.id == candidate_id).values(**values)
            )
            if res.rowcount == 0:
                raise NotFoundError(f"no candidate with id {candidate_id!r}; {_CAND_HINT}")

    def candidates(
        self,
        run_id: str,
        generation: int | None = None,
        state: str | Collection[str] | None = None,
    ) -> list[CandidateRecord]:
        """A run's candidates in creation order, optionally of one generation / state(s)."""
        cond = candidates_t.c.run_id == run_id
        if generation is not None:
            cond = cond & (candidates_t.c.generation == generation)
        if isinstance(state, str):
            cond = cond & (candidates_t.c.state == state)
        elif state is not None:
            cond = cond & candidates_t.c.state.in_(list(state))
        with self._conn(write=False) as conn:
            return self._candidates_where(conn, cond)

    def ancestors(self, candidate_id: str, max_depth: int = 50) -> list[CandidateRecord]:
        """All ancestors up to ``max_depth`` edges away, nearest first, each once (crossover
        diamonds are deduplicated); each record's ``parent_ids`` gives the edges."""
        with self._conn(write=False) as conn:
            full = self._resolve_id(conn, candidates_t, candidate_id, "candidate", _CAND_HINT)
            order = conn.execute(_ANCESTORS_SQL, {"cid": full, "max_depth": max_depth}).all()
            ids = [r[0] for r in order]
            by_id = {c.id: c for c in self._candidates_where(conn, candidates_t.c.id.in_(ids))}
        return [by_id[i] for i in ids if i in by_id]

    def children(self, candidate_id: str) -> list[CandidateRecord]:
        """Direct children of a candidate, in creation order."""
        kids = select(parents_t.c.child_id).where(parents_t.c.parent_id == candidate_id)
        with self._conn(write=False) as conn:
            return self._candidates_where(conn, candidates_t.c.id.in_(kids))

    def lineage_edges(self, run_id: str) -> list[tuple[str, str, int]]:
        """Every (child_id, parent_id, position) edge among a run's candidates."""
        q = (
            select(parents_t.c.child_id, parents_t.c.parent_id, parents_t.c.position)
            .join(candidates_t, candidates_t.c.id == parents_t.c.child_id)
            .where(candidates_t.c.run_id == run_id)
            .order_by(parents_t.c.child_id, parents_t.c.position)
        )
        with self._conn(write=False) as conn:
            return [(c, p, i) for c, p, i in conn.execute(q)]

    # ---- population (resume checkpoint) -------------------------------------------------
    def set_population(self, run_id: str, generation: int, candidate_ids: Sequence[str]) -> None:
        """Record the population after ``generation`` (slot i holds ``candidate_ids[i]``);
        replaces an earlier record of the same generation."""
        with self._conn(write=True) as conn:
            conn.execute(delete(population_t).where(
                (population_t.c.run_id == run_id) & (population_t.c.generation == generation)
            ))
            if candidate_ids:
                conn.execute(insert(population_t), [
                    {"run_id": run_id, "generation": generation, "slot": i, "candidate_id": c}
                    for i, c in enumerate(candidate_ids)
                ])

    def population(self, run_id: str, generation: int | None = None) -> list[CandidateRecord]:
        """The population recorded for ``generation`` (default: the latest), in slot order;
        empty when none was recorded. A candidate in several slots appears several times."""
        p = population_t
        with self._conn(write=False) as conn:
            if generation is None:
                generation = conn.execute(
                    select(func.max(p.c.generation)).where(p.c.run_id == run_id)
                ).scalar()
                if generation is None:
                    return []
            slots = conn.execute(
                select(p.c.candidate_id)
                .where((p.c.run_id == run_id) & (p.c.generation == generation))
                .order_by(p.c.slot)
            ).scalars().all()
            by_id = {
                c.id: c for c in self._candidates_where(conn, candidates_t.c.id.in_(set(slots)))
            }
        return [by_id[c] for c in slots]

    # ---- helpers ------------------------------------------------------------------------
    def _by_hash(self, conn: Connection, run_id: str, chash: str) -> CandidateRecord | None:
        found = self._candidates_where(
            conn, (candidates_t.c.run_id == run_id) & (candidates_t.c.content_hash == chash)
        )
        return found[0] if found else None

    def _candidates_where(self, conn: Connection, cond: Any) -> list[CandidateRecord]:
        rows = conn.execute(
            select(candidates_t).where(cond).order_by(candidates_t.c.id)
        ).mappings().all()
        if not rows:
            return []
        ids = select(candidates_t.c.id).where(cond)
        parents: dict[str, list[str]] = defaultdict(list)
        for child, parent in conn.execute(
            select(parents_t.c.child_id, parents_t.c.parent_id)
            .where(parents_t.c.child_id.in_(ids))
            .order_by(parents_t.c.child_id, parents_t.c.position)
        ):
            parents[child].append(parent)
        return [_convert.candidate_record(r, parents.get(r["id"], ())) for r in rows]

    # ---- LLM gateway adapters -----------------------------------------------------------
    def response_cache(self) -> SQLResponseCache:
        """The persistent ``ResponseCache`` of this database (one instance per store)."""
        return self._cache

    def call_log(self) -> SQLCallLog:
        """The ``CallLog`` of this database (one buffering instance per store)."""
        return self._call_log

    def flush(self) -> None:
        """Write the buffered response-cache entries and call records, in one transaction
        (joining an open ``transaction()``). On failure they stay buffered."""
        cache_rows, log_rows = self._cache._take(), self._call_log._take()
        if not cache_rows and not log_rows:
            return
        try:
            with self._conn(write=True) as conn:
                self._cache._write(conn, cache_rows)
                self._call_log._write(conn, log_rows)
        except BaseException:
            self._cache._restore(cache_rows)
            self._call_log._restore(log_rows)
            raise

    def _flush_buffers(self) -> None:
        self.flush()

    def close(self) -> None:
        """Flush the buffers and release connections."""
        if not self._closed:
            try:
                self.flush()
            finally:
                self._cache._close()
        super().close()

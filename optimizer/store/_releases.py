"""Store methods for reviews, releases and aliases: the append-only promotion history.

Contracts:
- Nothing here is ever updated or deleted. A release is a snapshot (text and content hash) of
  a candidate under a release-line name with versions 1, 2, ...; an alias (``production``,
  ``shadow``, ``staging``) points at one version of a line, and moving it appends a row, so
  rollback is just another move and the history says who moved what, when and why.
- The gate and approval logic live in the review/release modules; the store only records
  (``evidence`` bags hold gate results).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from optimizer.errors import NotFoundError, StoreError
from optimizer.store._base import StoreBase
from optimizer.store.ids import new_id
from optimizer.store.models import alias_moves_t, candidates_t, releases_t, reviews_t
from optimizer.store.records import (
    REVIEW_DECISIONS,
    AliasMoveRecord,
    ReleaseRecord,
    ReviewRecord,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_CAND_HINT = "`breed status RUN` shows a run's candidates"


def _review(r: Mapping[str, Any]) -> ReviewRecord:
    return ReviewRecord(
        id=r["id"], candidate_id=r["candidate_id"], release_name=r["release_name"],
        reviewer=r["reviewer"], decision=r["decision"], comment=r["comment"],
        evidence=r["evidence_json"] or {}, created_at=r["created_at"],
    )


def _release(r: Mapping[str, Any]) -> ReleaseRecord:
    return ReleaseRecord(
        id=r["id"], name=r["name"], version=r["version"], candidate_id=r["candidate_id"],
        content_hash=r["content_hash"], text=r["text"], review_id=r["review_id"],
        created_by=r["created_by"], notes=r["notes"], evidence=r["evidence_json"] or {},
        created_at=r["created_at"],
    )


class ReleasesMixin(StoreBase):
    # ---- reviews ------------------------------------------------------------------------
    def add_review(
        self,
        candidate_id: str,
        *,
        reviewer: str,
        decision: str,
        comment: str = "",
        evidence: Mapping[str, Any] | None = None,
        release_name: str | None = None,
    ) -> ReviewRecord:
        """Record a review decision (``approve``, ``reject`` or ``comment``) on a candidate."""
        if decision not in REVIEW_DECISIONS:
            raise StoreError(f"unknown review decision {decision!r}; use one of "
                             f"{', '.join(sorted(REVIEW_DECISIONS))}")
        if not reviewer.strip():
            raise StoreError("a review needs a reviewer name")
        with self._conn(write=True) as conn:
            cid = self._resolve_id(conn, candidates_t, candidate_id, "candidate", _CAND_HINT)
            values = {
                "id": new_id("review"), "candidate_id": cid, "release_name": release_name,
                "reviewer": reviewer, "decision": decision, "comment": comment,
                "evidence_json": dict(evidence) if evidence else None, "created_at": time.time(),
            }
            conn.execute(insert(reviews_t).values(**values))
        return _review(values)

    def reviews(
        self, candidate_id: str | None = None, *, release_name: str | None = None
    ) -> list[ReviewRecord]:
        """Reviews (of one candidate / for one release line), oldest first."""
        q = select(reviews_t).order_by(reviews_t.c.id)
        if candidate_id is not None:
            q = q.where(reviews_t.c.candidate_id == candidate_id)
        if release_name is not None:
            q = q.where(reviews_t.c.release_name == release_name)
        with self._conn(write=False) as conn:
            return [_review(r) for r in conn.execute(q).mappings()]

    # ---- releases -----------------------------------------------------------------------
    def create_release(
        self,
        name: str,
        candidate_id: str,
        *,
        created_by: str,
        review_id: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        notes: str = "",
    ) -> ReleaseRecord:
        """Snapshot a candidate as the next version of release line ``name``."""
        if not _NAME.match(name):
            raise StoreError(f"invalid release name {name!r}; use letters, digits, '.', '_' "
                             "and '-' (e.g. payload-classifier)")
        with self._conn(write=True) as conn:
            cid = self._resolve_id(conn, candidates_t, candidate_id, "candidate", _CAND_HINT)
            cand = conn.execute(
                select(candidates_t.c.text, candidates_t.c.content_hash)
                .where(candidates_t.c.id == cid)
            ).one()
            latest = conn.execute(
                select(func.max(releases_t.c.version)).where(releases_t.c.name == name)
            ).scalar()
            values = {
                "name": name, "version": (latest or 0) + 1, "candidate_id": cid,
                "content_hash": cand.content_hash, "text": cand.text, "review_id": review_id,
                "created_by": created_by, "notes": notes,
                "evidence_json": dict(evidence) if evidence else None, "created_at": time.time(),
            }
            new = conn.execute(insert(releases_t).values(**values)).inserted_primary_key
            return _release({**values, "id": new[0]})

    def releases(self, name: str | None = None) -> list[ReleaseRecord]:
        """Releases (of one line), by name then version."""
        q = select(releases_t).order_by(releases_t.c.name, releases_t.c.version)
        if name is not None:
            q = q.where(releases_t.c.name == name)
        with self._conn(write=False) as conn:
            return [_release(r) for r in conn.execute(q).mappings()]

    def get_release(self, name: str, ref: int | str | None = None) -> ReleaseRecord:
        """A release by version number, alias name, or (``None``/``"latest"``) the newest."""
        with self._conn(write=False) as conn:
            return self._find_release(conn, name, ref)

    def _find_release(self, conn: Connection, name: str, ref: int | str | None) -> ReleaseRecord:
        r = releases_t
        if ref is None or ref == "latest":
            q = select(r).where(r.c.name == name).order_by(r.c.version.desc()).limit(1)
        elif isinstance(ref, int) or ref.isdigit():
            q = select(r).where((r.c.name == name) & (r.c.version == int(ref)))
        else:
            target = self._alias_target(conn, name, ref)
            if target is None:
                raise NotFoundError(f"release line {name!r} has no alias {ref!r}; set it with "
                                    "`breed promote`")
            q = select(r).where(r.c.id == target)
        row = conn.execute(q).mappings().first()
        if row is None:
            versions = conn.execute(
                select(r.c.version).where(r.c.name == name).order_by(r.c.version)
            ).scalars().all()
            known = ", ".join(map(str, versions)) or "none"
            raise NotFoundError(f"release line {name!r} has no version {ref!r} "
                                f"(versions: {known})")
        return _release(row)

    # ---- aliases ------------------------------------------------------------------------
    def move_alias(
        self, name: str, alias: str, version: int | None, *, moved_by: str, reason: str = ""
    ) -> AliasMoveRecord:
        """Point ``alias`` of line ``name`` at ``version`` (None removes the alias)."""
        if not _ALIAS.match(alias):
            raise StoreError(f"invalid alias {alias!r}; use lowercase letters, digits, '_' "
                             "and '-' (e.g. production)")
        with self._conn(write=True) as conn:
            target = self._find_release(conn, name, version) if version is not None else None
            previous = self._alias_target(conn, name, alias)
            values = {
                "name": name, "alias": alias, "release_id": target.id if target else None,
                "previous_release_id": previous, "moved_by": moved_by, "reason": reason,
                "created_at": time.time(),
            }
            new = conn.execute(insert(alias_moves_t).values(**values)).inserted_primary_key
            prev_version = None
            if previous is not None:
                prev_version = conn.execute(
                    select(releases_t.c.version).where(releases_t.c.id == previous)
                ).scalar()
        return AliasMoveRecord(
            id=new[0], name=name, alias=alias, version=target.version if target else None,
            previous_version=prev_version, moved_by=moved_by, reason=reason,
            created_at=values["created_at"],
        )

    def aliases(self, name: str) -> dict[str, ReleaseRecord]:
        """The current target of every set alias of line ``name``."""
        m = alias_moves_t
        latest = (
            select(func.max(m.c.id)).where(m.c.name == name).group_by(m.c.alias).scalar_subquery()
        )
        q = (
            select(m.c.alias, releases_t)
            .join(releases_t, releases_t.c.id == m.c.release_id)
            .where(m.c.id.in_(latest))
            .order_by(m.c.alias)
        )
        with self._conn(write=False) as conn:
            return {r["alias"]: _release(r) for r in conn.execute(q).mappings()}

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMoveRecord]:
        """Every move of the aliases of line ``name`` (or of one alias), oldest first."""
        m, cur, prev = alias_moves_t, releases_t.alias("cur"), releases_t.alias("prev")
        q = (
            select(m, cur.c.version.label("v"), prev.c.version.label("pv"))
            .outerjoin(cur, cur.c.id == m.c.release_id)
            .outerjoin(prev, prev.c.id == m.c.previous_release_id)
            .where(m.c.name == name)
            .order_by(m.c.id)
        )
        if alias is not None:
            q = q.where(m.c.alias == alias)
        with self._conn(write=False) as conn:
            return [
                AliasMoveRecord(
                    id=r["id"], name=r["name"], alias=r["alias"], version=r["v"],
                    previous_version=r["pv"], moved_by=r["moved_by"], reason=r["reason"],
                    created_at=r["created_at"],
                )
                for r in conn.execute(q).mappings()
            ]

    def _alias_target(self, conn: Connection, name: str, alias: str) -> int | None:
        m = alias_moves_t
        return conn.execute(
            select(m.c.release_id)
            .where((m.c.name == name) & (m.c.alias == alias))
            .order_by(m.c.id.desc())
            .limit(1)
        ).scalar()

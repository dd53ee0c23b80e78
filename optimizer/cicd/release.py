"""``breed promote``, ``breed releases``, ``breed rollback``: gated, append-only alias moves.

Contracts:
- ``promote`` recomputes the check report of the candidate against the line's current alias
  (or the seed prompt before the first release) and refuses (``PromotionRefused``, nothing
  written) unless the gate passes and the newest approve/reject review is an approval whose
  report hash equals the recomputed one. ``force=True`` skips both but needs a reason; the
  gate result (or why it could not be evaluated), ``forced`` and the reason are recorded in the
  release evidence and the alias move.
- Compare-and-swap: the release and the alias move are written in one write transaction that
  first re-reads the target alias (and the baseline alias); if either moved since the gate
  was computed, the promotion is refused. So of two processes promoting at once exactly one
  wins and the alias history stays a single consistent chain.
- ``rollback`` moves the alias back to the version it pointed to before its current one
  (replaying the history as a stack: a move back to the previous entry pops, any other move
  pushes), or to ``to_version``; it is one more appended move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optimizer.errors import ConfigError, OptimizerError

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.store import AliasMoveRecord, ReleaseRecord, Store


class PromotionRefused(OptimizerError):
    """The gate, the approval or a concurrent promotion stops this promotion."""

    exit_code = 1


def promote(
    store: Store, config: Config, candidate: str, *, name: str, alias: str, by: str,
    seed_prompt: str | None = None, force: bool = False, reason: str = "",
) -> tuple[ReleaseRecord, AliasMoveRecord, dict[str, Any]]:
    """Gate, approve-check and record a promotion (see the module contract)."""
    from optimizer.cicd.check import run_check
    from optimizer.cicd.gate import failures_line
    from optimizer.cicd.review import latest_decision
    from optimizer.cicd.targets import candidate_text, require_candidate, resolve_baseline

    if force and not reason.strip():
        raise ConfigError("--force needs --reason TEXT (it is recorded with the release)")
    c = require_candidate(store, candidate)
    from optimizer.cicd.targets import Prompt

    target = Prompt(candidate_text(c), f"candidate {c.id}", candidate_id=c.id)
    expected = _target_id(store, name, alias)
    evidence: dict[str, Any] = {"forced": force, "reason": reason}
    baseline_expected: tuple[str, int | None] | None = None
    try:
        against = alias if expected is not None else None  # first release: production/seed
        baseline = resolve_baseline(store, against, name, config, seed_prompt)
        if baseline.release is not None:
            b_alias = alias if against is not None else "production"
            baseline_expected = (b_alias, baseline.release.id)
        result = run_check(store, config, target, baseline, persist=False)
        evidence.update({"report_hash": result.report_hash, "gate_passed": result.passed,
                         "gate": failures_line(_checks(result.report)),
                         "baseline": result.report["baseline"],
                         "scores": {s: result.report["splits"][s]["deltas"]
                                    for s in result.report["splits"]},
                         "regressions": len(result.regressions)})
    except OptimizerError as err:
        if not force:
            raise
        result = None
        evidence["gate"] = f"not evaluated: {err}"
    approval = latest_decision(store, c.id)
    if not force:
        assert result is not None
        if not result.passed:
            raise PromotionRefused(f"refused: {failures_line(_checks(result.report))}")
        if approval is None or approval.decision != "approve":
            what = "no approval" if approval is None else f"rejected by {approval.reviewer}"
            raise PromotionRefused(f"refused: candidate {c.id} has {what}; run `breed review "
                                   f"{c.id} --approve --reviewer NAME` after `breed check`")
        if approval.evidence.get("report_hash") != result.report_hash:
            raise PromotionRefused(
                f"refused: the approval by {approval.reviewer} was given on check report "
                f"{str(approval.evidence.get('report_hash'))[:12]}, but the evidence is now "
                f"{result.report_hash[:12]} (the {alias} release, the data or the gate "
                f"changed); run `breed check {c.id}` and review again")
    with store.transaction():
        now = _target_id(store, name, alias)
        moved = now != expected or (
            baseline_expected is not None
            and _target_id(store, name, baseline_expected[0]) != baseline_expected[1])
        if moved:
            raise PromotionRefused(
                f"refused: {name}@{alias} moved while this promotion was being checked "
                f"(another promotion won); run `breed check {c.id}` again")
        approved = approval.id if approval and approval.decision == "approve" else None
        rel = store.create_release(name, c.id, created_by=by, review_id=approved,
                                   evidence=evidence, notes=reason)
        why = f"forced: {reason}" if force else f"promoted {c.id} (gate passed, approved)"
        move = store.move_alias(name, alias, rel.version, moved_by=by, reason=why)
    return rel, move, evidence


def _checks(report: dict[str, Any]) -> list[Any]:
    from optimizer.cicd.gate import GateCheck

    return [GateCheck(**c) for c in report["gate"]["checks"]]


def _target_id(store: Store, name: str, alias: str) -> int | None:
    rel = store.aliases(name).get(alias)
    return rel.id if rel is not None else None


def rollback_target(history: list[AliasMoveRecord]) -> int | None:
    """The version a rollback returns to (None when there is nothing to go back to)."""
    stack: list[int | None] = []
    for m in history:
        if len(stack) >= 2 and stack[-2] == m.version:
            stack.pop()
        else:
            stack.append(m.version)
    return stack[-2] if len(stack) >= 2 else None


def rollback(
    store: Store, name: str, alias: str, *, by: str, reason: str = "",
    to_version: int | None = None,
) -> AliasMoveRecord:
    """Move ``alias`` back (see the module contract); one write transaction."""
    from optimizer.errors import NotFoundError

    if not store.releases(name):
        raise NotFoundError(f"no release line {name!r}; `breed releases NAME` lists versions "
                            "after `breed promote`")
    with store.transaction():
        current = store.aliases(name).get(alias)
        if current is None:
            raise NotFoundError(f"release line {name!r} has no alias {alias!r} to roll back")
        target = to_version if to_version is not None else rollback_target(
            store.alias_history(name, alias))
        if target is None:
            raise ConfigError(f"{name}@{alias} has no earlier version to roll back to; "
                              "pass --to VERSION")
        store.get_release(name, target)  # NotFoundError for an unknown --to
        why = f"rollback from v{current.version} to v{target}" + (f": {reason}" if reason
                                                                   else "")
        return store.move_alias(name, alias, target, moved_by=by, reason=why)


def releases_view(store: Store, name: str) -> dict[str, Any]:
    """Versions, current aliases and the alias history of a release line."""
    from optimizer.errors import NotFoundError

    rels = store.releases(name)
    if not rels:
        raise NotFoundError(f"no release line {name!r}; create one with `breed promote`")
    aliases = store.aliases(name)
    return {
        "name": name,
        "versions": [
            {"version": r.version, "candidate_id": r.candidate_id, "content_hash": r.content_hash,
             "created_by": r.created_by, "created_at": r.created_at, "notes": r.notes,
             "review_id": r.review_id, "forced": bool(r.evidence.get("forced")),
             "aliases": sorted(a for a, t in aliases.items() if t.version == r.version)}
            for r in rels
        ],
        "aliases": {a: t.version for a, t in aliases.items()},
        "history": [
            {"alias": m.alias, "version": m.version, "previous_version": m.previous_version,
             "moved_by": m.moved_by, "reason": m.reason, "created_at": m.created_at}
            for m in store.alias_history(name)
        ],
    }

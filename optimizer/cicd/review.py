"""``breed review``: recorded human decisions, and review comments as mutation-prompts.

Contracts:
- ``review`` stores one review (approve / reject / comment) with a snapshot of the evidence
  the reviewer saw: the newest ``breed check`` report of that candidate (its hash, verdict,
  baseline and regression count). Approving needs such a check (``ConfigError`` otherwise);
  promotion later requires the approval's report hash to equal the report it recomputes.
- ``latest_decision`` is the newest approve/reject review of a candidate (comments do not
  decide anything).
- ``review_mutation_prompts`` turns stored review comments (newest ``limit``, distinct, in
  chronological order) into Promptbreeder mutation-prompts for ``breed run --from-reviews``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.errors import ConfigError

if TYPE_CHECKING:
    from optimizer.store import ReviewRecord, Store

VERBS = {"approve": "approved", "reject": "rejected", "comment": "commented on"}


def review(
    store: Store, candidate: str, *, decision: str, comment: str, reviewer: str,
    release_name: str | None = None,
) -> ReviewRecord:
    """Record a review of ``candidate`` with its evidence snapshot (see the module contract)."""
    from optimizer.cicd.check import latest_check
    from optimizer.cicd.targets import require_candidate

    if not reviewer.strip():
        raise ConfigError("--reviewer NAME is required (who decided)")
    c = require_candidate(store, candidate)
    check = latest_check(store, c.id)
    if check is None and decision == "approve":
        raise ConfigError(f"candidate {c.id} has no check report to approve; run "
                          f"`breed check {c.id}` first")
    evidence = {}
    if check is not None:
        rep = check.get("report", {})
        evidence = {
            "report_hash": check["report_hash"], "check_run": check["run_id"],
            "gate_passed": bool(check.get("passed")),
            "regressions": check.get("regressions"),
            "baseline": rep.get("baseline", {}).get("source"),
            "candidate_sha256": rep.get("candidate", {}).get("sha256"),
        }
    return store.add_review(c.id, reviewer=reviewer.strip(), decision=decision,
                            comment=comment, evidence=evidence, release_name=release_name)


def latest_decision(store: Store, candidate_id: str) -> ReviewRecord | None:
    decisive = [r for r in store.reviews(candidate_id) if r.decision in ("approve", "reject")]
    return decisive[-1] if decisive else None


def review_mutation_prompts(store: Store, limit: int = 20) -> list[str]:
    """Mutation-prompts built from review comments (see the module contract)."""
    seen: set[str] = set()
    out: list[str] = []
    for r in reversed(store.reviews()):
        text = " ".join(r.comment.split())
        if not text or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        out.append(f'A reviewer {VERBS.get(r.decision, "reviewed")} a prompt and wrote: '
                   f'"{text[:500]}". Rewrite the instruction so that it addresses this '
                   "feedback.")
        if len(out) >= limit:
            break
    return out[::-1]

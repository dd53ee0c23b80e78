"""The promotion gate: pure checks over measured evidence (no model calls, no store).

Contracts:
- ``gate_checks`` returns one ``GateCheck`` per configured check, in a fixed order: ``gain``,
  ``critical_regressions``, ``regressions``, ``robustness``, ``drift``, ``length``,
  ``copying``. A check's ``status`` is ``pass``, ``fail`` or ``skip`` (with the reason in
  ``detail``); the gate passes when no check fails.
- Failure details name the evidence: the critical cases by example id (and first-seen date /
  incident), the copied fragment and the training example it came from.
- ``copied_fragment`` finds the longest run (at least ``min_chars`` characters, compared
  case-insensitively) that the prompt shares with any training payload, either verbatim or
  JSON-escaped as in few-shot ``Example:`` lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.config import GateConfig
    from optimizer.tasks.base import Example

CHECK_ORDER = ("gain", "critical_regressions", "regressions", "robustness", "drift", "length",
               "copying")


@dataclass(frozen=True, slots=True)
class GateCheck:
    name: str
    status: str  # pass | fail | skip
    value: Any
    limit: Any
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "value": self.value,
                "limit": self.limit, "detail": self.detail}


def _pct(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:+.1f} pp"


def _case_name(case: Mapping[str, Any]) -> str:
    extra = [str(case[k]) for k in ("first_seen", "incident") if case.get(k)]
    return f"{case['id']} ({case['label']})" + (f" [{'; '.join(extra)}]" if extra else "")


def gate_checks(
    gate: GateConfig,
    *,
    gain: float,
    gain_ci: tuple[float, float],
    critical: Sequence[Mapping[str, Any]],
    others: Sequence[Mapping[str, Any]],
    robustness: tuple[float, float] | None,
    robustness_note: str,
    drift: float,
    drift_source: str,
    prompt_chars: int,
    copied: tuple[str, str] | None,
) -> list[GateCheck]:
    """Evaluate every gate check (see the module contract)."""
    lo = gain_ci[0]
    checks = [
        GateCheck(
            "gain", "pass" if lo == lo and lo > gate.min_gain else "fail",
            round(lo, 6) if lo == lo else None, gate.min_gain,
            f"held-out accuracy gain {_pct(gain)}, 95% CI [{_pct(gain_ci[0])}, "
            f"{_pct(gain_ci[1])}]; the lower bound must exceed {_pct(gate.min_gain)}",
        ),
        GateCheck(
            "critical_regressions",
            "pass" if len(critical) <= gate.max_critical_regressions else "fail",
            len(critical), gate.max_critical_regressions,
            "no critical case newly fails" if not critical else
            "newly failing critical cases: " + ", ".join(_case_name(c) for c in critical[:10])
            + (f" and {len(critical) - 10} more" if len(critical) > 10 else ""),
        ),
        GateCheck(
            "regressions", "pass" if len(others) <= gate.max_regressions else "fail",
            len(others), gate.max_regressions,
            f"{len(others)} other newly failing cases (limit {gate.max_regressions})"
            + (": " + ", ".join(str(c["id"]) for c in others[:5])
               + (" ..." if len(others) > 5 else "") if others else ""),
        ),
    ]
    if robustness is None:
        checks.append(GateCheck("robustness", "skip", None, gate.robustness_tolerance,
                                robustness_note))
    else:
        cand, base = robustness
        ok = cand >= base - gate.robustness_tolerance
        checks.append(GateCheck(
            "robustness", "pass" if ok else "fail", round(cand - base, 6),
            -gate.robustness_tolerance if gate.robustness_tolerance else 0.0,
            f"robustness {100 * cand:.1f}% vs baseline {100 * base:.1f}% ({robustness_note})"))
    checks.append(GateCheck(
        "drift", "pass" if drift <= gate.max_drift else "fail", round(drift, 6), gate.max_drift,
        f"Jensen-Shannon label-distribution shift {drift:.4f} on {drift_source} "
        f"(limit {gate.max_drift})"))
    checks.append(GateCheck(
        "length", "pass" if prompt_chars <= gate.max_prompt_chars else "fail", prompt_chars,
        gate.max_prompt_chars, f"prompt has {prompt_chars} characters "
        f"(limit {gate.max_prompt_chars})"))
    if copied is None:
        checks.append(GateCheck("copying", "pass", 0, gate.copy_chars,
                                f"no run of {gate.copy_chars}+ characters copied from a "
                                "training payload"))
    else:
        frag, ex_id = copied
        checks.append(GateCheck(
            "copying", "fail", len(frag), gate.copy_chars,
            f"the prompt copies {len(frag)} characters of training payload {ex_id}: "
            f"{json.dumps(frag[:80])}"))
    return checks


def failures_line(checks: Sequence[GateCheck]) -> str:
    """One line naming every failed check and its evidence."""
    failed = [c for c in checks if c.failed]
    if not failed:
        return "gate passed"
    return "gate failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)


def copied_fragment(
    prompt: str, train: Sequence[Example], min_chars: int
) -> tuple[str, str] | None:
    """(longest copied fragment, training example id) when >= ``min_chars``, else None."""
    from optimizer.units import json_line

    index: dict[str, str] = {}
    sources: list[tuple[str, str]] = []
    for ex in train:
        for form in {ex.input, json_line(ex.input)[1:-1]}:
            low = form.casefold()
            if len(low) < min_chars:
                continue
            sources.append((low, ex.id))
            for i in range(len(low) - min_chars + 1):
                index.setdefault(low[i:i + min_chars], ex.id)
    text = prompt.casefold()
    best: tuple[str, str] | None = None
    i = 0
    while i <= len(text) - min_chars:
        ex_id = index.get(text[i:i + min_chars])
        if ex_id is None:
            i += 1
            continue
        src = next(s for s, sid in sources if sid == ex_id and text[i:i + min_chars] in s)
        end = i + min_chars
        while end < len(text) and text[i:end + 1] in src:
            end += 1
        frag = prompt[i:end]
        if best is None or len(frag) > len(best[0]):
            best = (frag, ex_id)
        i = end
    return best

"""Statistics for comparing two prompts: paired metric deltas and label-distribution shift.

Contracts:
- ``paired_deltas`` resamples the *same* example indices for both prompts (paired bootstrap)
  and returns, for each headline metric (accuracy, macro F1, attack recall, benign FP rate),
  the candidate value, the baseline value, the delta (candidate - baseline) and a 95 %
  percentile interval of the delta. Deterministic for a given ``rng`` seed.
- ``js_divergence`` is the Jensen-Shannon divergence in bits (base 2, so 0 <= JS <= 1) of two
  label-count distributions over the union of their labels; 0 for identical distributions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.evaluation.metrics import HEADLINE, _encode, _headline


@dataclass(frozen=True, slots=True)
class Delta:
    metric: str
    candidate: float
    baseline: float
    delta: float
    ci: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        return {"metric": self.metric, "candidate": _r(self.candidate),
                "baseline": _r(self.baseline), "delta": _r(self.delta),
                "ci": [_r(self.ci[0]), _r(self.ci[1])]}


def _r(x: float) -> float | None:
    """Rounded for reports (stable hashes); NaN becomes None (valid JSON)."""
    return None if x != x else round(float(x), 6)


def paired_deltas(
    y_true: Sequence[str],
    pred_candidate: Sequence[str | None],
    pred_baseline: Sequence[str | None],
    labels: Sequence[str],
    negative_label: str,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> list[Delta]:
    """Headline metrics of both prompts with paired-bootstrap intervals of the deltas."""
    labels = list(labels)
    t, pc = _encode(y_true, pred_candidate, labels)
    _, pb = _encode(y_true, pred_baseline, labels)
    neg = labels.index(negative_label) if negative_label in labels else -2
    k = len(labels)
    n = len(t)
    if n == 0:
        return [Delta(m, math.nan, math.nan, math.nan, (math.nan, math.nan)) for m in HEADLINE]
    cand = _headline(t[None, :], pc[None, :], k, neg)[0]
    base = _headline(t[None, :], pb[None, :], k, neg)[0]
    out: list[Delta] = []
    diffs = np.empty((0, len(HEADLINE)))
    chunk = 250
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        d = _headline(t[idx], pc[idx], k, neg) - _headline(t[idx], pb[idx], k, neg)
        diffs = np.concatenate([diffs, d])
    with np.errstate(all="ignore"):
        lo, hi = np.nanpercentile(diffs, [2.5, 97.5], axis=0)
    for i, m in enumerate(HEADLINE):
        out.append(Delta(m, float(cand[i]), float(base[i]), float(cand[i] - base[i]),
                         (float(lo[i]), float(hi[i]))))
    return out


def label_counts(preds: Iterable[str | None]) -> Counter[str]:
    """Counts of predicted labels; unparseable answers count as ``(invalid)``."""
    return Counter(p if p is not None else "(invalid)" for p in preds)


def js_divergence(a: Counter[str], b: Counter[str]) -> float:
    """Jensen-Shannon divergence (bits) of two label-count distributions."""
    keys = sorted(set(a) | set(b))
    na, nb = sum(a.values()), sum(b.values())
    if not keys or na == 0 or nb == 0:
        return 0.0
    p = np.array([a.get(k, 0) / na for k in keys])
    q = np.array([b.get(k, 0) / nb for k in keys])
    m = (p + q) / 2

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        mask = x > 0
        return float((x[mask] * np.log2(x[mask] / y[mask])).sum())

    return max(0.0, min(1.0, (kl(p, m) + kl(q, m)) / 2))

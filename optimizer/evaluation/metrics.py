"""Classification metrics with bootstrap intervals and paired significance tests.

Conventions:
- ``None`` as a prediction means the answer could not be parsed: it is wrong for accuracy,
  counts as "not detected" for attack recall and as "not flagged" for the benign FP rate.
- ``attack_recall`` = share of attack examples (label != negative label) whose prediction is
  some attack label (detection, family not required); ``family_recall`` requires the exact label.
- ``benign_fpr`` = share of negative-label examples predicted as any attack label.
- Bootstrap intervals are percentile intervals over ``n_boot`` resamples drawn from an explicit
  ``numpy.random.Generator`` seeded by the caller, so reports are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

HEADLINE = ("accuracy", "macro_f1", "attack_recall", "benign_fpr")


@dataclass(frozen=True, slots=True)
class ClassStats:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    n: int
    accuracy: float
    macro_f1: float
    attack_recall: float
    family_recall: float
    benign_fpr: float
    invalid: int
    per_class: dict[str, ClassStats]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "attack_recall": self.attack_recall,
            "family_recall": self.family_recall,
            "benign_fpr": self.benign_fpr,
            "invalid": self.invalid,
            "per_class": {k: vars_of(v) for k, v in self.per_class.items()},
            "intervals": {k: list(v) for k, v in self.intervals.items()},
        }


def vars_of(s: ClassStats) -> dict[str, float | int]:
    return {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}


def _encode(
    y_true: Sequence[str], y_pred: Sequence[str | None], labels: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    index = {lab: i for i, lab in enumerate(labels)}
    t = np.fromiter((index[y] for y in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter(
        (index.get(y, -1) if y is not None else -1 for y in y_pred),
        dtype=np.int64,
        count=len(y_pred),
    )
    return t, p


def _headline(t: np.ndarray, p: np.ndarray, k: int, neg: int) -> np.ndarray:
    """Vectorised headline metrics for a batch of resamples: arrays shaped (B, n)."""
    correct = t == p
    acc = correct.mean(axis=-1)
    f1s = []
    for c in range(k):
        tp = ((p == c) & correct).sum(axis=-1)
        pp = (p == c).sum(axis=-1)
        ap = (t == c).sum(axis=-1)
        denom = pp + ap
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), np.nan)
        f1s.append(f1)
    macro = np.nanmean(np.stack(f1s, axis=-1), axis=-1) if k else acc * 0
    is_attack = t != neg
    detected = (p != neg) & (p >= 0)
    n_att = is_attack.sum(axis=-1)
    n_neg = (~is_attack).sum(axis=-1)
    rec = np.where(n_att > 0, (is_attack & detected).sum(axis=-1) / np.maximum(n_att, 1), np.nan)
    fpr = np.where(n_neg > 0, (~is_attack & detected).sum(axis=-1) / np.maximum(n_neg, 1), np.nan)
    return np.stack([acc, macro, rec, fpr], axis=-1)


def evaluate(
    y_true: Sequence[str],
    y_pred: Sequence[str | None],
    labels: Sequence[str],
    negative_label: str = "benign",
    *,
    n_boot: int = 1000,
    rng: np.random.Generator | None = None,
    alpha: float = 0.05,
) -> Report:
    """Compute the report; with ``n_boot > 0`` and an rng, add 95 % percentile intervals."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    n = len(y_true)
    labels = list(labels)
    t, p = _encode(y_true, y_pred, labels)
    neg = labels.index(negative_label) if negative_label in labels else -2
    per_class: dict[str, ClassStats] = {}
    for c, lab in enumerate(labels):
        tp = int(((p == c) & (t == c)).sum())
        pp = int((p == c).sum())
        ap = int((t == c).sum())
        prec = tp / pp if pp else 0.0
        rec = tp / ap if ap else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[lab] = ClassStats(prec, rec, f1, ap)
    head = _headline(t[None, :], p[None, :], len(labels), neg)[0] if n else np.zeros(4)
    attacks = t != neg
    fam = float(((t == p) & attacks).sum() / attacks.sum()) if attacks.any() else math.nan
    intervals: dict[str, tuple[float, float]] = {}
    if n and n_boot and rng is not None:
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = _headline(t[idx], p[idx], len(labels), neg)
        lo, hi = np.nanpercentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
        intervals = {m: (float(lo[i]), float(hi[i])) for i, m in enumerate(HEADLINE)}
    return Report(
        n=n,
        accuracy=float(head[0]),
        macro_f1=float(head[1]),
        attack_recall=float(head[2]),
        family_recall=fam,
        benign_fpr=float(head[3]),
        invalid=int((p < 0).sum()),
        per_class=per_class,
        intervals=intervals,
    )


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Paired comparison of two prompts on the same examples (b = better when positive)."""

    n: int
    a_only: int  # examples only A got right
    b_only: int  # examples only B got right
    diff: float  # accuracy(B) - accuracy(A)
    diff_ci: tuple[float, float]
    p_value: float  # exact two-sided McNemar (binomial on discordant pairs)

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value (binomial test of the discordant pairs at 1/2)."""
    m = a_only + b_only
    if m == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(m, i) for i in range(k + 1)) / 2.0**m
    return min(1.0, 2.0 * tail)


def paired_test(
    correct_a: Sequence[bool],
    correct_b: Sequence[bool],
    *,
    n_boot: int = 2000,
    rng: np.random.Generator,
) -> PairedTest:
    """McNemar exact test plus a paired-bootstrap interval of the accuracy difference."""
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError("paired test needs results on the same examples")
    n = int(a.size)
    a_only = int((a & ~b).sum())
    b_only = int((b & ~a).sum())
    d = b.astype(np.int8) - a.astype(np.int8)
    if n:
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = d[idx].mean(axis=1)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        diff = float(d.mean())
    else:
        lo = hi = diff = 0.0
    p_value = mcnemar_exact(a_only, b_only)
    return PairedTest(n, a_only, b_only, diff, (float(lo), float(hi)), p_value)

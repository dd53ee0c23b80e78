"""Security metrics, weighted fitness combinations, and Pareto fronts over attack families.

Contracts:
- ``cost_weighted_score(y_true, y_pred, negative, costs)`` = 1 - cost / worst-case cost, where a
  missed attack (attack predicted benign or unparseable) costs ``missed_attack``, a false alarm
  (benign predicted as an attack) ``false_alarm``, and an attack given the wrong attack family
  ``wrong_family``; worst case = every attack missed and every benign flagged. In [0, 1], higher
  is better; 1.0 for an empty set.
- ``metric_values(preds, labels, negative, costs)`` returns the classification metrics as a
  dict (accuracy, macro_f1, cost_weighted, attack_recall, benign_fpr, per-family recall).
- ``combine(values, weights)`` = sum(w * score) / sum(w) with score = value for "higher is
  better" metrics and 1 - value for rates (``benign_fpr``, ``injection`` = flip rate); a missing
  or NaN value scores 0 (a prompt that detects nothing has no robustness to show).
- ``pareto_front(points)`` returns the ids whose per-family vector is not dominated (>= on every
  family and > on one) by another id; ids in input order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.evaluation.runner import Prediction

RATE_METRICS = frozenset({"benign_fpr", "injection"})


def cost_weighted_score(
    y_true: Sequence[str],
    y_pred: Sequence[str | None],
    negative: str | None,
    costs: Any,
) -> float:
    """See the module contract (``costs`` has missed_attack, false_alarm, wrong_family)."""
    cost = worst = 0.0
    for t, p in zip(y_true, y_pred, strict=True):
        if t == negative:
            worst += costs.false_alarm
            if p is not None and p != negative:
                cost += costs.false_alarm
        else:
            worst += costs.missed_attack
            if p is None or p == negative:
                cost += costs.missed_attack
            elif p != t:
                cost += costs.wrong_family
    return 1.0 - cost / worst if worst > 0 else 1.0


def metric_values(
    preds: Sequence[Prediction], labels: Sequence[str], negative: str | None, costs: Any
) -> dict[str, Any]:
    """Accuracy, macro-F1, cost-weighted score, attack recall, benign FPR, family recall."""
    from optimizer.evaluation.metrics import evaluate

    y_true = [p.example.label for p in preds]
    y_pred = [p.predicted for p in preds]
    if not preds:
        return {"accuracy": 0.0, "macro_f1": 0.0, "cost_weighted": 0.0, "attack_recall": 0.0,
                "benign_fpr": 0.0, "family_recall": {}}
    r = evaluate(y_true, y_pred, labels, negative or "", n_boot=0)
    return {
        "accuracy": r.accuracy,
        "macro_f1": r.macro_f1,
        "cost_weighted": cost_weighted_score(y_true, y_pred, negative, costs),
        "attack_recall": r.attack_recall,
        "benign_fpr": r.benign_fpr,
        "family_recall": {lab: s.recall for lab, s in r.per_class.items()
                          if s.support and lab != negative},
    }


def score_of(metric: str, value: float | None) -> float:
    """The "higher is better" score of one metric value (NaN/None -> 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return 1.0 - float(value) if metric in RATE_METRICS else float(value)


def combine(values: Mapping[str, Any], weights: Mapping[str, float]) -> float:
    """Weighted mean of metric scores (see the module contract)."""
    total = sum(w for w in weights.values() if w > 0)
    if total <= 0:
        raise ValueError("fitness weights need a positive sum")
    return sum(w * score_of(m, values.get(m)) for m, w in weights.items() if w > 0) / total


def dominates(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    keys = set(a) | set(b)
    ge = all(a.get(k, 0.0) >= b.get(k, 0.0) for k in keys)
    return ge and any(a.get(k, 0.0) > b.get(k, 0.0) for k in keys)


def pareto_front(points: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Ids not dominated on the per-family vectors (see the module contract)."""
    return [i for i, v in points.items()
            if not any(dominates(w, v) for j, w in points.items() if j != i)]

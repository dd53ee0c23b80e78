from __future__ import annotations

import numpy as np
import pytest

from optimizer.evaluation.metrics import evaluate, mcnemar_exact, paired_test

LABELS = ["benign", "sqli", "xss"]


def test_report_counts_and_invalid_answers() -> None:
    y = ["sqli", "xss", "benign", "benign", "sqli"]
    p = ["sqli", "benign", "sqli", None, "xss"]
    r = evaluate(y, p, LABELS, n_boot=0)
    assert r.accuracy == pytest.approx(1 / 5)
    assert r.attack_recall == pytest.approx(2 / 3)  # xss->benign missed; sqli->xss detected
    assert r.family_recall == pytest.approx(1 / 3)
    assert r.benign_fpr == pytest.approx(1 / 2)  # None on benign is not a flag
    assert r.invalid == 1
    assert r.per_class["sqli"].precision == pytest.approx(1 / 2)


def test_bootstrap_interval_contains_point_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    y = list(rng.choice(LABELS, size=300))
    p = [t if rng.random() < 0.8 else "benign" for t in y]
    a = evaluate(y, p, LABELS, n_boot=500, rng=np.random.default_rng(5))
    b = evaluate(y, p, LABELS, n_boot=500, rng=np.random.default_rng(5))
    lo, hi = a.intervals["accuracy"]
    assert lo < a.accuracy < hi and hi - lo < 0.15
    assert a.intervals == b.intervals


def test_mcnemar_and_paired_test() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 10) == pytest.approx(2 / 1024)
    a = [True] * 50 + [False] * 50
    b = [True] * 50 + [True] * 30 + [False] * 20
    t = paired_test(a, b, rng=np.random.default_rng(0))
    assert t.b_only == 30 and t.a_only == 0 and t.significant()
    assert t.diff == pytest.approx(0.3) and t.diff_ci[0] > 0

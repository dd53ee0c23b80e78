"""Security metrics: cost-weighted score, weighted fitness, Pareto over families, config keys."""

from __future__ import annotations

import math

import pytest

from optimizer.config import CostConfig, parse_config
from optimizer.errors import ConfigError
from optimizer.validation.security import (
    combine,
    cost_weighted_score,
    dominates,
    pareto_front,
    score_of,
)


def test_cost_weighted_score_by_hand() -> None:
    costs = CostConfig(missed_attack=5.0, false_alarm=1.0, wrong_family=0.5)
    y_true = ["sqli", "xss", "benign", "benign", "cmdi"]
    y_pred = ["sqli", "benign", "xss", "benign", "sqli"]
    # worst = 3 attacks * 5 + 2 benign * 1 = 17; cost = missed 5 + false alarm 1 + wrong 0.5
    assert cost_weighted_score(y_true, y_pred, "benign", costs) == pytest.approx(1 - 6.5 / 17)
    # a missed attack costs more than a false alarm
    miss = cost_weighted_score(["sqli", "benign"], ["benign", "benign"], "benign", costs)
    alarm = cost_weighted_score(["sqli", "benign"], ["sqli", "sqli"], "benign", costs)
    assert miss < alarm
    assert cost_weighted_score([], [], "benign", costs) == 1.0
    assert cost_weighted_score(["sqli"], [None], "benign", costs) == 0.0


def test_combine_turns_rates_into_scores_and_nan_into_zero() -> None:
    values = {"accuracy": 0.6, "robustness": 0.8, "benign_fpr": 0.1, "injection": 0.25}
    assert combine(values, {"accuracy": 1.0}) == pytest.approx(0.6)
    assert combine(values, {"accuracy": 1.0, "robustness": 0.5}) == pytest.approx(
        (0.6 + 0.4) / 1.5)
    assert combine(values, {"benign_fpr": 1.0, "injection": 1.0}) == pytest.approx(
        (0.9 + 0.75) / 2)
    assert score_of("robustness", math.nan) == 0.0 and score_of("robustness", None) == 0.0
    with pytest.raises(ValueError):
        combine(values, {"accuracy": 0.0})


def test_pareto_front_over_families() -> None:
    points = {
        "a": {"sqli": 0.9, "xss": 0.2},
        "b": {"sqli": 0.5, "xss": 0.8},
        "c": {"sqli": 0.5, "xss": 0.2},  # dominated by both
        "d": {"sqli": 0.9, "xss": 0.2},  # equal to a: neither dominates
    }
    assert pareto_front(points) == ["a", "b", "d"]
    assert dominates(points["a"], points["c"]) and not dominates(points["a"], points["d"])


def test_config_sections_default_off_and_reject_bad_keys() -> None:
    cfg = parse_config({})
    assert cfg.fitness.weights == {} and not cfg.validation.any_enabled
    ok = parse_config({"fitness": {"weights": {"accuracy": 1, "robustness": 0.5},
                                   "costs": {"missed_attack": 10}},
                       "validation": {"adversary": {"enabled": True, "variants_per_example": 2}}})
    assert ok.fitness.costs.missed_attack == 10
    assert ok.validation.adversary.variants_per_example == 2
    with pytest.raises(ConfigError, match=r"needs validation\.adversary\.enabled"):
        parse_config({"fitness": {"weights": {"robustness": 1}}})
    with pytest.raises(ConfigError, match=r"needs validation\.injection\.enabled"):
        parse_config({"fitness": {"weights": {"injection": 1}}})
    with pytest.raises(ConfigError, match="unknown fitness metric"):
        parse_config({"fitness": {"weights": {"robust": 1}}})
    with pytest.raises(ConfigError, match=r"unknown config key 'validation\.verifier\.enable'"):
        parse_config({"validation": {"verifier": {"enable": True}}})
    with pytest.raises(ConfigError, match=r"fitness\.weights"):
        parse_config({"fitness": {"weights": {"accuracy": -1}}})


def test_verifier_optimize_needs_the_verifier_stage() -> None:
    with pytest.raises(ConfigError, match=r"verifier\.optimize needs"):
        parse_config({"validation": {"verifier": {"optimize": True}}})
    cfg = parse_config({"validation": {"verifier": {"enabled": True, "optimize": True}}})
    assert cfg.validation.verifier.optimize is True

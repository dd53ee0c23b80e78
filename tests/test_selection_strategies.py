"""Binary tournament and per-example Pareto selection: pure, deterministic, proportional."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from optimizer.errors import ConfigError
from optimizer.selection import (
    BinaryTournament,
    Pairing,
    ParetoSelector,
    Selector,
    make_selector,
    pareto_frontier,
)
from optimizer.units import Unit


def units(*fitness: float | None) -> list[Unit]:
    return [Unit(f"u{i}", f"prompt {i}", "m", fitness=f) for i, f in enumerate(fitness)]


def test_tournament_pairs_everyone_once_and_winner_replaces_loser() -> None:
    pop = units(0.1, 0.9, 0.5, 0.3, 0.7, 0.2, None, 0.8)
    fit = {u.id: (u.fitness if u.fitness is not None else -1.0) for u in pop}
    plan = BinaryTournament().plan(pop, random.Random(0))
    assert len(plan) == 4
    seen = [p.parent_id for p in plan] + [p.replaces_id for p in plan]
    assert sorted(seen) == sorted(u.id for u in pop)  # every unit exactly once
    for pairing in plan:
        assert fit[pairing.parent_id] > fit[pairing.replaces_id]
    assert BinaryTournament().plan(pop, random.Random(0)) == plan
    assert len({tuple(BinaryTournament().plan(pop, random.Random(s))) for s in range(10)}) > 1


def test_tournament_odd_population_and_ties() -> None:
    pop = units(0.5, 0.5, 0.5)
    plan = BinaryTournament().plan(pop, random.Random(1))
    assert len(plan) == 1 and plan[0].parent_id != plan[0].replaces_id
    tie = units(0.5, 0.5)
    winners = Counter(
        BinaryTournament().plan(tie, random.Random(s))[0].parent_id for s in range(200)
    )
    assert set(winners) == {"u0", "u1"}  # ties are broken by the RNG, both ways
    assert 60 < winners["u0"] < 140


def test_pareto_frontier_drops_dominated_and_counts_wins() -> None:
    # 10 examples: A best on 0-5, B best on 6-8, C best on 9; D never best;
    # E ties B on example 6 only, so every front E is in also holds B: dominated.
    a = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    b = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0]
    c = [0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 1]
    d = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    e = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    wins = pareto_frontier({"A": a, "B": b, "C": c, "D": d, "E": e})
    assert wins == {"A": 6, "B": 3, "C": 1}
    # two identical units: exactly one survives (they dominate each other's fronts)
    assert len(pareto_frontier({"X": [1, 0], "Y": [1, 0], "Z": [0, 1]})) == 2
    with pytest.raises(ConfigError, match="same examples"):
        pareto_frontier({"A": [1, 0], "B": [1]})
    with pytest.raises(ConfigError, match="empty"):
        pareto_frontier({"A": [], "B": []})


SCORES = {
    "u0": [1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
    "u1": [0, 0, 0, 0, 0, 0, 1, 1, 1, 0],
    "u2": [0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 1],
    "u3": [0.2] * 10,
    "u4": [0.1] * 10,
    "u5": [0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
}


def test_pareto_samples_frontier_units_proportionally() -> None:
    pop = units(*[None] * 6)
    sel = ParetoSelector(n_parents=1)
    rng = random.Random(42)
    counts = Counter(sel.plan(pop, rng, scores=SCORES)[0].parent_id for _ in range(5000))
    assert set(counts) == {"u0", "u1", "u2"}
    for uid, share in (("u0", 0.6), ("u1", 0.3), ("u2", 0.1)):
        assert abs(counts[uid] / 5000 - share) < 0.03


def test_pareto_replaces_worst_non_frontier_or_grows() -> None:
    pop = units(*[None] * 6)
    grow = ParetoSelector(n_parents=3).plan(pop, random.Random(0), scores=SCORES)
    assert [p.replaces_id for p in grow] == [None, None, None]
    capped = ParetoSelector(n_parents=3, max_population=7).plan(
        pop, random.Random(0), scores=SCORES
    )
    # one free slot, then the worst non-frontier units by mean score: u4 and u5 (both 0.1,
    # the tie broken by id)
    assert [p.replaces_id for p in capped] == [None, "u4", "u5"]
    assert all(p.parent_id in {"u0", "u1", "u2"} for p in capped)
    full = ParetoSelector(n_parents=5, max_population=6).plan(pop, random.Random(0), scores=SCORES)
    victims = [p.replaces_id for p in full]
    assert victims[:3] == ["u4", "u5", "u3"]
    assert len(set(victims)) == len(victims)
    assert not {p.parent_id for p in full} & set(victims)
    assert (
        ParetoSelector(n_parents=5, max_population=6).plan(pop, random.Random(0), scores=SCORES)
        == full
    )


def test_pareto_needs_scores_and_default_size() -> None:
    pop = units(*[None] * 6)
    with pytest.raises(ConfigError, match="per-example scores"):
        ParetoSelector().plan(pop, random.Random(0))
    assert len(ParetoSelector().plan(pop, random.Random(0), scores=SCORES)) == 3
    # units without scores are never parents and are replaced first
    pop7 = [*pop, Unit("new", "fresh", "m")]
    plan = ParetoSelector(n_parents=1, max_population=7).plan(pop7, random.Random(0), scores=SCORES)
    assert plan == [Pairing(plan[0].parent_id, "new")]


def test_selector_registry() -> None:
    assert isinstance(make_selector("tournament"), Selector)
    assert isinstance(make_selector("pareto", n_parents=2), ParetoSelector)
    with pytest.raises(ConfigError, match="available: pareto, tournament"):
        make_selector("roulette")
    with pytest.raises(ConfigError, match="n_parents"):
        make_selector("pareto", n_parents=0)

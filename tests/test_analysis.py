"""pandas views of a real run's store, and ``breed compare``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_helpers import write_config

import optimizer
from optimizer import analysis
from optimizer.cli import main


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("analysis")
    ids = []
    for selection in ("tournament", "pareto"):
        cfg = write_config(tmp, evolution={"selection": selection})
        ids.append(optimizer.run(str(cfg)).run_id)
    return tmp / "breed.db", ids


def test_frames_agree_with_the_store(two_runs: tuple[Path, list[str]]) -> None:
    db, (rid, _) = two_runs
    store = optimizer.open_store(f"sqlite:///{db}")
    try:
        cands = analysis.candidates(store, rid)
        props = analysis.proposals(store, rid)
        ops = analysis.operators(store, rid)
        edges = analysis.lineage(store, rid)
        evals = analysis.evaluations(store, rid, "dev")
        assert len(cands) == len(store.candidates(rid))
        assert len(props) == len(store.proposals(rid))
        assert ops["proposals"].sum() == len(props)
        assert ops["accepted"].sum() == props["accepted"].sum()
        assert set(edges["child_id"]) <= set(cands["candidate_id"])
        assert (edges["child_generation"] > edges["parent_generation"]).all()
        # every dev-scored candidate's fitness is the mean of its stored dev evaluations
        by_cand = evals.groupby("candidate_id")["correct"].mean()
        fit = cands.set_index("candidate_id")["fitness"].dropna()
        assert (abs(by_cand[fit.index] - fit) < 1e-9).all()
    finally:
        store.close()


def test_compare_runs_cli(two_runs: tuple[Path, list[str]], capsys) -> None:
    db, ids = two_runs
    with pytest.raises(SystemExit) as exc:
        main(["compare", *ids, "--db", str(db), "--json"])
    assert exc.value.code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == ids
    assert {r["selection"] for r in rows} == {"tournament", "pareto"}
    assert all(r["best_test"] is not None and r["seed_test"] is not None for r in rows)
    with pytest.raises(SystemExit) as exc:
        main(["compare", "rnope", "--db", str(db)])
    assert exc.value.code == 2
    assert "no run" in capsys.readouterr().err

"""Runs, candidates, lineage, population, proposals and transactions on a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer.errors import NotFoundError, StoreError
from optimizer.store import Store, candidate_hash, open_store
from optimizer.store.ids import ID_PATTERN, new_id


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "breed.db"))
    yield s
    s.close()


def test_ids_are_sortable_and_typed() -> None:
    ids = [new_id("candidate") for _ in range(2000)]
    assert ids == sorted(ids) and len(set(ids)) == 2000
    assert all(ID_PATTERN.match(i) and i[0] == "c" for i in ids)
    assert new_id("run")[0] == "r" and new_id("proposal")[0] == "p"


def test_run_lifecycle(store: Store) -> None:
    run_id = store.create_run("run", "nightly", {"engine": {"pop": 8}}, 42, "payloads")
    store.update_run(run_id, generation=3, rng_state=[3, [1, 2, 3], None],
                     totals={"calls": 10, "cost_usd": 0.5})
    run = store.get_run(run_id)
    assert run.generation == 3 and run.rng_state == [3, [1, 2, 3], None]
    assert run.finished_at is None and run.status == "running"
    assert re.match(r"^\d+\.\d+\.\d+", run.code_version)
    store.finish_run(run_id, "budget_exhausted", {"calls": 12})
    run = store.get_run(run_id)
    assert run.status == "budget_exhausted" and run.totals == {"calls": 12}
    assert run.finished_at is not None and run.finished_at >= run.created_at
    with pytest.raises(StoreError, match="unknown final run status 'running'"):
        store.finish_run(run_id, "running")
    with pytest.raises(StoreError, match="unknown run status"):
        store.update_run(run_id, status="exploded")
    with pytest.raises(NotFoundError):
        store.update_run("r" + "0" * 20, generation=1)


def test_run_prefix_lookup_and_listing(store: Store) -> None:
    a = store.create_run("run", "a", {}, 1, "t")
    b = store.create_run("eval", "b", {}, 2, "t")
    assert [r.id for r in store.list_runs()] == [b, a]  # newest first
    assert [r.id for r in store.list_runs(kind="eval")] == [b]
    common = next(i for i in range(len(a)) if a[i] != b[i])
    assert store.get_run(a[: common + 1]).id == a
    with pytest.raises(NotFoundError, match="ambiguous"):
        store.get_run(a[:common])
    with pytest.raises(NotFoundError, match="no run with id 'rzz'"):
        store.get_run("rzz")
    with pytest.raises(NotFoundError, match="breed runs"):
        store.get_run("r" + "f" * 20)


def test_candidates_are_content_addressed_within_a_run(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    other = store.create_run("run", "o", {}, 1, "t")
    seed = store.add_candidate(run, "Classify the payload.", generation=0, operator="seed",
                               mutation_prompt="Make it better", context=["ex1"])
    assert seed.content_hash == candidate_hash("Classify the payload.", "Make it better", ["ex1"])
    again = store.add_candidate(run, "Classify the payload.", generation=4, operator="lineage",
                                mutation_prompt="Make it better", context=["ex1"],
                                parent_ids=[seed.id])
    assert again == seed  # same row: generation of first appearance, no new edge
    assert store.find_candidate(run, "Classify the payload.", "Make it better", ["ex1"]) == seed
    assert store.find_candidate(run, "Classify the payload.") is None  # context differs
    elsewhere = store.add_candidate(other, "Classify the payload.", generation=0,
                                    operator="seed", mutation_prompt="Make it better",
                                    context=["ex1"])
    assert elsewhere.id != seed.id
    assert len(store.candidates(run)) == 1


def test_update_and_filter_candidates(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    c1 = store.add_candidate(run, "p1", generation=0, operator="seed")
    c2 = store.add_candidate(run, "p2", generation=1, operator="eda", parent_ids=[c1.id],
                             meta={"note": "x"})
    store.update_candidate(c2.id, state="evaluated", fitness=0.75, dev_score=0.5)
    got = store.get_candidate(c2.id[:-2])
    assert (got.state, got.fitness, got.dev_score, got.meta) == ("evaluated", 0.75, 0.5,
                                                                 {"note": "x"})
    assert got.parent_ids == (c1.id,)
    assert [c.id for c in store.candidates(run, generation=1)] == [c2.id]
    assert [c.id for c in store.candidates(run, state=["pending", "evaluated"])] == [c1.id, c2.id]
    assert [c.id for c in store.candidates(run, state="evaluated")] == [c2.id]
    with pytest.raises(StoreError, match="unknown candidate state"):
        store.update_candidate(c1.id, state="great")
    with pytest.raises(NotFoundError):
        store.update_candidate("c" + "0" * 20, fitness=1.0)


def test_unknown_run_or_parent_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.add_candidate("r" + "0" * 20, "p", generation=0, operator="seed")
    run = store.create_run("run", "r", {}, 1, "t")
    with pytest.raises(StoreError, match="does not exist"):
        store.add_candidate(run, "p", generation=1, operator="x", parent_ids=["c" + "1" * 20])
    assert store.candidates(run) == []  # the failed write left nothing behind


def test_ancestors_nearest_first_with_crossover_and_depth_limit(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")

    def add(text: str, gen: int, *parents: str) -> str:
        return store.add_candidate(run, text, generation=gen, operator="op",
                                   parent_ids=list(parents)).id

    root = add("root", 0)
    a = add("a", 1, root)
    b = add("b", 1, root)
    cross = add("a+b", 2, a, b)  # diamond: root reached twice
    child = add("child", 3, cross)
    anc = store.ancestors(child)
    assert [c.id for c in anc] == [cross, a, b, root]
    assert anc[0].parent_ids == (a, b)
    assert [c.id for c in store.ancestors(child, max_depth=2)] == [cross, a, b]
    assert store.ancestors(root) == []
    assert [c.id for c in store.children(root)] == [a, b]
    assert sorted(store.lineage_edges(run)) == sorted(
        [(a, root, 0), (b, root, 0), (cross, a, 0), (cross, b, 1), (child, cross, 0)])


def test_population_checkpoint(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    c = [store.add_candidate(run, f"p{i}", generation=0, operator="seed").id for i in range(3)]
    assert store.population(run) == []
    store.set_population(run, 0, c)
    store.set_population(run, 1, [c[2], c[2], c[0]])
    assert [x.id for x in store.population(run)] == [c[2], c[2], c[0]]
    assert [x.id for x in store.population(run, 0)] == c
    store.set_population(run, 1, [c[1]])  # rewriting a generation replaces it
    assert [x.id for x in store.population(run)] == [c[1]]


def test_proposals_and_operator_stats(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    parent = store.add_candidate(run, "p", generation=0, operator="seed")
    child = store.add_candidate(run, "p2", generation=1, operator="eda",
                                parent_ids=[parent.id])
    store.add_proposal(run, generation=1, operator="eda", parent_ids=[parent.id],
                       mutation_prompt="m1", raw_output="p2", accepted=True,
                       child_candidate_id=child.id, calls=1, tokens=100, cost_usd=0.01,
                       parent_score=0.5, child_score=0.75, minibatch=["e1", "e2"])
    rej = store.add_proposal(run, generation=1, operator="eda", parent_ids=[parent.id],
                             mutation_prompt="m1", raw_output="junk", accepted=False,
                             reason="no improvement on minibatch", calls=1, tokens=50,
                             cost_usd=0.005, parent_score=0.5, child_score=0.25)
    store.add_proposal(run, generation=1, operator="lineage", parent_ids=[],
                       mutation_prompt="m2", raw_output="", accepted=False,
                       reason="unparseable output")
    stored = store.proposals(run, accepted=False)
    assert len(stored) == 2 and stored[0] == rej
    assert rej.reason == "no improvement on minibatch" and rej.parent_ids == (parent.id,)
    stats = {s.operator: s for s in store.operator_stats(run)}
    assert (stats["eda"].proposals, stats["eda"].accepted, stats["eda"].improved) == (2, 1, 1)
    assert stats["eda"].tokens == 150 and stats["eda"].cost_usd == pytest.approx(0.015)
    assert (stats["lineage"].proposals, stats["lineage"].improved) == (1, 0)


def test_transaction_commits_together_or_not_at_all(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    with store.transaction():
        c = store.add_candidate(run, "in tx", generation=1, operator="x")
        assert store.get_candidate(c.id).text == "in tx"  # reads see the open transaction
        store.update_run(run, generation=1, rng_state={"s": 1})
    assert store.get_run(run).generation == 1

    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.transaction():
        store.add_candidate(run, "lost", generation=2, operator="x")
        store.update_run(run, generation=2)
        raise Boom
    assert store.get_run(run).generation == 1
    assert [c.text for c in store.candidates(run)] == ["in tx"]


def test_closed_store_refuses(tmp_path: Path) -> None:
    s = open_store(str(tmp_path / "c.db"))
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.list_runs()

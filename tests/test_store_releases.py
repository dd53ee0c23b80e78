"""Reviews, releases and alias moves: append-only promotion history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer.errors import NotFoundError, StoreError
from optimizer.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "breed.db"))
    yield s
    s.close()


def _two_candidates(store: Store) -> tuple[str, str]:
    run = store.create_run("run", "r", {}, 1, "payloads")
    a = store.add_candidate(run, "prompt A", generation=0, operator="seed").id
    b = store.add_candidate(run, "prompt B", generation=1, operator="eda", parent_ids=[a]).id
    return a, b


def test_reviews_are_recorded_and_validated(store: Store) -> None:
    a, b = _two_candidates(store)
    rev = store.add_review(b[:-3], reviewer="alice", decision="approve", comment="ok",
                           evidence={"gate": "passed", "critical_regressions": 0},
                           release_name="payload-classifier")
    store.add_review(a, reviewer="bob", decision="reject")
    assert rev.candidate_id == b and rev.id.startswith("v")
    assert store.reviews(b) == [rev]
    assert [r.reviewer for r in store.reviews()] == ["alice", "bob"]
    assert store.reviews(release_name="payload-classifier") == [rev]
    with pytest.raises(StoreError, match="unknown review decision"):
        store.add_review(a, reviewer="bob", decision="lgtm")
    with pytest.raises(NotFoundError):
        store.add_review("c" + "0" * 20, reviewer="bob", decision="approve")


def test_release_versions_aliases_and_rollback(store: Store) -> None:
    a, b = _two_candidates(store)
    v1 = store.create_release("payload-classifier", a, created_by="alice")
    v2 = store.create_release("payload-classifier", b, created_by="alice", notes="better",
                              evidence={"dev_gain": 0.04})
    assert (v1.version, v2.version, v2.text, v2.evidence) == (1, 2, "prompt B",
                                                              {"dev_gain": 0.04})
    assert store.get_release("payload-classifier").version == 2
    assert store.get_release("payload-classifier", "1") == v1

    m1 = store.move_alias("payload-classifier", "production", 1, moved_by="alice")
    m2 = store.move_alias("payload-classifier", "production", 2, moved_by="alice",
                          reason="promote v2")
    store.move_alias("payload-classifier", "shadow", 1, moved_by="bob")
    assert (m1.previous_version, m2.version, m2.previous_version) == (None, 2, 1)
    assert store.get_release("payload-classifier", "production") == v2
    back = store.move_alias("payload-classifier", "production", 1, moved_by="carol",
                            reason="rollback: FP spike")
    assert (back.version, back.previous_version) == (1, 2)
    assert {k: r.version for k, r in store.aliases("payload-classifier").items()} == {
        "production": 1, "shadow": 1}
    history = store.alias_history("payload-classifier", "production")
    assert [(h.version, h.previous_version, h.moved_by) for h in history] == [
        (1, None, "alice"), (2, 1, "alice"), (1, 2, "carol")]
    store.move_alias("payload-classifier", "shadow", None, moved_by="bob")  # remove
    assert set(store.aliases("payload-classifier")) == {"production"}
    assert [r.version for r in store.releases("payload-classifier")] == [1, 2]


def test_release_errors_name_the_problem(store: Store) -> None:
    a, _ = _two_candidates(store)
    store.create_release("clf", a, created_by="x")
    with pytest.raises(NotFoundError, match=r"no version 7 \(versions: 1\)"):
        store.get_release("clf", 7)
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        store.get_release("clf", "production")
    with pytest.raises(NotFoundError, match="no version"):
        store.move_alias("clf", "production", 3, moved_by="x")
    with pytest.raises(StoreError, match="invalid alias"):
        store.move_alias("clf", "Prod!", 1, moved_by="x")
    with pytest.raises(StoreError, match="invalid release name"):
        store.create_release("bad name", a, created_by="x")
    assert store.alias_history("clf") == []

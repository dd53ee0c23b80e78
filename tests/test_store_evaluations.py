"""Evaluations (idempotent bulk insert), the response cache and the call log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from optimizer.errors import StoreError
from optimizer.llm.types import CallRecord, ChatRequest, Completion, Usage
from optimizer.store import EvaluationRow, Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "breed.db"))
    yield s
    s.close()


def _rows(run: str, cand: str, n: int, split: str = "dev", start: int = 0) -> list[EvaluationRow]:
    return [
        EvaluationRow(run_id=run, candidate_id=cand, example_id=f"ex{i:04d}", split=split,
                      prediction="sqli" if i % 2 else "benign", label="sqli",
                      correct=bool(i % 2), score=float(i % 2), input_tokens=120,
                      output_tokens=3, cost_usd=1e-5, latency_ms=2.5, cached=i % 3 == 0,
                      feedback="missed the UNION cue" if i % 2 == 0 else None,
                      meta={"family": "sqli"} if i == 0 else None)
        for i in range(start, start + n)
    ]


def test_bulk_insert_is_idempotent(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    cand = store.add_candidate(run, "p", generation=0, operator="seed").id
    assert store.add_evaluations(_rows(run, cand, 300)) == 300
    assert store.add_evaluations(_rows(run, cand, 300)) == 0  # same rows again: nothing new
    assert store.add_evaluations(_rows(run, cand, 100, start=250)) == 50  # overlap
    assert store.add_evaluations(_rows(run, cand, 10, split="test")) == 10  # other split
    stored = store.evaluations(cand, "dev")
    assert len(stored) == 350
    assert len({(e.example_id, e.repeat) for e in stored}) == 350
    first = stored[0]
    assert (first.example_id, first.correct, first.cached, first.meta) == (
        "ex0000", False, True, {"family": "sqli"})
    assert first.feedback == "missed the UNION cue" and stored[1].meta is None
    assert len(store.evaluations(cand)) == 360
    assert store.evaluated_example_ids(cand, "test") == {f"ex{i:04d}" for i in range(10)}
    assert store.evaluation_counts([cand, "c" + "0" * 20], "dev") == {cand: 350,
                                                                     "c" + "0" * 20: 0}


def test_repeats_are_distinct_rows(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    cand = store.add_candidate(run, "p", generation=0, operator="seed").id
    base = _rows(run, cand, 1)[0]
    from dataclasses import replace

    rows = [replace(base, repeat=k) for k in range(3)]
    assert store.add_evaluations(rows + rows) == 3
    assert store.evaluated_example_ids(cand, "dev", repeat=2) == {"ex0000"}


def test_bad_split_and_unknown_candidate_refused(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    cand = store.add_candidate(run, "p", generation=0, operator="seed").id
    with pytest.raises(StoreError, match="unknown split"):
        store.add_evaluations(_rows(run, cand, 1, split="holdout"))
    with pytest.raises(StoreError, match="does not exist"):
        store.add_evaluations(_rows(run, "c" + "0" * 20, 1))


def test_iter_evaluations_pages_through_a_run(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    cands = [store.add_candidate(run, f"p{i}", generation=0, operator="seed").id
             for i in range(3)]
    for c in cands:
        store.add_evaluations(_rows(run, c, 40))
    got = list(store.iter_evaluations(run, "dev", page_size=7))
    assert len(got) == 120 and len({e.id for e in got}) == 120
    assert [e.id for e in got] == sorted(e.id for e in got)


def _completion(text: str) -> Completion:
    return Completion(text=text, model="local/reference", usage=Usage(11, 2), cost_usd=0.002,
                      latency_ms=12.0, finish_reason="stop")


def test_response_cache_round_trip_and_first_put_wins(tmp_path: Path) -> None:
    db = str(tmp_path / "cache.db")
    req = ChatRequest(model="local/reference", messages=({"role": "user", "content": "hi"},))
    key = req.request_hash()
    store = open_store(db)
    cache = store.response_cache()
    assert cache.get(key) is None
    cache.put(key, _completion("sqli"))
    cache.put(key, _completion("benign"))  # ignored: the first value stays
    hit = cache.get(key)
    assert hit is not None and hit.text == "sqli" and hit.cached and hit.request_hash == key
    assert hit.usage == Usage(11, 2) and hit.cost_usd == pytest.approx(0.002)
    store.close()

    reopened = open_store(db, create=False)
    again = reopened.response_cache().get(key)
    assert again is not None and again.text == "sqli" and len(reopened.response_cache()) == 1
    reopened.close()


def _record(i: int, **tags: object) -> CallRecord:
    return CallRecord(request_hash=f"{i:064x}", model="local/reference", role="task",
                      input_tokens=10, output_tokens=1, cost_usd=0.0001, latency_ms=3.0,
                      cached=i % 2 == 0, error=None if i % 5 else "timeout", tags=tags,
                      created_at=time.time())


def test_call_log_buffers_and_flushes(tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    store = open_store(db)
    log = store.call_log()
    assert store.call_log() is log
    log.record_many([_record(i, run_id="r1", candidate_id="c1", example_id=f"e{i}", shard=2)
                     for i in range(10)])
    assert log.pending == 10 and log.calls() == []  # buffered, not written yet
    log.flush()
    rows = log.calls(run_id="r1")
    assert len(rows) == 10 and log.pending == 0
    assert (rows[0].candidate_id, rows[0].tags, rows[0].error) == ("c1", {"shard": 2}, "timeout")
    log.record_many([_record(100 + i) for i in range(600)])  # crosses flush_every=500
    assert log.pending < 500 and len(log.calls()) >= 510
    log.record_many([_record(9999)])
    store.close()  # close flushes the rest
    reopened = open_store(db, create=False)
    assert len(reopened.call_log().calls()) == 611
    reopened.close()


def test_portable_insert_path_is_idempotent_too(store: Store) -> None:
    """The fallback used for dialects without ON CONFLICT (filter, then insert)."""

    class PortableStore(Store):
        def insert_ignore(self, conn, table, keys):  # type: ignore[no-untyped-def]
            return None

    portable = PortableStore(store._engine, store.url)
    run = portable.create_run("run", "r", {}, 1, "t")
    cand = portable.add_candidate(run, "p", generation=0, operator="seed").id
    rows = _rows(run, cand, 20)
    assert portable.add_evaluations(rows + rows[:5]) == 20
    assert portable.add_evaluations(_rows(run, cand, 30)) == 10
    assert len(portable.evaluations(cand)) == 30
    key = "f" * 64
    portable.response_cache().put(key, _completion("a"))
    portable.response_cache().put(key, _completion("b"))
    hit = portable.response_cache().get(key)
    assert hit is not None and hit.text == "a"


def test_non_json_meta_gives_a_plain_message(store: Store) -> None:
    run = store.create_run("run", "r", {}, 1, "t")
    with pytest.raises(StoreError, match="not JSON-serializable"):
        store.add_candidate(run, "p", generation=0, operator="seed", meta={"when": object()})


def test_cache_writes_are_buffered_until_a_flush_point(tmp_path: Path) -> None:
    db = str(tmp_path / "buf.db")
    writer, reader = open_store(db), open_store(db)
    cache, seen = writer.response_cache(), reader.response_cache()
    cache.put("a" * 64, _completion("first"))
    assert cache.get("a" * 64) is not None  # visible to its own store at once
    assert seen.get("a" * 64) is None  # not written yet
    writer.call_log().flush()  # the gateway flushes the log after each batch: cache goes too
    hit = seen.get("a" * 64)
    assert hit is not None and hit.text == "first"

    run = writer.create_run("run", "r", {}, 1, "t")
    with writer.transaction():
        writer.add_candidate(run, "p", generation=0, operator="seed")
        cache.put("b" * 64, _completion("second"))
    hit = seen.get("b" * 64)  # committed with the transaction
    assert hit is not None and hit.text == "second"

    import threading

    for i in range(64):  # a full buffer writes itself
        cache.put(f"{i:064x}", _completion(str(i)))
    got: list[Completion | None] = []
    t = threading.Thread(target=lambda: got.append(seen.get(f"{63:064x}")))
    t.start()
    t.join()
    assert got[0] is not None and got[0].text == "63"
    writer.close()
    reader.close()

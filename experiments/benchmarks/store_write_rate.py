"""Write rate of the store: evaluation rows per second into a real SQLite file.

Writes ``--rows`` (default 100,000) evaluation rows through ``Store.add_evaluations`` in
batches of ``--batch`` rows (default 1,000), one transaction per batch, over 100 candidates,
into a fresh WAL-mode SQLite file. Also measures: inserting the same rows again (the
idempotent no-op path of a resumed run), other batch sizes, reading them back with
``iter_evaluations``, the response cache and the call log; and the peak resident memory.

Usage: python experiments/benchmarks/store_write_rate.py [--rows 100000] [--batch 1000]
           [--dir DIR] [--out experiments/results/store_write_rate.json]
Writes the JSON result file and prints a short table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy

from optimizer.llm.types import CallRecord, Completion, Usage
from optimizer.store import EvaluationRow, Store, open_store

ROOT = Path(__file__).resolve().parents[2]
N_CANDIDATES = 100


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_batch(run: str, cands: list[str], start: int, n: int) -> list[EvaluationRow]:
    per_cand = 1_000_000
    rows = []
    for i in range(start, start + n):
        c = cands[i % len(cands)]
        ok = i % 3 != 0
        rows.append(EvaluationRow(
            run_id=run, candidate_id=c, example_id=f"payload-{i // len(cands) % per_cand:06d}",
            split="dev", prediction="sqli" if ok else "benign", label="sqli", correct=ok,
            score=1.0 if ok else 0.0, input_tokens=412, output_tokens=4, cost_usd=6.3e-5,
            latency_ms=180.0, cached=False, error=None,
            feedback=None if ok else "expected sqli, got benign: UNION SELECT not recognised",
        ))
    return rows


def write_rows(store: Store, run: str, cands: list[str], total: int, batch: int) -> dict:
    t_build = t_write = 0.0
    inserted = 0
    for start in range(0, total, batch):
        t0 = time.perf_counter()
        rows = make_batch(run, cands, start, min(batch, total - start))
        t1 = time.perf_counter()
        inserted += store.add_evaluations(rows)
        t_write += time.perf_counter() - t1
        t_build += t1 - t0
    return {
        "rows": total, "batch": batch, "inserted": inserted, "write_s": round(t_write, 3),
        "rows_per_s": round(total / t_write), "build_rows_s": round(t_build, 3),
        "rows_per_s_incl_build": round(total / (t_write + t_build)),
    }


def fresh_store(folder: Path, name: str, n_cands: int = N_CANDIDATES) -> tuple[Store, str, list]:
    store = open_store(str(folder / name))
    run = store.create_run("run", "bench", {"bench": name}, 0, "payloads")
    with store.transaction():
        cands = [store.add_candidate(run, f"prompt {i}", generation=0, operator="seed").id
                 for i in range(n_cands)]
    return store, run, cands


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--dir", type=Path, default=None, help="folder for the database files")
    ap.add_argument("--out", type=Path, default=ROOT / "experiments/results/store_write_rate.json")
    args = ap.parse_args()

    rss_start = rss_mb()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="store-bench-") as tmp:
        folder = Path(tmp)
        store, run, cands = fresh_store(folder, "main.db")
        main_run = write_rows(store, run, cands, args.rows, args.batch)
        rss_after_write = rss_mb()
        again = write_rows(store, run, cands, args.rows, args.batch)  # all duplicates
        t0 = time.perf_counter()
        n_read = sum(1 for _ in store.iter_evaluations(run, "dev"))
        read_s = time.perf_counter() - t0
        db_bytes = (folder / "main.db").stat().st_size + sum(
            p.stat().st_size for p in folder.glob("main.db-*"))

        cache = store.response_cache()
        comp = Completion(text="sqli", model="local/reference", usage=Usage(400, 3))
        t0 = time.perf_counter()
        for i in range(2_000):
            cache.put(f"{i:064x}", comp)
        put_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        hits = sum(cache.get(f"{i:064x}") is not None for i in range(2_000))
        get_s = time.perf_counter() - t0
        log = store.call_log()
        recs = [CallRecord(request_hash=f"{i:064x}", model="local/reference", role="task",
                           input_tokens=400, output_tokens=3, cost_usd=0.0, latency_ms=1.0,
                           cached=False, error=None, tags={"run_id": run, "example_id": str(i)},
                           created_at=time.time()) for i in range(20_000)]
        t0 = time.perf_counter()
        for k in range(0, len(recs), 100):
            log.record_many(recs[k:k + 100])
        log.flush()
        log_s = time.perf_counter() - t0
        store.close()

        sizes = []
        for b in (100, 10_000):
            s, r, c = fresh_store(folder, f"b{b}.db")
            sizes.append(write_rows(s, r, c, args.rows, b))
            s.close()

    result = {
        "benchmark": "store_write_rate",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": {
            "python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__,
            "sqlite": sqlite3.sqlite_version, "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(), "platform": platform.platform(),
        },
        "settings": {"journal_mode": "wal", "synchronous": "NORMAL", "candidates": N_CANDIDATES},
        "write": main_run,
        "rewrite_same_rows": again,
        "other_batch_sizes": sizes,
        "read_back": {"rows": n_read, "seconds": round(read_s, 3),
                      "rows_per_s": round(n_read / read_s)},
        "db_megabytes": round(db_bytes / 1e6, 1),
        "response_cache": {"puts": 2_000, "put_per_s": round(2_000 / put_s),
                           "gets": 2_000, "hits": hits, "get_per_s": round(2_000 / get_s)},
        "call_log": {"records": len(recs), "records_per_s": round(len(recs) / log_s)},
        "peak_rss_mb": {"at_start": round(rss_start, 1),
                        "after_100k_write": round(rss_after_write, 1),
                        "at_end": round(rss_mb(), 1)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    w = main_run
    sys.stdout.write(
        f"write   {w['rows']:>7} rows, batch {w['batch']:>5}: {w['rows_per_s']:>8} rows/s "
        f"({w['rows_per_s_incl_build']} incl. building rows), inserted {w['inserted']}\n"
        f"rewrite {again['rows']:>7} rows (all duplicates): {again['rows_per_s']:>8} rows/s, "
        f"inserted {again['inserted']}\n"
    )
    for s in sizes:
        sys.stdout.write(f"write   {s['rows']:>7} rows, batch {s['batch']:>5}: "
                         f"{s['rows_per_s']:>8} rows/s\n")
    sys.stdout.write(
        f"read back {n_read} rows: {result['read_back']['rows_per_s']} rows/s; "
        f"db {result['db_megabytes']} MB\n"
        f"cache put {result['response_cache']['put_per_s']}/s, get "
        f"{result['response_cache']['get_per_s']}/s; call log "
        f"{result['call_log']['records_per_s']} records/s\n"
        f"peak RSS MB: {result['peak_rss_mb']}\nwrote {args.out}\n"
    )


if __name__ == "__main__":
    main()

"""Two processes on one SQLite file: readers never wait for a writer; writers queue."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.errors import StoreError
from optimizer.store import open_store

READER = """
import json, sys, time
from optimizer.errors import StoreError
from optimizer.store import open_store
store = open_store(sys.argv[1], create=False, busy_timeout_s=float(sys.argv[2]))
names = sorted(r.name for r in store.list_runs())
write = "ok"
if sys.argv[3] == "write":
    try:
        store.create_run("run", "from-child", {}, 0, "t")
    except StoreError as exc:
        write = str(exc)
finished = time.time()
store.close()
print(json.dumps({"names": names, "write": write, "finished": finished}))
"""


def _child(db: Path, busy: float, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(busy), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _result(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_reader_is_not_blocked_by_an_open_write_transaction(tmp_path: Path) -> None:
    db = tmp_path / "breed.db"
    store = open_store(str(db))
    store.create_run("run", "committed", {}, 1, "t")
    with store.transaction():
        store.create_run("run", "uncommitted", {}, 2, "t")
        reader = _result(_child(db, 0.3, "write"))
        # the reader saw the committed state at once; its write gave up after 0.3 s
        assert reader["names"] == ["committed"]
        assert "is locked by another writer" in reader["write"]
    after = _result(_child(db, 5.0, "read"))
    assert after["names"] == ["committed", "uncommitted"]
    store.close()


def test_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    db = tmp_path / "breed.db"
    store = open_store(str(db))
    store.create_run("run", "first", {}, 1, "t")
    hold = 1.5
    with store.transaction():
        store.create_run("run", "holder", {}, 2, "t")
        writer = _child(db, 30.0, "write")
        time.sleep(hold)  # the child starts, reads, then queues on the write lock
    committed = time.time()
    result = _result(writer)
    assert result["write"] == "ok"
    assert result["finished"] >= committed - 0.05  # it could only write after our commit
    names = sorted(r.name for r in store.list_runs())
    assert names == ["first", "from-child", "holder"]
    store.close()


def test_same_process_second_writer_times_out_with_plain_message(tmp_path: Path) -> None:
    db = tmp_path / "breed.db"
    holder = open_store(str(db))
    other = open_store(str(db), busy_timeout_s=0.2)
    with holder.transaction():
        holder.create_run("run", "a", {}, 1, "t")
        t0 = time.monotonic()
        with pytest.raises(StoreError, match=r"locked by another writer \(waited 0.2 s\)"):
            other.create_run("run", "b", {}, 1, "t")
        assert time.monotonic() - t0 >= 0.15
        assert [r.name for r in other.list_runs()] == []  # reads still work
    assert [r.name for r in other.list_runs()] == ["a"]
    holder.close()
    other.close()


CREATOR = """
import sys
from optimizer.store import open_store
store = open_store(sys.argv[1])
store.create_run("run", sys.argv[2], {}, 0, "t")
store.close()
"""


def test_processes_creating_the_same_new_database_do_not_collide(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    procs = [
        subprocess.Popen([sys.executable, "-c", CREATOR, str(db), f"p{i}"],
                         stderr=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    store = open_store(str(db), create=False)
    assert sorted(r.name for r in store.list_runs()) == ["p0", "p1", "p2"]
    store.close()

"""In-memory ``ResponseCache`` and ``CallLog`` for tests, dry runs and benchmarks.

Contracts: same as the protocols in ``optimizer.llm.types``. ``MemoryCache.put`` keeps the first
value for a key. ``MemoryCallLog`` keeps every record in ``records`` (``record_many`` appends,
``flush`` is a no-op); ``batches`` counts ``record_many`` calls so tests can check batching.
Both are safe from one asyncio thread and, with their lock, from several threads.
"""

from __future__ import annotations

import threading

from optimizer.llm.types import CallRecord, Completion


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[str, Completion] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        return self._data.get(key)

    def put(self, key: str, completion: Completion) -> None:
        with self._lock:
            self._data.setdefault(key, completion)

    def __len__(self) -> int:
        return len(self._data)


class MemoryCallLog:
    def __init__(self) -> None:
        self.records: list[CallRecord] = []
        self.batches = 0
        self._lock = threading.Lock()

    def record_many(self, records: list[CallRecord]) -> None:
        with self._lock:
            self.records.extend(records)
            self.batches += 1

    def flush(self) -> None:
        return None

"""Short, sortable, prefix-friendly identifiers for runs, candidates, proposals and reviews.

Format: one lowercase kind letter, 12 hex digits of milliseconds since the Unix epoch, 8 hex
digits that are random for the first id of a millisecond and incremented after that (the ULID
"monotonic" rule), e.g. ``r019ae5c1d2f3a1b2c3d4``. Properties:

- ids of one kind sort in creation order within a process (and across processes to the
  millisecond), so ``ORDER BY id`` is creation order;
- the kind letter (``r`` run, ``c`` candidate, ``p`` proposal, ``v`` review) tells what an id
  names in logs and on the command line;
- any unique prefix is accepted by the store's lookups (``Store.get_run("r019ae5c1")``).

The random part comes from ``os.urandom``: ids are identities, not experiment randomness, so
they deliberately do not depend on the run seed (content hashes do not depend on ids).
"""

from __future__ import annotations

import os
import re
import threading
import time

KINDS = {"run": "r", "candidate": "c", "proposal": "p", "review": "v"}
ID_PATTERN = re.compile(r"^[a-z][0-9a-f]{20}$")
_PREFIX_PATTERN = re.compile(r"^[a-z][0-9a-f]*$")

_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, counter) of the last id issued by this process


def new_id(kind: str) -> str:
    """Return a new id for ``kind`` (one of ``KINDS``)."""
    global _last
    letter = KINDS[kind]
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_counter = _last
        if ms <= last_ms:
            ms, counter = last_ms, (last_counter + 1) & 0xFFFFFFFF
        else:
            counter = int.from_bytes(os.urandom(4), "big") >> 1  # leave room to increment
        _last = (ms, counter)
    return f"{letter}{ms:012x}{counter:08x}"


def is_id_prefix(text: str) -> bool:
    """True when ``text`` could be (a prefix of) an id: a kind letter and hex digits."""
    return bool(_PREFIX_PATTERN.match(text))

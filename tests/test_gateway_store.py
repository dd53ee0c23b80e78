"""The gateway on the real SQLite store: persistent cache across reopen, call log rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.llm.gateway import Gateway
from optimizer.llm.settings import GatewaySettings
from optimizer.store import open_store
from optimizer.tasks.render import render_messages


def test_cache_and_call_log_persist_in_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'breed.db'}"
    msgs = [render_messages("Label it: benign or sqli.", f"id={i}", ["benign", "sqli"])
            for i in range(6)]

    store = open_store(url)
    gw = Gateway(GatewaySettings(concurrency=3), store.response_cache(), store.call_log())
    first = gw.complete_many_sync([gw.request("task", m, tags={"run_id": "r1"}) for m in msgs])
    store.flush()
    store.close()

    store = open_store(url)
    gw2 = Gateway(GatewaySettings(), store.response_cache(), store.call_log())
    second = gw2.complete_many_sync([gw2.request("task", m, tags={"run_id": "r2"}) for m in msgs])
    store.flush()
    assert gw2.stats().calls == 0 and gw2.stats().cache_hits == 6
    assert [c.text for c in second] == [c.text for c in first]
    assert all(c.cached and c.cost_usd == 0.0 for c in second)
    rows = store.call_log().calls()
    assert len(rows) == 12
    assert sum(1 for r in rows if r.cached) == 6
    assert {r.run_id for r in rows} == {"r1", "r2"}
    assert sum(r.cost_usd for r in rows) == pytest.approx(gw.stats().cost_usd, rel=1e-9)
    store.close()

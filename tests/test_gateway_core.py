"""Gateway core on the in-process reference backend: cache, budget, stats, log, roles."""

from __future__ import annotations

import asyncio
import time

import pytest

from optimizer.errors import BudgetExceeded, ConfigError, LLMError
from optimizer.llm import provider
from optimizer.llm.budget import Budget
from optimizer.llm.gateway import Gateway
from optimizer.llm.memory import MemoryCache, MemoryCallLog
from optimizer.llm.settings import GatewaySettings
from optimizer.llm.types import Completion
from optimizer.tasks.render import render_messages

LABELS = ["benign", "sqli", "xss"]
PROMPT = "Classify the payload. Labels: benign, sqli, xss. Answer with the label."


def msgs(i: int | str) -> tuple[dict[str, str], ...]:
    return render_messages(PROMPT, f"payload number {i} <b>", LABELS)


def make(**kw) -> tuple[Gateway, MemoryCache, MemoryCallLog]:
    budget = kw.pop("budget", None)
    cache, log = MemoryCache(), MemoryCallLog()
    return Gateway(GatewaySettings(**kw), cache, log, budget), cache, log


def test_cache_hit_makes_no_model_call_and_is_logged() -> None:
    gw, cache, log = make()
    req = gw.request("task", msgs(1))
    first = gw.complete_sync(req)
    second = gw.complete_sync(req)
    st = gw.stats()
    assert st.calls == 1 and st.cache_hits == 1
    assert not first.cached and second.cached and second.text == first.text
    assert second.cost_usd == 0.0 and second.usage == first.usage
    assert [r.cached for r in log.records] == [False, True]
    assert len(cache) == 1


def test_sampling_without_seed_is_not_cached_but_seeded_is() -> None:
    gw, cache, _ = make()
    unseeded = gw.request("mutation", msgs(2))
    assert unseeded.temperature == 0.7
    gw.complete_sync(unseeded)
    gw.complete_sync(unseeded)
    assert gw.stats().calls == 2 and len(cache) == 0
    seeded = gw.request("mutation", msgs(2), seed=3)
    gw.complete_sync(seeded)
    gw.complete_sync(seeded)
    assert gw.stats().calls == 3 and gw.stats().cache_hits == 1


def test_identical_requests_in_flight_share_one_call() -> None:
    gw, _, log = make(simulated_latency_s=0.05)
    req = gw.request("task", msgs(3))
    out = gw.complete_many_sync([req] * 5)
    assert gw.stats().calls == 1 and gw.stats().cache_hits == 4
    assert len({c.text for c in out}) == 1
    assert len(log.records) == 5


def test_no_cache_means_every_call_is_made() -> None:
    gw = Gateway(GatewaySettings(), cache=None)
    req = gw.request("task", msgs(4))
    gw.complete_sync(req)
    gw.complete_sync(req)
    assert gw.stats().calls == 2 and gw.stats().cache_hits == 0


def test_budget_max_calls_is_exact_and_stops_the_rest() -> None:
    budget = Budget(max_calls=5)
    gw, _, log = make(concurrency=3, budget=budget)
    reqs = [gw.request("task", msgs(i)) for i in range(20)]
    out = gw.complete_many_sync(reqs, return_exceptions=True)
    ok = [o for o in out if not isinstance(o, BaseException)]
    refused = [o for o in out if isinstance(o, BudgetExceeded)]
    assert len(ok) == 5 and len(refused) == 15
    assert budget.used_calls == 5 and gw.stats().calls == 5
    assert gw.stats().budget_refusals == 15
    assert len(log.records) == 5  # refusals are not calls
    with pytest.raises(BudgetExceeded, match="max_calls"):
        gw.complete_sync(gw.request("task", msgs(99)))


def test_budget_tokens_overshoot_bounded_by_concurrency() -> None:
    gw0, _, _ = make()
    one = gw0.complete_sync(gw0.request("task", msgs(0))).usage.total_tokens
    limit = one * 10
    budget = Budget(max_tokens=limit)
    gw, _, _ = make(concurrency=4, budget=budget, default_output_tokens=1)
    out = gw.complete_many_sync(
        [gw.request("task", msgs(i)) for i in range(40)], return_exceptions=True
    )
    ok = [o for o in out if not isinstance(o, BaseException)]
    assert 1 <= len(ok) < 40
    assert budget.used_tokens <= limit + 4 * one * 2
    assert budget.exhausted == "tokens"


def test_budget_usd_uses_prices() -> None:
    budget = Budget(max_usd=0.5)
    gw, _, _ = make(budget=budget, prices={"local/reference": {"input_per_mtok": 1000.0,
                                                              "output_per_mtok": 1000.0}})
    with pytest.raises(BudgetExceeded, match="usd"):
        gw.complete_many_sync([gw.request("task", msgs(i)) for i in range(50)])
    assert 0 < budget.used_calls < 50


def test_stats_cost_matches_price_times_tokens() -> None:
    gw, _, log = make(prices={"local/reference": {"input_per_mtok": 2.0, "output_per_mtok": 8.0}})
    out = gw.complete_many_sync([gw.request("task", msgs(i)) for i in range(10)])
    n_in = sum(c.usage.input_tokens for c in out)
    n_out = sum(c.usage.output_tokens for c in out)
    st = gw.stats()
    assert (st.input_tokens, st.output_tokens) == (n_in, n_out)
    assert st.cost_usd == pytest.approx(n_in * 2.0 / 1e6 + n_out * 8.0 / 1e6, rel=1e-9)
    assert sum(r.cost_usd for r in log.records) == pytest.approx(st.cost_usd, rel=1e-9)


def test_default_price_is_the_provider_price() -> None:
    gw, _, _ = make()
    c = gw.complete_sync(gw.request("task", msgs(5)))
    s = provider.settings()
    u = c.usage
    want = u.input_tokens * s.input_per_mtok / 1e6 + u.output_tokens * s.output_per_mtok / 1e6
    assert c.cost_usd == pytest.approx(want, rel=1e-9) and c.cost_usd > 0


def test_call_log_is_batched() -> None:
    gw, _, log = make(log_batch_size=10)
    gw.complete_many_sync([gw.request("task", msgs(i), tags={"i": i}) for i in range(25)])
    assert len(log.records) == 25 and log.batches == 3
    assert sorted(r.tags["i"] for r in log.records) == list(range(25))
    assert all(r.role == "task" and r.error is None for r in log.records)


def test_progress_and_order() -> None:
    gw, _, _ = make(simulated_latency_s=0.01)
    seen: list[tuple[int, int]] = []
    reqs = [gw.request("task", msgs(i)) for i in range(8)]
    out = gw.complete_many_sync(reqs, progress=lambda d, t: seen.append((d, t)))
    assert [c.request_hash for c in out] == [r.request_hash() for r in reqs]
    assert seen[-1] == (8, 8) and len(seen) == 8


def test_direct_and_litellm_transports_agree() -> None:
    direct, _, _ = make(transport="direct")
    via, _, _ = make(transport="litellm")
    for i in range(3):
        a = direct.complete_sync(direct.request("task", msgs(i)))
        b = via.complete_sync(via.request("task", msgs(i)))
        assert (a.text, a.usage) == (b.text, b.usage)
        assert a.cost_usd == pytest.approx(b.cost_usd, rel=1e-9)


def test_gateway_timeout_on_local_model() -> None:
    gw, _, log = make(simulated_latency_s=0.5, timeout_s=0.05, max_retries=1,
                      backoff_base_s=0.01)
    t0 = time.perf_counter()
    with pytest.raises(LLMError, match=r"local/reference.*2 attempt"):
        gw.complete_sync(gw.request("task", msgs(6)))
    assert time.perf_counter() - t0 < 0.4
    assert gw.stats().errors == 1 and gw.stats().retries == 1
    assert log.records[-1].error and "LLMError" in log.records[-1].error


def test_roles_and_sync_guard() -> None:
    gw, _, _ = make()
    with pytest.raises(ConfigError, match="unknown model role"):
        gw.request("critic", msgs(1))
    req = gw.request("adversary", msgs(1), max_tokens=5, temperature=0.0)
    assert (req.role, req.max_tokens, req.temperature) == ("adversary", 5, 0.0)

    async def inside() -> None:
        with pytest.raises(ConfigError, match="event loop"):
            gw.complete_sync(req)

    asyncio.run(inside())


def test_budget_validation_and_snapshot() -> None:
    with pytest.raises(ConfigError):
        Budget(max_calls=-1)
    b = Budget(max_calls=2, used_calls=1)
    r = b.reserve()
    with pytest.raises(BudgetExceeded):
        b.reserve()
    b.commit(r, 10, 0.5)
    snap = b.snapshot()
    assert (snap.used_calls, snap.used_tokens, snap.inflight_calls) == (2, 10, 0)
    assert snap.exhausted == "calls"


def test_wall_time_budget_and_from_config() -> None:
    from optimizer.config import parse_config

    cfg = parse_config({"budget": {"max_calls": 7, "max_wall_s": 0.05}, "llm": {"concurrency": 3}})
    budget = Budget.from_config(cfg.budget, used_calls=2)
    assert (budget.max_calls, budget.used_calls, budget.max_wall_s) == (7, 2, 0.05)
    settings = GatewaySettings.from_config(cfg)
    assert settings.concurrency == 3 and settings.role("mutation").temperature == 0.7
    assert settings.role("task").model == "local/reference"
    gw = Gateway(settings, budget=budget)
    gw.complete_sync(gw.request("task", msgs(1)))
    time.sleep(0.06)
    with pytest.raises(BudgetExceeded, match="wall_s"):
        gw.complete_sync(gw.request("task", msgs(2)))
    assert budget.snapshot().used_calls == 3


def test_waiter_survives_cancelled_owner() -> None:
    gw, _, log = make(simulated_latency_s=0.1)
    req = gw.request("task", msgs(8))

    async def main() -> Completion:
        owner = asyncio.create_task(gw.complete(req))
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(gw.complete(req))
        await asyncio.sleep(0.01)
        owner.cancel()
        return await waiter

    out = asyncio.run(main())
    assert out.text and not out.cached
    assert gw.stats().calls == 2  # the cancelled call counts: it may have been billed
    assert [r.error is not None for r in log.records] == [True, False]

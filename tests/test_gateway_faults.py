"""The gateway over the real wire path: litellm -> loopback fault-injecting OpenAI server."""

from __future__ import annotations

import time

import pytest

from optimizer.errors import BudgetExceeded, LLMError
from optimizer.llm.budget import Budget
from optimizer.llm.faultserver import Fault, FaultServer
from optimizer.llm.gateway import Gateway
from optimizer.llm.memory import MemoryCache, MemoryCallLog
from optimizer.llm.reference import ReferenceModel
from optimizer.llm.settings import GatewaySettings, RoleSettings
from optimizer.tasks.render import render_messages

MODEL = "openai/ref"
KEY_ENV = "BREED_FAULT_TEST_KEY"
PROMPT = "Classify the payload. Labels: benign, sqli, xss. Answer with the label."


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "x")


def msgs(i: int) -> tuple[dict[str, str], ...]:
    return render_messages(PROMPT, f"id={i}' OR 1=1 --", ["benign", "sqli", "xss"])


def gateway(server: FaultServer, budget: Budget | None = None, **kw) -> Gateway:
    role = RoleSettings(model=MODEL, api_base=server.base_url, api_key_env=KEY_ENV)
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("timeout_s", 5.0)
    settings = GatewaySettings(roles={"task": role}, **kw)
    return Gateway(settings, MemoryCache(), MemoryCallLog(), budget)


def test_plain_call_answers_with_the_reference_model() -> None:
    with FaultServer() as fs:
        gw = gateway(fs)
        c = gw.complete_sync(gw.request("task", msgs(1)))
    assert c.text == ReferenceModel().respond(msgs(1))
    assert c.usage.input_tokens > 0 and c.usage.output_tokens > 0
    assert fs.requests == 1 and fs.bodies[0]["model"] == "ref"


def test_retry_after_is_honoured() -> None:
    with FaultServer(script=[Fault.rate_limit(retry_after=1)]) as fs:
        gw = gateway(fs)
        t0 = time.perf_counter()
        c = gw.complete_sync(gw.request("task", msgs(2)))
        elapsed = time.perf_counter() - t0
    assert elapsed >= 1.0
    assert c.text and fs.requests == 2 and gw.stats().retries == 1


def test_server_error_is_retried_then_succeeds() -> None:
    with FaultServer(script=[Fault.error(500), Fault.error(503)]) as fs:
        gw = gateway(fs)
        c = gw.complete_sync(gw.request("task", msgs(3)))
    assert c.text == ReferenceModel().respond(msgs(3))
    assert fs.requests == 3 and gw.stats().retries == 2 and gw.stats().errors == 0


def test_timeout_is_enforced_by_the_gateway() -> None:
    with FaultServer(script=[Fault.hang(10)]) as fs:
        gw = gateway(fs, timeout_s=0.3)
        t0 = time.perf_counter()
        c = gw.complete_sync(gw.request("task", msgs(4)))
        elapsed = time.perf_counter() - t0
    assert c.text and fs.requests == 2
    assert 0.3 <= elapsed < 2.0


def test_malformed_body_retried_then_llm_error() -> None:
    with FaultServer(script=[Fault.malformed()] * 3) as fs:
        gw = gateway(fs, max_retries=2)
        with pytest.raises(LLMError) as info:
            gw.complete_sync(gw.request("task", msgs(5)))
        base = fs.base_url
    assert fs.requests == 3
    msg = str(info.value)
    assert MODEL in msg and base in msg and "3 attempt" in msg
    rec = gw.call_log.records[-1]  # type: ignore[union-attr]
    assert rec.error and not rec.cached and gw.stats().errors == 1


def test_auth_error_is_not_retried_and_names_the_key() -> None:
    with FaultServer(script=[Fault.error(401)]) as fs:
        gw = gateway(fs)
        with pytest.raises(LLMError, match=KEY_ENV):
            gw.complete_sync(gw.request("task", msgs(6)))
    assert fs.requests == 1


def test_missing_key_env_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with FaultServer() as fs:
        gw = gateway(fs)
        with pytest.raises(LLMError, match=f"{KEY_ENV} is not set"):
            gw.complete_sync(gw.request("task", msgs(7)))
    assert fs.requests == 0


def test_budget_stops_calls_with_concurrency() -> None:
    n, conc = 5, 3
    budget = Budget(max_calls=n)
    with FaultServer(latency_s=0.02) as fs:
        gw = gateway(fs, budget, concurrency=conc)
        with pytest.raises(BudgetExceeded):
            gw.complete_many_sync([gw.request("task", msgs(i)) for i in range(20)])
    assert fs.requests <= n + conc
    # calls cancelled mid-flight (after the first refusal) count even if the server missed them
    assert fs.requests <= budget.used_calls == gw.stats().calls <= n


def test_cache_hit_second_time_makes_no_call() -> None:
    with FaultServer() as fs:
        gw = gateway(fs)
        reqs = [gw.request("task", msgs(i)) for i in range(4)]
        first = gw.complete_many_sync(reqs)
        calls = fs.requests
        second = gw.complete_many_sync(reqs)
    assert calls == 4 and fs.requests == 4
    assert all(c.cached for c in second) and [c.text for c in first] == [c.text for c in second]


def test_cost_accounting_matches_price_times_tokens() -> None:
    prices = {MODEL: {"input_per_mtok": 3.0, "output_per_mtok": 15.0}}
    with FaultServer() as fs:
        gw = gateway(fs, prices=prices)
        out = gw.complete_many_sync([gw.request("task", msgs(i)) for i in range(3)])
    for c in out:
        want = c.usage.input_tokens * 3.0 / 1e6 + c.usage.output_tokens * 15.0 / 1e6
        assert c.cost_usd == pytest.approx(want, rel=1e-12) and c.cost_usd > 0
    assert gw.stats().cost_usd == pytest.approx(sum(c.cost_usd for c in out), rel=1e-12)


def test_retry_after_header_forms() -> None:
    import email.utils

    from optimizer.llm.transport import retry_after_of

    class E(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            self.litellm_response_headers = headers

    assert retry_after_of(E({"retry-after": "2.5"})) == 2.5
    assert retry_after_of(E({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_of(E({"retry-after": date})) <= 31  # type: ignore[operator]
    assert retry_after_of(E({"retry-after": "soon"})) is None
    assert retry_after_of(ValueError("no headers")) is None


def test_concurrent_faults_each_retried_independently() -> None:
    script = [Fault.error(502), Fault.rate_limit(retry_after=0.2), Fault.error(500)]
    with FaultServer(latency_s=0.01, script=script) as fs:
        gw = gateway(fs, concurrency=4)
        out = gw.complete_many_sync([gw.request("task", msgs(i)) for i in range(8)])
    assert [c.text for c in out] == [ReferenceModel().respond(msgs(i)) for i in range(8)]
    assert fs.requests == 11 and gw.stats().retries == 3 and gw.stats().calls == 8
    assert len(gw.call_log.records) == 8  # type: ignore[union-attr]

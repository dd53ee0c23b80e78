"""The ``local/reference`` litellm custom provider: litellm sync/async, prices, DSPy."""

from __future__ import annotations

import asyncio
import time

import pytest

from optimizer.llm import provider
from optimizer.llm.reference import ReferenceModel, count_tokens
from optimizer.tasks.render import render_messages

LABELS = ["benign", "sqli", "xss"]
PROMPT = "Classify the payload. Labels: benign, sqli, xss. <script> means xss. Answer the label."


@pytest.fixture(scope="module")
def litellm():
    provider.ensure_registered()
    import litellm as _litellm

    _litellm.suppress_debug_info = True
    return _litellm


def _messages(payload: str = "<script>alert(1)</script>") -> list[dict[str, str]]:
    return [dict(m) for m in render_messages(PROMPT, payload, LABELS)]


def test_ensure_registered_is_idempotent(litellm) -> None:
    provider.ensure_registered()
    provider.ensure_registered()
    entries = [e for e in litellm.custom_provider_map if e["provider"] == "local"]
    assert len(entries) == 1


def test_litellm_completion_matches_reference_model_and_prices(litellm) -> None:
    msgs = _messages()
    resp = litellm.completion(model="local/reference", messages=msgs)
    expected = ReferenceModel().respond(msgs)
    assert resp.choices[0].message.content == expected
    assert resp.model == "local/reference"
    n_in = sum(count_tokens(m["content"]) for m in msgs)
    assert resp.usage.prompt_tokens == n_in
    assert resp.usage.completion_tokens == count_tokens(expected)
    s = provider.settings()
    cost = litellm.completion_cost(resp)
    want = n_in * s.input_per_mtok / 1e6 + count_tokens(expected) * s.output_per_mtok / 1e6
    assert cost == pytest.approx(want, rel=1e-9)


def test_configure_price_reregisters(litellm) -> None:
    old = provider.settings()
    try:
        provider.configure(input_per_mtok=10.0, output_per_mtok=20.0)
        resp = litellm.completion(model="local/reference", messages=_messages("id=1"))
        u = resp.usage
        want = u.prompt_tokens * 10.0 / 1e6 + u.completion_tokens * 20.0 / 1e6
        assert litellm.completion_cost(resp) == pytest.approx(want, rel=1e-9)
    finally:
        provider.configure(input_per_mtok=old.input_per_mtok, output_per_mtok=old.output_per_mtok)


def test_acompletion_sleeps_the_simulated_latency(litellm) -> None:
    async def main() -> tuple[float, float]:
        t0 = time.perf_counter()
        await litellm.acompletion(model="local/reference", messages=_messages(), latency_s=0.15)
        t1 = time.perf_counter()
        await litellm.acompletion(
            model="local/reference", messages=_messages(), extra_body={"latency_s": 0.1}
        )
        return t1 - t0, time.perf_counter() - t1

    kw, body = asyncio.run(main())
    assert kw >= 0.15
    assert body >= 0.1


def test_params_pass_through_to_respond(litellm) -> None:
    msgs = _messages("1' OR 1=1 --")
    fmt = {"type": "json_object"}
    resp = litellm.completion(
        model="local/reference", messages=msgs, response_format=fmt, temperature=0.9, seed=7
    )
    expected = ReferenceModel().respond(msgs, temperature=0.9, seed=7, response_format=fmt)
    assert resp.choices[0].message.content == expected


def test_dspy_predict_runs_on_the_provider(litellm) -> None:
    import dspy

    lm = dspy.LM("local/reference", cache=False, num_retries=0)
    with dspy.context(lm=lm):
        pred = dspy.Predict("payload -> label")(payload="<script>alert(1)</script>")
    assert isinstance(pred.label, str) and pred.label.strip()
    assert "[[ ## label ## ]]" in lm.history[-1]["outputs"][0]
    assert lm.history[-1]["usage"]["prompt_tokens"] > 0


def test_configured_default_latency_applies_to_both_paths(litellm) -> None:
    old = provider.settings().latency_s
    try:
        provider.configure(latency_s=0.1)
        t0 = time.perf_counter()
        litellm.completion(model="local/reference", messages=_messages("x=1"))
        t1 = time.perf_counter()
        provider.get_backend().respond(_messages("x=2"))
        assert t1 - t0 >= 0.1 and time.perf_counter() - t1 >= 0.1
    finally:
        provider.configure(latency_s=old)

"""Verifier stage and adversary stage through the real gateway and the reference model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from optimizer.config import parse_config
from optimizer.engine.scoring import Scorer
from optimizer.evaluation.runner import Prediction
from optimizer.llm.gateway import Gateway
from optimizer.llm.settings import GatewaySettings
from optimizer.store import open_store
from optimizer.tasks.base import Example
from optimizer.tasks.loaders import load_split
from optimizer.tasks.payloads import PAYLOAD_TASK
from optimizer.validation.adversary import Adversary, parse_rewrite, robustness
from optimizer.validation.pipeline import (
    Verifier,
    candidate_report,
    overturn_stats,
    parse_verdict,
)
from optimizer.validation.transforms import TRANSFORMS

CFG = parse_config({"validation": {"adversary": {"enabled": True}}})


def _gw(tmp_path: Path | None = None) -> Gateway:
    if tmp_path is None:
        return Gateway(GatewaySettings())
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}")
    return Gateway(GatewaySettings(), cache=store.response_cache(), call_log=store.call_log())


def _pred(ex: Example, label: str | None) -> Prediction:
    return Prediction(ex, label, label or "", None)


def test_parse_verdict_forms() -> None:
    labels = PAYLOAD_TASK.labels
    assert parse_verdict("VERDICT: overturn\nLABEL: sqli\nRATIONALE: found x", labels) == (
        "overturn", "sqli", "found x")
    assert parse_verdict('{"verdict": "agree", "label": "XSS", "rationale": "r"}', labels) == (
        "agree", "xss", "r")
    assert parse_verdict("VERDICT: maybe\nLABEL: sqli", labels)[0] == "error"
    assert parse_verdict("VERDICT: agree\nLABEL: nonsense", labels)[0] == "error"


def test_verifier_overturns_with_rationale_and_stats_count_right_and_wrong() -> None:
    v = Verifier(_gw(), PAYLOAD_TASK, CFG.models.verifier)
    sqli = Example("a", "1' union select password from users--", "sqli")
    benign = Example("b", "GET /search?q=shoes&page=2", "benign")
    tricky = Example("c", "order by name -- newest first", "benign")
    preds = [_pred(sqli, "benign"), _pred(benign, "xss"), _pred(tricky, "benign"),
             _pred(sqli, "sqli")]
    verdicts = asyncio.run(v.verify(preds))
    assert [x.final for x in verdicts] == ["sqli", "benign", "sqli", "sqli"]
    assert verdicts[0].overturned and "union select" in verdicts[0].rationale
    assert verdicts[1].overturned  # the verifier prompt's benign cues catch a false positive
    assert not verdicts[3].overturned and verdicts[3].verdict == "agree"
    st = overturn_stats(verdicts)
    assert (st["overturns"], st["right"], st["wrong"], st["neutral"]) == (3, 2, 1, 0)
    assert st["accuracy_before"] == 0.5 and st["accuracy_after"] == 0.75


def test_adversary_variants_are_deterministic_cached_and_preserve_the_attack(
    tmp_path: Path,
) -> None:
    ex = Example("s1", "1' union select username, password from users--", "sqli")
    gw = _gw(tmp_path)
    a1 = Adversary(gw, PAYLOAD_TASK, CFG.models.adversary, CFG.validation.adversary, seed=3)
    v1 = asyncio.run(a1.variants([ex, Example("b", "hello", "benign")]))
    assert v1["b"] == ()
    variants = v1["s1"]
    sources = [v.meta["source"] for v in variants]
    assert len(variants) == 4 and sources[-1] == "model0"
    for v in variants:
        assert v.label == "sqli" and v.id == f"s1~adv~{v.meta['source']}" and v.input != ex.input
        if v.meta["source"] in TRANSFORMS:
            restored = TRANSFORMS[v.meta["source"]].restore(v.input)
            assert restored == TRANSFORMS[v.meta["source"]].canonical(ex.input)
    calls = gw.stats().calls
    a2 = Adversary(gw, PAYLOAD_TASK, CFG.models.adversary, CFG.validation.adversary, seed=3)
    assert asyncio.run(a2.variants([ex]))["s1"] == variants  # same seed: same variants
    assert gw.stats().calls == calls and gw.stats().cache_hits >= 1  # the rewrite was cached
    assert parse_rewrite('{"payload": "x", "transforms": []}') == "x"
    assert parse_rewrite("garbage") is None


def test_robustness_decoding_prompt_beats_plain_cues(repo: Path) -> None:
    task = PAYLOAD_TASK
    dev = load_split(repo / "data" / "payloads", "dev", task, 8192)
    attacks = [e for e in dev if e.label in ("sqli", "xss", "path_traversal")]
    gw = _gw()
    scorer = Scorer(gw, task, CFG.models.task)
    adv = Adversary(gw, task, CFG.models.adversary, CFG.validation.adversary, seed=0)
    cues = ('sqli: indicators "union select", "\' or "\nxss: indicators "<script", "onerror="\n'
            'path_traversal: indicators "../", "/etc/passwd"\nIf nothing matches, answer benign.')
    decoding = cues + "\nURL-decode the payload, decode HTML entities and unicode escapes, " \
                      "ignore case, strip SQL comments, collapse whitespace."

    async def rob(prompt: str):
        preds = await scorer.score(prompt, attacks)
        variants = await adv.variants(attacks)
        return await robustness(scorer, prompt, preds, variants, negative_label="benign")

    plain, robust = asyncio.run(rob(cues)), asyncio.run(rob(decoding))
    assert plain.detected >= 10 and robust.detected >= plain.detected
    assert robust.robustness > plain.robustness + 0.2
    assert plain.variants - plain.survived == len(plain.evasions)
    assert 0.0 <= plain.robustness <= plain.detection_robustness <= 1.0


def test_candidate_report_has_every_stage(repo: Path) -> None:
    task = PAYLOAD_TASK
    dev = load_split(repo / "data" / "payloads", "dev", task, 8192)[:60]
    prompt = (repo / "configs" / "prompts" / "expert.txt").read_text(encoding="utf-8")
    rep = asyncio.run(candidate_report(CFG, _gw(), task, prompt, dev))
    for key in ("accuracy", "macro_f1", "cost_weighted", "benign_fpr", "family_recall",
                "robustness", "injection", "verifier"):
        assert key in rep
    assert rep["n"] == 60 and rep["verifier"]["n"] == 60
    assert rep["injection"]["variants"] == 5 * sum(e.label != "benign" for e in dev)
    assert rep["robustness"]["detected"] <= sum(e.label != "benign" for e in dev)
    with pytest.raises(Exception, match="unknown transform"):
        Adversary(_gw(), task, CFG.models.adversary,
                  CFG.validation.adversary.model_copy(update={"transforms": ["rot13"]}), 0)

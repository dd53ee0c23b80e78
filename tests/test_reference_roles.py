"""Verifier and adversary roles of the reference model, and the CRS corpus sanity check."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from optimizer.llm.reference import ReferenceModel
from optimizer.tasks.payloads import LABELS
from optimizer.tasks.render import delimit, extract_delimited, parse_label, render_messages

ROOT = Path(__file__).resolve().parents[1]
CRS = ROOT.parent / "shared" / "corpora" / "crs_payloads.csv"
VERIFIER = "You double-check labels of HTTP payloads. Overturn a label only on clear evidence."


def verify(payload: str, proposed: str, **kw) -> str:
    labels = ", ".join(LABELS)
    user = f"{delimit(payload)}\nPROPOSED LABEL: {proposed}\nAllowed labels: {labels}\nVERDICT:"
    return ReferenceModel().respond(
        [{"role": "system", "content": VERIFIER}, {"role": "user", "content": user}], **kw
    )


def test_verifier_agrees_with_supported_label():
    out = verify("1 UNION SELECT pass FROM t", "sqli")
    assert out.splitlines()[0] == "VERDICT: agree"
    assert "LABEL: sqli" in out and "union select" in out.lower()


def test_verifier_overturns_a_missed_attack_and_answers_json():
    out = verify("%3Cscript%3Ealert(1)%3C/script%3E", "benign")
    assert out.startswith("VERDICT: overturn") and "LABEL: xss" in out
    obj = json.loads(verify("<script>", "benign", response_format={"type": "json_object"}))
    assert obj["verdict"] == "overturn" and obj["label"] == "xss" and obj["rationale"]


def test_adversary_rewrites_and_names_transforms():
    m = ReferenceModel()
    payload = "1' UNION SELECT user, pass FROM users--"
    user = f"{delimit(payload)}\nLABEL: sqli\nTRANSFORMS: sql_comments, url\nEVASIVE REWRITE:"
    out = m.respond([{"role": "system", "content": "Red team."}, {"role": "user", "content": user}])
    head = out.splitlines()[0]
    assert head == "TRANSFORMS: sql_comments, url"
    rewrite = extract_delimited(out, "REWRITE")
    assert rewrite and rewrite != payload and "%2F%2A%2A%2F" in rewrite
    free = f"{delimit(payload)}\nLABEL: sqli\nEVASIVE REWRITE:"
    a = m.respond([{"role": "user", "content": free}])
    assert a == m.respond([{"role": "user", "content": free}])
    obj = json.loads(
        m.respond([{"role": "user", "content": free}], response_format={"type": "json_object"})
    )
    assert obj["transforms"] and obj["payload"] != payload


def test_evasions_defeat_a_prompt_without_decode_directives():
    m = ReferenceModel()
    prompt = 'sqli: indicators "union select"\nIf nothing matches, answer benign.'
    payload = "1 union select 2"
    user = f"{delimit(payload)}\nLABEL: sqli\nTRANSFORMS: sql_comments\nEVASIVE REWRITE:"
    rewrite = extract_delimited(m.respond([{"role": "user", "content": user}]), "REWRITE") or ""
    assert parse_label(m.respond(render_messages(prompt, payload, LABELS)), LABELS) == "sqli"
    assert parse_label(m.respond(render_messages(prompt, rewrite, LABELS)), LABELS) == "benign"
    fixed = prompt + "\nStrip SQL comments (/* */) before matching."
    assert parse_label(m.respond(render_messages(fixed, rewrite, LABELS)), LABELS) == "sqli"


def test_crs_corpus_expert_beats_bare():
    expert = (ROOT / "configs/prompts/expert.txt").read_text(encoding="utf-8")
    fam = {"sqli": "sqli", "xss": "xss", "rce": "cmdi", "lfi": "path_traversal"}
    rows = []
    with CRS.open(encoding="utf-8", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            benign = r["label"] == "benign_fp_check" and r["positive_elsewhere"] == "false"
            if (r["label"] in fam or benign) and i % 5 == 0:
                rows.append((r["payload"], fam.get(r["label"], "benign")))
    m = ReferenceModel()

    def acc(prompt: str) -> float:
        return sum(
            parse_label(m.respond(render_messages(prompt, p, LABELS)), LABELS) == lab
            for p, lab in rows
        ) / len(rows)

    assert len(rows) > 250
    assert acc(expert) > acc("Classify the payload.") + 0.1

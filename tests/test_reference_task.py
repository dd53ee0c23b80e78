"""Properties of the reference model's task role (prompt-conditioned classification)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from optimizer.llm.reference import ReferenceModel
from optimizer.llm.reference.prompt_parse import parse_prompt
from optimizer.tasks.payloads import LABELS
from optimizer.tasks.render import parse_label, render_messages

ROOT = Path(__file__).resolve().parents[1]
EXPERT = (ROOT / "configs/prompts/expert.txt").read_text(encoding="utf-8")
SEED = (ROOT / "configs/prompts/seed.txt").read_text(encoding="utf-8")
BARE = "Classify the payload."

ATTACKS = [
    ("1' UNION SELECT password FROM accounts--", "sqli"),
    ("x' or 1=1 limit 1", "sqli"),
    ("name=<script>steal()</script>", "xss"),
    ("<img src=a onerror=confirm(2)>", "xss"),
    ("host=8.8.8.8; cat /etc/shadow", "cmdi"),
    ("file=$(whoami).txt", "cmdi"),
    ("page=../../../../etc/passwd", "path_traversal"),
    ("url=http://169.254.169.254/latest/", "ssrf"),
    ("greeting={{ 6*6 }}", "ssti"),
    ('<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/hosts">]>', "xxe"),
    ('{"login": {"$ne": ""}}', "nosqli"),
    ("user=*)(|(mail=*", "ldapi"),
    ("next=%0d%0aSet-Cookie: s=1", "crlf"),
]
BENIGN = [
    "weekend hiking trails near the lake",
    "Maria Gonzalez",
    '{"items": [1, 2, 3], "page": 2}',
    "https://shop.example.org/cart?item=7",
    "Meeting notes: budget review moved to Friday",
    "size=large&color=blue",
    "reports/2023/summary.pdf",
    "best pasta recipes",
]
ROWS = [(p, lab) for p, lab in ATTACKS] + [(p, "benign") for p in BENIGN]


def accuracy(model: ReferenceModel, prompt: str, rows) -> float:
    hits = 0
    for payload, label in rows:
        answer = model.respond(render_messages(prompt, payload, LABELS))
        hits += parse_label(answer, LABELS) == label
    return hits / len(rows)


def test_expert_beats_seed_beats_bare():
    m = ReferenceModel()
    bare, seed, expert = (accuracy(m, p, ROWS) for p in (BARE, SEED, EXPERT))
    assert expert > seed > bare
    assert expert >= 0.75
    assert bare <= 0.5


def test_bare_prompt_has_no_attack_recall():
    m = ReferenceModel()
    assert accuracy(m, BARE, ATTACKS) < 0.3


def test_url_decode_directive_raises_recall_on_encoded_payloads():
    m = ReferenceModel()
    encoded = [(quote(p, safe=""), lab) for p, lab in ATTACKS]
    without = EXPERT.replace("URL-decode (also double-encoded %25xx), ", "")
    assert parse_prompt(EXPERT).directives - parse_prompt(without).directives == {"url"}
    assert accuracy(m, EXPERT, encoded) > accuracy(m, without, encoded) + 0.2


def test_ignore_case_directive_matters():
    m = ReferenceModel()
    rows = [("1 UNION SELECT 2", "sqli"), ("<SCRIPT>x</SCRIPT>", "xss")]
    base = (
        'sqli: indicators "union select"\nxss: indicators "<script"\n'
        "If nothing matches, answer benign."
    )
    assert accuracy(m, base, rows) == 0.0
    assert accuracy(m, base + "\nIgnore case when matching.", rows) == 1.0


def test_clutter_makes_a_good_prompt_noisier():
    m = ReferenceModel()
    filler = [f"Note {i}: the cafeteria menu changes every season, enjoy it." for i in range(30)]
    cluttered = "\n".join([*EXPERT.splitlines(), *filler])
    assert parse_prompt(cluttered).noise > parse_prompt(EXPERT).noise + 0.2
    assert accuracy(m, cluttered, ROWS) < accuracy(m, EXPERT, ROWS)


def test_contradictions_add_noise_and_attention_is_limited():
    clean = parse_prompt('sqli: indicators "union select"\nxss: indicators "<script"')
    contra = parse_prompt('sqli: indicators "union select"\nxss: indicators "union select"')
    assert contra.contradictions == 1 and contra.noise > clean.noise
    many = "\n".join(f'sqli: indicators "tok{i}x"' for i in range(60))
    parsed = parse_prompt(many)
    assert len(parsed.cues) == 40 and parsed.total_cues == 60


def test_examples_help_similar_payloads():
    m = ReferenceModel()
    rows = [('{"user": {"$ne": 1}}', "nosqli"), ("uid=*)(|(mail=*", "ldapi")]
    base = "Classify the payload.\nIf nothing matches, answer benign."
    shots = (
        base + '\nExample: "{\\"name\\": {\\"$ne\\": 0}}" -> nosqli\nExample: "x*)(|(cn=*" -> ldapi'
    )
    assert accuracy(m, shots, rows) > accuracy(m, base, rows)


def test_output_formats_json_and_plain():
    m = ReferenceModel()
    msgs = render_messages(EXPERT, "<script>a()</script>", LABELS)
    assert m.respond(msgs) == "xss"
    as_json = json.loads(m.respond(msgs, response_format={"type": "json_object"}))
    assert as_json == {"label": "xss"}
    prompted = m.respond(render_messages(EXPERT + "\nAnswer in JSON.", "<script>", LABELS))
    assert json.loads(prompted)["label"] == "xss"


def test_dspy_chat_adapter_format_and_demos():
    import dspy
    from dspy.adapters.chat_adapter import ChatAdapter

    sig = dspy.Signature(
        "payload -> label", "Classify the payload.\nIf nothing matches, answer benign."
    )
    m = ReferenceModel()
    demo = {"payload": '{"a": {"$ne": 1}}', "label": "nosqli"}
    msgs = ChatAdapter().format(sig, demos=[demo], inputs={"payload": '{"b": {"$ne": 2}}'})
    answer = m.respond(msgs)
    assert answer.rstrip().endswith("[[ ## completed ## ]]")
    assert ChatAdapter().parse(sig, answer) == {"label": "nosqli"}
    no_demo = ChatAdapter().format(sig, demos=[], inputs={"payload": '{"b": {"$ne": 2}}'})
    assert ChatAdapter().parse(sig, m.respond(no_demo)) == {"label": "benign"}


def test_temperature_zero_is_deterministic_across_processes():
    code = (
        "from optimizer.llm.reference import ReferenceModel\n"
        "from optimizer.tasks.render import render_messages\n"
        "from optimizer.tasks.payloads import LABELS\n"
        "import sys\n"
        "p = sys.stdin.read()\n"
        "m = ReferenceModel()\n"
        "print([m.respond(render_messages(p, x, LABELS)) for x in "
        "['a b', '<b>', 'x=1', '../x', 'O Neil', '{{x}}', 'ls -la', 'q=7']])\n"
    )
    cluttered = EXPERT + "\n" + "\n".join(f"Unrelated remark number {i}." for i in range(25))
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=cluttered,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for _ in range(2)
    }
    assert len(outs) == 1


def test_temperature_varies_but_seed_reproduces():
    m = ReferenceModel()
    noisy = SEED + "\n" + "\n".join(f"Unrelated remark number {i}." for i in range(10))
    msgs = [render_messages(noisy, f"item {i} ; ls", LABELS) for i in range(40)]
    a = [m.respond(x, temperature=1.0, seed=3) for x in msgs]
    b = [m.respond(x, temperature=1.0, seed=3) for x in msgs]
    c = [m.respond(x, temperature=1.0, seed=4) for x in msgs]
    cold = [m.respond(x) for x in msgs]
    assert a == b
    assert a != c or a != cold


def test_never_raises_on_odd_requests():
    m = ReferenceModel()
    odd = [
        [],
        [{"role": "user", "content": ""}],
        [{"role": "user"}],
        [{"role": "system", "content": None}, {"role": "user", "content": None}],
        [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        [{"role": "user", "content": "x" * 500_000}],
        [{"role": "user", "content": "<<<BEGIN PAYLOAD 00000000>>>\nunterminated"}],
        [{"role": "user", "content": "PROPOSED LABEL: zzz\nVERDICT:"}],
        [{"role": "user", "content": "EVASIVE REWRITE:"}],
        [{"role": "user", "content": "INSTRUCTION MUTANT:"}],
        [{"role": "user", "content": "MUTATION PROMPT MUTANT:"}],
    ]
    for msgs in odd:
        out = m.respond(msgs, temperature=0.7, max_tokens=50)
        assert isinstance(out, str) and out
    assert len(m.respond([{"role": "user", "content": "hello"}], max_tokens=2)) <= 8


def test_task_calls_are_fast():
    m = ReferenceModel()
    msgs = [render_messages(EXPERT, p, LABELS) for p, _ in ROWS] * 100
    m.respond(msgs[0])
    t0 = time.perf_counter()
    for x in msgs:
        m.respond(x)
    per_call = (time.perf_counter() - t0) / len(msgs)
    assert per_call < 0.001

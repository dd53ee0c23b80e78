"""Properties of the reference model's mutator role (meta-prompt -> new instruction)."""

from __future__ import annotations

import json
from pathlib import Path

from optimizer.llm.reference import ReferenceModel
from optimizer.llm.reference.prompt_parse import parse_prompt
from optimizer.tasks.payloads import LABELS
from optimizer.tasks.render import parse_label, render_messages

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "configs/prompts/seed.txt").read_text(encoding="utf-8").strip()
EXPERT = (ROOT / "configs/prompts/expert.txt").read_text(encoding="utf-8").strip()

FAILURES = [
    ("id=1 AND SLEEP(5)", "sqli"),
    ("<svg/onload=alert(9)>", "xss"),
    ('{"pw": {"$gt": ""}}', "nosqli"),
    ("q=%27%20union%20select%20null--", "sqli"),
    ("u=admin)(|(cn=*", "ldapi"),
    ("<!ENTITY x SYSTEM 'http://h/'>", "xxe"),
]


def meta(instruction: str, mp: str, cases, style: str = "Let's think step by step.") -> str:
    body = "\n".join(
        f"- input: {json.dumps(p)}\n  expected: {lab}\n  got: benign" for p, lab in cases
    )
    return (
        "I gave an assistant the instruction below, and it got the failure cases wrong.\n\n"
        f"THINKING STYLE:\n{style}\n\nMUTATION PROMPT:\n{mp}\n\nINSTRUCTION:\n{instruction}\n\n"
        f"FAILURE CASES:\n{body}\n\nINSTRUCTION MUTANT:"
    )


def ask(text: str, **kw) -> str:
    return ReferenceModel().respond([{"role": "user", "content": text}], **kw)


def label_of(prompt: str, payload: str) -> str | None:
    return parse_label(ReferenceModel().respond(render_messages(prompt, payload, LABELS)), LABELS)


def test_cue_mutation_fixes_failures_with_real_substrings():
    mp = "Add the specific keywords and characters that indicate each label."
    fixed = 0
    for case in FAILURES:
        child = ask(meta(SEED, mp, [case]))
        assert child != SEED
        fixed += label_of(child, case[0]) == case[1]
        new_cues = {c.text for c in parse_prompt(child).cues} - {
            c.text for c in parse_prompt(SEED).cues
        }
        from optimizer.llm.reference.distil import decoded

        assert all(c.lower() in decoded(case[0]).lower() for c in new_cues)
    assert fixed >= 4


def test_mutation_keeps_benign_inputs_benign():
    mp = "For every label, add a list of concrete indicators that signal it."
    child = ask(meta(SEED, mp, FAILURES[:3]))
    for benign in ("weekend hiking trails", "Maria Gonzalez", "reports/2023/summary.pdf"):
        assert label_of(child, benign) == "benign"


def test_encoded_failures_get_a_decode_directive():
    mp = (
        "Tell the reader to decode URL encoding, HTML entities and unicode escapes before deciding."
    )
    child = ask(meta(SEED, mp, [("q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "xss")]))
    assert "url" in parse_prompt(child).directives


def test_simplify_prompts_are_shorter_than_add_examples():
    simplify = "Rewrite the instruction so that it is shorter and simpler, keeping every rule."
    examples = "Add one or two short examples that show the hardest distinctions."
    filler = "\n".join(f"Reminder {i}: the office closes early on Fridays." for i in range(6))
    parents = [SEED, EXPERT, SEED + "\n" + filler, EXPERT + "\n" + filler]
    short, long_ = [], []
    for i, parent in enumerate(parents):
        cases = FAILURES[i : i + 2]
        short.append(len(ask(meta(parent, simplify, cases))))
        long_.append(len(ask(meta(parent, examples, cases))))
    assert sum(short) < sum(long_)
    assert sum(short) <= sum(len(p) for p in parents)


def test_mutation_is_deterministic_at_t0_and_seeded_above():
    text = meta(SEED, "Make the instruction more sensitive to disguised attacks.", FAILURES[:4])
    assert ask(text) == ask(text)
    hot = {ask(text, temperature=1.0, seed=s) for s in range(8)}
    assert ask(text, temperature=1.0, seed=5) == ask(text, temperature=1.0, seed=5)
    assert len(hot) >= 2


def test_zero_order_writes_a_usable_prompt_from_knowledge():
    text = (
        "A list of 100 hints for the problem below.\n\nPROBLEM DESCRIPTION:\n"
        "Classify an HTTP request payload as benign or as the web attack family it belongs to: "
        + ", ".join(LABELS)
        + ".\n\nINSTRUCTION MUTANT:"
    )
    child = ask(text)
    parsed = parse_prompt(child)
    assert parsed.default_label == "benign"
    assert {c.label for c in parsed.cues} >= {"sqli", "xss", "cmdi"}
    assert label_of(child, "1 union select 2") == "sqli"


def test_lamarckian_induces_cues_from_correct_examples():
    text = (
        "Write down the instruction he must have been given.\n\nCORRECT EXAMPLES:\n"
        '- input: "../../etc/passwd"\n  label: path_traversal\n'
        '- input: "<script>alert(1)</script>"\n  label: xss\n\nThe instruction was:\n'
        "INSTRUCTION MUTANT:"
    )
    child = ask(text)
    assert label_of(child, "<script>x</script>") == "xss"
    assert label_of(child, "../../../boot.ini") == "path_traversal"


def test_crossover_combines_cues_of_listed_prompts():
    a = (
        'Classify the payload.\nsqli: indicators "union select", "sleep("\n'
        "If nothing matches, answer benign."
    )
    b = 'Classify the payload.\nxss: indicators "<script", "onerror=", "<svg", "javascript:"'
    text = f"A list of instructions.\n\nPROMPTS:\n[1]\n{a}\n[2]\n{b}\n\nINSTRUCTION MUTANT:"
    labels = {c.label for c in parse_prompt(ask(text)).cues}
    assert labels == {"sqli", "xss"}


def test_hypermutation_shifts_the_mutation_prompt_emphasis():
    outs = set()
    for style in (
        "Let's think step by step.",
        "How could I simplify the problem?",
        "Let's make a list of ideas and try them creatively.",
    ):
        text = (
            "Please summarize and improve the following instruction:\n\n"
            f"THINKING STYLE:\n{style}\n\nMUTATION PROMPT:\n"
            "Add the specific keywords, functions and characters that indicate each label.\n\n"
            "MUTATION PROMPT MUTANT:"
        )
        out = ask(text)
        assert out == ask(text) and out.strip()
        outs.add(out)
    assert len(outs) >= 2


def test_operator_template_round_trip():
    from optimizer.operators._text import format_failures, render
    from optimizer.units import FailureCase

    fails = [FailureCase(input=p, expected=lab, got="benign") for p, lab in FAILURES[:2]]
    text = render(
        "reflective",
        mutation_prompt="Add specific indicators.",
        instruction=SEED,
        failures=format_failures(fails),
        labels=", ".join(LABELS),
    )
    child = ask(text)
    assert label_of(child, FAILURES[0][0]) == "sqli" or label_of(child, FAILURES[1][0]) == "xss"

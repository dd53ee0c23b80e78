"""The mutator role: answers ``INSTRUCTION MUTANT:`` and ``MUTATION PROMPT MUTANT:`` requests.

Contracts:
- Input is a meta-prompt (docs/meta-prompt-format.md); output is plain text: a new instruction
  (one directive or cue group per line) or a new mutation-prompt (a few sentences).
- Strategy by sections present: PROMPTS (>= 2) -> crossover/EDA; CORRECT EXAMPLES without an
  INSTRUCTION -> Lamarckian induction; INSTRUCTION -> edits; only a PROBLEM DESCRIPTION ->
  zero-order generation from built-in knowledge.
- Which edits are made depends on the words of the MUTATION PROMPT and THINKING STYLE (see
  ``EMPHASIS``): simplify-words favour removals/merges, example-words add examples,
  indicator-words add cues, decode-words add normalization directives, creative-words reorder.
- Cues distilled from failures are real substrings of the (decoded) failing input, preferring
  indicators the built-in knowledge knows.
- All choices come from ``rng``: seeded from SHA-256 of the request at temperature 0 (so the
  answer is deterministic) and from (seed, request) at temperature > 0.
"""

from __future__ import annotations

import random

from optimizer.llm.reference import instruction_edit as ed
from optimizer.llm.reference.distil import distil
from optimizer.llm.reference.knowledge import FAMILY_NAMES, INDICATORS
from optimizer.llm.reference.labels import DEFAULT_LABELS, canonical, find_labels
from optimizer.llm.reference.metaprompt import Case, MetaPrompt
from optimizer.llm.reference.normalize import apply_directives, detect_encodings
from optimizer.llm.reference.prompt_parse import parse_prompt

EMPHASIS: dict[str, tuple[str, ...]] = {
    "cues": (
        "indicator",
        "specific",
        "keyword",
        "detail",
        "signature",
        "pattern",
        "token",
        "cue",
        "precise",
        "evidence",
        "sign",
    ),
    "examples": ("example", "demonstrat", "few-shot", "instance", "sample", "illustrat"),
    "decode": ("decod", "encod", "normaliz", "obfuscat", "escape", "case-insensitive"),
    "simplify": (
        "simplif",
        "shorter",
        "shorten",
        "concise",
        "brief",
        "remove",
        "trim",
        "compress",
        "fewer",
        "redundan",
        "merge",
        "clean",
    ),
    "rephrase": (
        "creative",
        "rephras",
        "reword",
        "different",
        "novel",
        "unconventional",
        "reorder",
        "restructure",
    ),
}
BASE = {
    "cues": 1.0,
    "examples": 0.5,
    "decode": 0.3,
    "simplify": 0.15,
    "rephrase": 0.15,
    "caution": 0.1,
}


def emphasis_weights(mutation_prompt: str, style: str) -> dict[str, float]:
    low, sty = mutation_prompt.lower(), style.lower()
    weights = dict(BASE)
    for name, words in EMPHASIS.items():
        weights[name] += 2.0 * min(3, sum(w in low for w in words))
        weights[name] += 0.5 * min(2, sum(w in sty for w in words))
    return weights


def _label(case: Case, labels: tuple[str, ...]) -> str | None:
    return canonical(case.expected, labels) if case.expected else None


def fix_cues(lines: list[str], cases: list[Case], rng: random.Random, per: int) -> list[str]:
    parsed = parse_prompt("\n".join(lines))
    for case in cases[:3]:
        lab = _label(case, DEFAULT_LABELS)
        if lab is None:
            continue
        if lab == "benign":
            text = apply_directives(case.input, parsed.directives)
            got = canonical(case.got, DEFAULT_LABELS) if case.got else None
            fired = [c for c in parsed.cues if c.label == got and c.pattern.search(text)]
            for cue in fired[:1]:
                lines = ed.remove_cue(lines, cue.text)
            if not fired:
                lines = ed.add_example(lines, case.input, "benign")
            continue
        fold = "case" in parsed.directives
        for cue in distil(case.input, lab, ed.all_cues(lines), rng, per):
            lines = ed.add_cue(lines, lab, cue.lower() if fold else cue)
    return lines


def fix_examples(lines: list[str], cases: list[Case], rng: random.Random) -> list[str]:
    usable = [c for c in cases if _label(c, DEFAULT_LABELS)]
    if not usable:
        return lines
    case = usable[0] if rng.random() < 0.7 else rng.choice(usable)
    return ed.add_example(lines, case.input, _label(case, DEFAULT_LABELS) or "benign")


def fix_decode(lines: list[str], cases: list[Case], rng: random.Random) -> list[str]:
    found: list[str] = []
    for case in cases:
        for enc in detect_encodings(case.input):
            if enc not in found:
                found.append(enc)
    if not found:
        found = ["case"]
    for enc in found[:2]:
        lines = ed.add_directive(lines, enc)
    return lines


def simplify(lines: list[str], rng: random.Random) -> list[str]:
    """Drop clutter, merge cue lines per label and directive lines, keep at most 3 examples."""
    out = [
        ln for i, ln in enumerate(lines) if i == 0 or ed.line_kind(ln) not in ("clutter", "blank")
    ]
    out = ed.merge_cue_lines(out)
    out = ed.merge_directives(out)
    examples = [i for i, ln in enumerate(out) if ed.line_kind(ln) in ("example", "example-input")]
    drop = set(examples[3:])
    out = [ln for i, ln in enumerate(out) if i not in drop]
    if out and len(out[0]) > 80 and ". " in out[0].rstrip(". "):
        first, rest = out[0].split(". ", 1)
        out[0] = rest if ed.line_kind(rest) == "framing" else first + "."
    if parse_prompt("\n".join(out)).total_cues > 36:
        for i, ln in enumerate(out):
            cs = ed.cues_of(ln)
            lab = ed.cue_label(ln)
            if lab and len(cs) > 4:
                out[i] = ed.cue_line(lab, cs[: max(3, len(cs) - 2)])
    return out


def caution(lines: list[str], cases: list[Case], rng: random.Random) -> list[str]:
    """Fewer false positives: drop very short cues, add a benign example from the failures."""
    for ln in list(lines):
        for cue in ed.cues_of(ln):
            if ed.cue_label(ln) and len(cue.strip()) <= 2 and rng.random() < 0.7:
                lines = ed.remove_cue(lines, cue)
    benign = [c for c in cases if _label(c, DEFAULT_LABELS) == "benign"]
    if benign:
        lines = ed.add_example(lines, benign[0].input, "benign")
    elif not parse_prompt("\n".join(lines)).default_label:
        lines = [*lines, "If nothing matches, answer benign."]
    return lines


def rephrase(lines: list[str], rng: random.Random) -> list[str]:
    idx = [i for i, ln in enumerate(lines) if ed.cue_label(ln)]
    block = [lines[i] for i in idx]
    rng.shuffle(block)
    out = list(lines)
    for i, ln in zip(idx, block, strict=True):
        out[i] = ln
    heads = (
        "Classify the HTTP payload into exactly one label.",
        "Read the payload and answer with the single label of the attack family it shows.",
        "Decide which attack family, if any, the payload belongs to; answer with its label.",
    )
    if out and ed.line_kind(out[0]) in ("framing", "clutter"):
        out[0] = rng.choice(heads)
    return out


def from_knowledge(lines: list[str], rng: random.Random, n: int = 2) -> list[str]:
    """Add a few built-in indicators for labels the instruction covers thinly."""
    parsed = parse_prompt("\n".join(lines))
    counts = {lab: 0 for lab in INDICATORS}
    for c in parsed.cues:
        counts[c.label] = counts.get(c.label, 0) + 1
    thin = sorted(INDICATORS, key=lambda lab: (counts[lab], rng.random()))[:n]
    have = ed.all_cues(lines)
    for lab in thin:
        fresh = [i for i in INDICATORS[lab] if i not in have and "\r" not in i]
        if fresh:
            lines = ed.add_cue(lines, lab, fresh[0] if rng.random() < 0.6 else rng.choice(fresh))
    return lines


def zero_order(description: str, style: str, rng: random.Random) -> str:
    labels = find_labels(description) or DEFAULT_LABELS
    k = 2 + (rng.random() < 0.5) + ("detail" in style.lower() or "step" in style.lower())
    lines = ["Classify the payload as benign or as the attack family it belongs to."]
    for lab in labels:
        if lab == "benign":
            continue
        pool = [i for i in INDICATORS.get(lab, ()) if "\r" not in i][:6]
        pick = sorted(rng.sample(pool, min(k, len(pool))), key=pool.index) if pool else []
        lines.append(ed.cue_line(lab, pick) if pick else f"{lab}: {FAMILY_NAMES.get(lab, lab)}")
    if rng.random() < 0.5:
        lines.insert(1, ed.DIRECTIVE_LINES["case"])
    lines.append("If nothing matches, answer benign.")
    return "\n".join(lines)


def lamarck(cases: list[Case], rng: random.Random) -> str:
    lines = ["Classify the payload into one label, using these indicators."]
    for case in cases:
        lab = _label(case, DEFAULT_LABELS)
        if lab and lab != "benign":
            for cue in distil(case.input, lab, ed.all_cues(lines), rng, 1):
                lines = ed.add_cue(lines, lab, cue)
    for case in cases[:2]:
        lab = _label(case, DEFAULT_LABELS)
        if lab:
            lines = ed.add_example(lines, case.input, lab)
    lines.append("If nothing matches, answer benign.")
    return "\n".join(lines)


def crossover(meta: MetaPrompt, rng: random.Random) -> list[str]:
    prompts = meta.prompts
    order = sorted(range(len(prompts)), key=lambda i: -meta.scores.get(i + 1, 0.0))
    pre = meta.preamble.lower()
    if not meta.scores and ("ascending" in pre or "resembles" in pre):
        order = order[::-1]  # lineage / rank-index lists: the last prompt is the best
    lines = [ln for ln in prompts[order[0]].splitlines() if ln.strip()]
    for i in order[1:]:
        for ln in prompts[i].splitlines():
            kind = ed.line_kind(ln)
            lab = ed.cue_label(ln)
            if lab:
                for cue in ed.cues_of(ln):
                    if rng.random() < 0.6:
                        lines = ed.add_cue(lines, lab, cue)
            elif kind == "directive" and rng.random() < 0.7:
                if not parse_prompt(ln).default_label and ln not in lines:
                    lines.insert(min(1, len(lines)), ln.strip())
            elif kind == "example" and rng.random() < 0.4 and ln.strip() not in lines:
                lines.append(ln.strip())
    return lines


def mutate_instruction(meta: MetaPrompt, rng: random.Random) -> str:
    """The new instruction for an ``INSTRUCTION MUTANT:`` request."""
    mp, style = meta.get("MUTATION PROMPT"), meta.get("THINKING STYLE")
    instruction = meta.get("INSTRUCTION")
    if len(meta.prompts) >= 2:
        return "\n".join(crossover(meta, rng)).strip() or meta.prompts[0]
    if instruction:
        lines = [ln.rstrip() for ln in instruction.splitlines() if ln.strip()]
    elif meta.correct:
        return lamarck(meta.correct, rng)
    elif meta.prompts:
        lines = meta.prompts[0].splitlines()
    else:
        desc = meta.get("PROBLEM DESCRIPTION") or "Classify web attack payloads."
        return zero_order(desc, style, rng)
    weights = emphasis_weights(mp, style)
    failures = list(meta.failures)
    if failures:
        if rng.random() < 0.3:
            rng.shuffle(failures)
        enc = any(detect_encodings(c.input) for c in failures)
        if enc and not ({"url", "html", "unicode"} & parse_prompt("\n".join(lines)).directives):
            weights["decode"] += 1.5
    else:
        weights["examples"] = 0.0
        weights["decode"] *= 0.3
    chosen: list[str] = []
    pool = dict(weights)
    for _ in range(2 if rng.random() < 0.5 else 1):
        total = sum(pool.values())
        r, acc = rng.random() * total, 0.0
        for name, w in pool.items():
            acc += w
            if r <= acc:
                chosen.append(name)
                pool.pop(name)
                break
        if "simplify" in chosen:
            break
    if weights["simplify"] >= 2.0 and "simplify" not in chosen:
        chosen.append("simplify")  # an explicit request to shorten always ends with shortening
    per = 2 if weights["cues"] > 3 else 1
    for op in chosen:
        if op == "cues":
            lines = fix_cues(lines, failures, rng, per) if failures else from_knowledge(lines, rng)
        elif op == "examples":
            lines = fix_examples(lines, failures, rng)
        elif op == "decode":
            lines = fix_decode(lines, failures, rng)
        elif op == "simplify":
            lines = simplify(lines, rng)
        elif op == "caution":
            lines = caution(lines, failures, rng)
        else:
            lines = rephrase(lines, rng)
    return "\n".join(lines).strip() or instruction or "Classify the payload."


PHRASES: dict[str, tuple[str, ...]] = {
    "cues": (
        "Add specific indicator keywords for the attack families it missed.",
        "Be more specific: list the exact tokens that signal each label.",
    ),
    "examples": (
        "Add a worked example of a payload the instruction got wrong.",
        "Illustrate the hardest case with one example and its label.",
    ),
    "decode": (
        "Tell the reader to decode encodings (URL, HTML entities, unicode escapes) first.",
        "Make matching robust to obfuscation: normalize case and decode escapes.",
    ),
    "simplify": (
        "Make the instruction shorter: merge or remove redundant lines.",
        "Simplify the instruction and keep only what decides the label.",
    ),
    "rephrase": (
        "Rephrase the instruction in a different, clearer way.",
        "Restructure the instruction creatively without losing its rules.",
    ),
}


def mutate_mutation_prompt(meta: MetaPrompt, rng: random.Random) -> str:
    """A rewritten mutation-prompt (hypermutation): shift its emphasis."""
    sources = [meta.get("MUTATION PROMPT"), *meta.mutation_prompts]
    text = " ".join(s for s in sources if s)
    style = meta.get("THINKING STYLE")
    low = text.lower()
    current = [n for n, ws in EMPHASIS.items() if any(w in low for w in ws)]
    weights = {n: 1.0 + 0.8 * sum(w in style.lower() for w in ws) for n, ws in EMPHASIS.items()}
    for n in current:
        weights[n] *= 0.5
    names = list(weights)
    add = rng.choices(names, weights=[weights[n] for n in names])[0]
    keep = [n for n in current if n != add]
    if len(keep) >= 2 or (keep and rng.random() < 0.4):
        keep.pop(rng.randrange(len(keep)))
    final = [*keep, add][:3]
    return " ".join(rng.choice(PHRASES[n]) for n in final)

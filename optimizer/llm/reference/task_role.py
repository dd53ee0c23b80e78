"""The task role: classify one payload by reading the task-prompt.

Contracts:
- ``classify(parsed, payload, allowed, ...)`` uses ONLY what the prompt says: its cues (after the
  normalizations the prompt states), n-gram similarity to its few-shot examples (and DSPy demos),
  and its default label. The built-in attack knowledge is not used.
- No evidence and no stated default: the model guesses (benign about half the time, otherwise a
  hash-chosen allowed label), like an unsure LLM.
- With probability ``parsed.noise`` (+ a temperature term) an answer is perturbed to the runner-up
  or a random allowed label. At temperature 0 the perturbation is a SHA-256 function of (prompt,
  payload), so it is deterministic across processes; at temperature > 0 it comes from ``rng``.
- ``Decision.evidence`` names what decided (used for DSPy ``reasoning`` fields and rationales).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optimizer.llm.reference.normalize import apply_directives
from optimizer.llm.reference.prompt_parse import ParsedPrompt
from optimizer.llm.reference.tokenize import dice, ngrams, stable_unit

EXAMPLE_FLOOR = 0.22
EXAMPLE_GAIN = 5.0
DECIDE_AT = 0.9
TEMPERATURE_NOISE = 0.08
MAX_PAYLOAD_CHARS = 4000
MAX_SHOTS = 8
CONTAIN_WEIGHT = 0.85


@dataclass(frozen=True)
class Decision:
    label: str
    evidence: str
    perturbed: bool = False


def negative_label(allowed: tuple[str, ...]) -> str:
    for cand in ("benign", "safe", "none", "negative", "other"):
        if cand in allowed:
            return cand
    return allowed[0]


def _score(
    parsed: ParsedPrompt,
    text: str,
    allowed: frozenset[str],
    demos: tuple[Any, ...],
) -> tuple[dict[str, float], dict[str, str]]:
    scores: dict[str, float] = {}
    why: dict[str, str] = {}
    for cue in parsed.cues:
        if cue.label in allowed and cue.needle in text and cue.pattern.search(text):
            scores[cue.label] = scores.get(cue.label, 0.0) + cue.weight
            why.setdefault(cue.label, f"indicator {cue.text!r}")
    shots = (parsed.examples + demos)[:MAX_SHOTS]
    if shots:
        grams = ngrams(text[:400])
        best: dict[str, tuple[float, str]] = {}
        for shot in shots:
            if shot.label not in allowed:
                continue
            sim = dice(grams, shot.grams)
            if len(shot.grams) >= 10:  # an example contained in a longer payload also counts
                sim = max(sim, CONTAIN_WEIGHT * len(grams & shot.grams) / len(shot.grams))
            if sim > EXAMPLE_FLOOR and sim > best.get(shot.label, (0.0, ""))[0]:
                best[shot.label] = (sim, shot.text)
        for lab, (sim, ex_text) in best.items():
            scores[lab] = scores.get(lab, 0.0) + EXAMPLE_GAIN * (sim - EXAMPLE_FLOOR)
            why.setdefault(lab, f"similar to the example {ex_text[:40]!r}")
    return scores, why


def classify(
    parsed: ParsedPrompt,
    payload: str,
    allowed: tuple[str, ...],
    *,
    temperature: float = 0.0,
    rng: random.Random | None = None,
    demos: tuple[Any, ...] = (),
) -> Decision:
    """Pick one allowed label for ``payload`` under ``parsed`` (see the module contract)."""
    if not allowed:
        allowed = ("benign",)
    text = apply_directives(payload[:MAX_PAYLOAD_CHARS], parsed.directives)
    allowed_set = frozenset(allowed)
    scores, why = _score(parsed, text, allowed_set, demos)
    order = {lab: i for i, lab in enumerate(parsed.label_order)}
    ranked = sorted(
        scores.items(),
        key=lambda kv: (-kv[1], order.get(kv[0], 99), allowed.index(kv[0])),
    )
    hot = temperature > 0 and rng is not None

    def draw(tag: str) -> float:
        return rng.random() if hot and rng is not None else stable_unit(parsed.key, payload, tag)

    if ranked and ranked[0][1] >= DECIDE_AT:
        label, evidence = ranked[0][0], why[ranked[0][0]]
        if hot and len(ranked) > 1 and ranked[1][1] >= ranked[0][1] - 0.05 * temperature:
            label, evidence = (
                (ranked[1][0], why[ranked[1][0]])
                if draw("tie") < 0.5
                else (
                    label,
                    evidence,
                )
            )
    elif parsed.default_label in allowed_set:
        label, evidence = parsed.default_label, "no indicator matched; default label"
    else:
        u = draw("guess")
        neg = negative_label(allowed)
        label = neg if u < 0.55 else allowed[int((u - 0.55) / 0.45 * len(allowed)) % len(allowed)]
        evidence = "no indicator matched; guessed"
    noise = parsed.noise + (TEMPERATURE_NOISE * min(temperature, 2.0) if hot else 0.0)
    if noise > 0 and draw("noise") < noise:
        alts = [lab for lab, s in ranked if lab != label and s > 0]
        if alts:
            new = alts[0]
        else:
            others = [lab for lab in allowed if lab != label] or [label]
            new = others[int(draw("pick") * len(others)) % len(others)]
        return Decision(new, f"{evidence} (attention slip)", True)
    return Decision(label, evidence)


def wants_json(parsed: ParsedPrompt, response_format: Mapping[str, Any] | None) -> bool:
    if parsed.json_output:
        return True
    if not response_format:
        return False
    kind = str(response_format.get("type", "")) if isinstance(response_format, Mapping) else ""
    return (
        kind.startswith("json") or "json_schema" in response_format or "schema" in response_format
    )


def format_answer(label: str, as_json: bool, key: str = "label") -> str:
    return json.dumps({key: label}) if as_json else label

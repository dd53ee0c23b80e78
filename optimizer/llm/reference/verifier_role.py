"""The verifier role: re-reads a payload and agrees with or overturns a proposed label.

Contracts:
- Evidence = built-in knowledge indicators (case-insensitive, after URL/HTML/unicode decoding and
  comment stripping) plus cues from the verifier's own system prompt (read like a task-prompt).
- Overturn only when the proposed label has no evidence and another allowed label has some; with
  no evidence at all the verifier agrees (it cannot tell). A benign proposal is overturned when
  an attack label has evidence.
- Answer: three lines ``VERDICT: agree|overturn`` / ``LABEL: x`` / ``RATIONALE: ...``, or a JSON
  object with keys ``verdict``, ``label``, ``rationale`` when asked for JSON.
"""

from __future__ import annotations

import json

from optimizer.llm.reference.distil import decoded
from optimizer.llm.reference.knowledge import find_known
from optimizer.llm.reference.prompt_parse import parse_prompt


def verify(
    system: str, payload: str, proposed: str, allowed: tuple[str, ...], as_json: bool
) -> str:
    text = decoded(payload[:4000])
    low = text.lower()
    parsed = parse_prompt(system, allowed)
    evidence: dict[str, list[str]] = {}
    for lab in allowed:
        hits = list(find_known(text, lab))
        for cue in parsed.cues:
            if cue.label == lab and cue.text.lower() in low:
                hits.append(cue.text)
        if hits:
            evidence[lab] = hits
    if proposed in evidence or not evidence:
        verdict, label = "agree", proposed
        why = (
            f"found {', '.join(repr(h) for h in evidence[proposed][:3])} ({proposed} evidence)"
            if proposed in evidence
            else "no decisive indicator either way; keeping the proposed label"
        )
    else:
        label = max(evidence, key=lambda lab: (len(evidence[lab]), -allowed.index(lab)))
        verdict = "overturn"
        why = (
            f"no {proposed} evidence; found {', '.join(repr(h) for h in evidence[label][:3])} "
            f"({label} evidence)"
        )
    if as_json:
        return json.dumps({"verdict": verdict, "label": label, "rationale": why})
    return f"VERDICT: {verdict}\nLABEL: {label}\nRATIONALE: {why}"

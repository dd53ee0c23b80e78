"""Parsing the operators' meta-prompt (docs/meta-prompt-format.md) into sections.

Contracts:
- A header is a line starting with one of ``HEADERS`` in capitals followed by a colon; its body
  runs to the next header. The answer-cue line (``INSTRUCTION MUTANT:`` or
  ``MUTATION PROMPT MUTANT:``) ends the last body and is not part of it.
- Failure cases and correct examples are parsed into ``Case`` values; an ``input:`` value that is
  a JSON string literal is decoded, anything else is kept verbatim.
- ``PROMPTS`` / ``MUTATION PROMPTS`` bodies are split on ``[k]`` lines; ``SCORES`` on ``k: x``.
- Parsing never raises; missing sections are empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

HEADERS = (
    "PROBLEM DESCRIPTION",
    "THINKING STYLE",
    "MUTATION PROMPTS",
    "MUTATION PROMPT",
    "INSTRUCTION",
    "FAILURE CASES",
    "CORRECT EXAMPLES",
    "PROMPTS",
    "SCORES",
)
CUES = ("INSTRUCTION MUTANT:", "MUTATION PROMPT MUTANT:")
_HEADER = re.compile(r"^(" + "|".join(HEADERS) + r"):[ \t]*(.*)$")
_ITEM = re.compile(r"^\s*\[(\d+)\]\s*(.*)$")
_SCORE = re.compile(r"^\s*\[?(\d+)\]?\s*[:=]\s*(-?[0-9.]+)")
_CASE_FIELD = re.compile(r"^\s*(?:-\s*)?(input|expected|got|label|rationale)\s*:\s*(.*)$", re.I)


@dataclass(frozen=True)
class Case:
    input: str
    expected: str = ""
    got: str = ""
    rationale: str = ""


@dataclass
class MetaPrompt:
    sections: dict[str, str] = field(default_factory=dict)
    failures: list[Case] = field(default_factory=list)
    correct: list[Case] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    mutation_prompts: list[str] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)
    preamble: str = ""

    def get(self, name: str) -> str:
        return self.sections.get(name, "").strip()


def _value(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            v = json.loads(raw)
            if isinstance(v, str):
                return v
        except ValueError:
            pass
    return raw


def parse_cases(body: str) -> list[Case]:
    cases: list[dict[str, str]] = []
    for line in body.splitlines():
        m = _CASE_FIELD.match(line)
        if not m:
            continue
        key, val = m.group(1).lower(), m.group(2)
        if key == "input" and line.lstrip().startswith("-"):
            cases.append({"input": _value(val)})
        elif key == "input":
            cases.append({"input": _value(val)})
        elif cases:
            cases[-1]["expected" if key == "label" else key] = val.strip()
    return [Case(**c) for c in cases if c.get("input")]


def split_items(body: str) -> list[str]:
    items: list[list[str]] = []
    for line in body.splitlines():
        m = _ITEM.match(line)
        if m:
            items.append([m.group(2)] if m.group(2).strip() else [])
        elif items:
            items[-1].append(line)
    out = ["\n".join(x).strip() for x in items]
    return [x for x in out if x] or ([body.strip()] if body.strip() else [])


def parse_meta(text: str) -> MetaPrompt:
    """Split a meta-prompt into its sections (see the module contract)."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].strip() in CUES:
        lines.pop()
    meta = MetaPrompt()
    current: str | None = None
    buf: list[str] = []
    for line in lines:
        m = _HEADER.match(line)
        if m:
            if current is not None:
                meta.sections[current] = "\n".join(buf)
            current, buf = m.group(1), [m.group(2)] if m.group(2).strip() else []
        elif current is not None:
            buf.append(line)
        else:
            meta.preamble += line + "\n"
    if current is not None:
        meta.sections[current] = "\n".join(buf)
    meta.failures = parse_cases(meta.sections.get("FAILURE CASES", ""))
    meta.correct = parse_cases(meta.sections.get("CORRECT EXAMPLES", ""))
    if "PROMPTS" in meta.sections:
        meta.prompts = split_items(meta.sections["PROMPTS"])
    if "MUTATION PROMPTS" in meta.sections:
        meta.mutation_prompts = split_items(meta.sections["MUTATION PROMPTS"])
    for line in meta.sections.get("SCORES", "").splitlines():
        m = _SCORE.match(line)
        if m:
            try:
                meta.scores[int(m.group(1))] = float(m.group(2))
            except ValueError:
                continue
    return meta

"""Line-level edits of a task-prompt, used by the mutator role.

Contracts:
- An instruction is edited as a list of lines; every helper returns a new list and never raises.
- Cue lines have the form ``<label> (<family name>): indicators "a", "b"`` (one label per line);
  cues that contain a double quote are written in backticks; cues with both are skipped.
- ``line_kind(line)`` classifies one line with the task model's own parser, so the mutator
  sees the prompt the way the task model will read it.
"""

from __future__ import annotations

import json
import re

from optimizer.llm.reference.knowledge import FAMILY_NAMES
from optimizer.llm.reference.prompt_parse import parse_prompt

_QUOTED = re.compile(r'"([^"\n]{1,80})"|`([^`\n]{1,80})`')

DIRECTIVE_LINES: dict[str, str] = {
    "url": "URL-decode the payload (%xx sequences, also double-encoded) before matching.",
    "html": "Decode HTML entities (&#60; &lt; &#x3c;) before matching.",
    "unicode": "Decode unicode escapes (\\u003c, \\x3c, %u003c) before matching.",
    "case": "Ignore case when matching indicators (case-insensitive).",
    "comments": "Strip SQL inline comments (/* ... */) before matching.",
    "whitespace": "Collapse whitespace (tabs, newlines) to single spaces before matching.",
}


def quote(cue: str) -> str | None:
    if '"' not in cue:
        return f'"{cue}"'
    if "`" not in cue:
        return f"`{cue}`"
    return None


def line_kind(line: str) -> str:
    if not line.strip():
        return "blank"
    kinds = parse_prompt(line).kinds
    return kinds[0] if kinds else "blank"


def cue_label(line: str) -> str | None:
    """The label a cue line assigns its cues to (None for other lines)."""
    p = parse_prompt(line)
    if p.kinds[:1] == ("cues",) and p.cues:
        return p.cues[0].label
    return None


def cues_of(line: str) -> list[str]:
    return [a or b for a, b in _QUOTED.findall(line)]


def all_cues(lines: list[str]) -> set[str]:
    return {c.lower() for ln in lines if cue_label(ln) for c in cues_of(ln)}


def cue_line(label: str, cues: list[str]) -> str:
    name = FAMILY_NAMES.get(label, label)
    quoted = [q for q in (quote(c) for c in cues) if q]
    return f"{label} ({name}): indicators {', '.join(quoted)}"


def _insert_at(lines: list[str]) -> int:
    """Index before the trailing default / example / directive block (or the end)."""
    for i in range(len(lines) - 1, -1, -1):
        k = line_kind(lines[i])
        if k in ("cues", "definition", "label-list"):
            return i + 1
    return len(lines)


def add_cue(lines: list[str], label: str, cue: str) -> list[str]:
    q = quote(cue)
    if q is None or cue.lower() in all_cues(lines):
        return lines
    out = list(lines)
    for i, ln in enumerate(out):
        if cue_label(ln) == label:
            out[i] = ln.rstrip().rstrip(".") + f", {q}"
            return out
    for i, ln in enumerate(out):
        if line_kind(ln) == "definition" and parse_prompt(ln).label_order[:1] == (label,):
            out[i] = ln.rstrip().rstrip(".") + f"; indicators {q}"
            return out
    out.insert(_insert_at(out), cue_line(label, [cue]))
    return out


def remove_cue(lines: list[str], cue: str) -> list[str]:
    out: list[str] = []
    for ln in lines:
        if cue_label(ln) and cue.lower() in (c.lower() for c in cues_of(ln)):
            kept = [c for c in cues_of(ln) if c.lower() != cue.lower()]
            if kept:
                lab = cue_label(ln) or ""
                head = ln[: ln.find('"') if '"' in ln else ln.find("`")].rstrip()
                ln = head + " " + ", ".join(q for q in (quote(c) for c in kept) if q)
                if cue_label(ln) != lab:
                    ln = cue_line(lab, kept)
            else:
                continue
        out.append(ln)
    return out


def example_line(text: str, label: str, limit: int = 160) -> str:
    return f"Example: {json.dumps(text[:limit], ensure_ascii=False)} -> {label}"


def add_example(lines: list[str], text: str, label: str) -> list[str]:
    new = example_line(text, label)
    if new in lines:
        return lines
    out = list(lines)
    idx = len(out)
    for i, ln in enumerate(out):
        if line_kind(ln) == "directive" and parse_prompt(ln).default_label:
            idx = i
            break
    out.insert(idx, new)
    return out


def add_directive(lines: list[str], name: str) -> list[str]:
    if name in parse_prompt("\n".join(lines)).directives or name not in DIRECTIVE_LINES:
        return lines
    out = list(lines)
    out.insert(min(1, len(out)), DIRECTIVE_LINES[name])
    return out


def merge_cue_lines(lines: list[str]) -> list[str]:
    """One cue line per label (first position kept), duplicates removed."""
    groups: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    out: list[str | None] = []
    for ln in lines:
        lab = cue_label(ln)
        if lab is None:
            out.append(ln)
            continue
        if lab not in groups:
            groups[lab] = []
            first[lab] = len(out)
            out.append(None)
        for c in cues_of(ln):
            if c.lower() not in (x.lower() for x in groups[lab]):
                groups[lab].append(c)
    for lab, idx in first.items():
        out[idx] = cue_line(lab, groups[lab])
    return [ln for ln in out if ln is not None]


_SHORT = {
    "url": "URL-decode",
    "html": "decode HTML entities",
    "unicode": "decode unicode escapes",
    "comments": "strip SQL comments",
    "whitespace": "collapse whitespace",
    "case": "ignore case",
}


def merge_directives(lines: list[str]) -> list[str]:
    """Replace the normalization directive lines by one compact line (same directives)."""
    idx = [
        i
        for i, ln in enumerate(lines)
        if line_kind(ln) == "directive"
        and not parse_prompt(ln).default_label
        and not parse_prompt(ln).json_output
    ]
    if len(idx) < 2:
        return lines
    wanted = parse_prompt("\n".join(lines[i] for i in idx)).directives
    merged = "Before matching: " + ", ".join(_SHORT[d] for d in _SHORT if d in wanted) + "."
    if parse_prompt(merged).directives != wanted:
        return lines
    out = [ln for i, ln in enumerate(lines) if i not in idx[1:]]
    out[idx[0]] = merged
    return out

"""Reading a task-prompt the way the reference task model does.

Contracts:
- ``parse_prompt(text, allowed)`` is pure and cached (``lru_cache`` on the prompt text and the
  allowed labels), so repeated calls with the same prompt cost a dictionary lookup.
- Line kinds: example (``Example: <text> -> label``, ``Input:``/``Label:`` pairs, ``- input:`` /
  ``label:`` pairs), directive (decode / ignore case / strip comments / collapse whitespace /
  JSON answers / default label), cue line (names one or two labels and lists quoted or
  code-like indicator strings, or a list after "indicators", "e.g.", "such as", ...), label
  definition (names a label, no cues), framing (talks about the task), clutter (anything else).
- Limited attention: only the first ``max_cues`` cues and ``max_examples`` examples are used.
  Clutter, contradictions (one cue for two labels, two defaults), cues beyond the attention limit
  and sheer length raise ``noise`` (the probability that an answer is perturbed).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from optimizer.llm.reference.labels import SYNONYMS, find_labels
from optimizer.llm.reference.normalize import apply_directives
from optimizer.llm.reference.tokenize import count_tokens, ngrams


@dataclass(frozen=True)
class Limits:
    """Attention limits and noise rates of the task model (see docs/reference-model.md)."""

    max_cues: int = 40
    max_examples: int = 8
    free_clutter_lines: int = 2
    noise_per_clutter: float = 0.012
    noise_per_contradiction: float = 0.04
    noise_per_overflow_cue: float = 0.004
    noise_tokens_free: int = 700
    noise_per_100_tokens: float = 0.01
    max_noise: float = 0.6


@dataclass(frozen=True)
class Cue:
    label: str
    text: str
    weight: float
    pattern: re.Pattern[str]
    needle: str


@dataclass(frozen=True)
class ExampleShot:
    text: str
    label: str
    grams: frozenset[str]


@dataclass(frozen=True)
class ParsedPrompt:
    key: str
    cues: tuple[Cue, ...]
    examples: tuple[ExampleShot, ...]
    directives: frozenset[str]
    default_label: str | None
    json_output: bool
    clutter: int
    contradictions: int
    total_cues: int
    total_examples: int
    tokens: int
    label_order: tuple[str, ...]
    noise: float
    kinds: tuple[str, ...] = field(default=())


_QUOTED = re.compile(r'"([^"\n]{1,80})"|`([^`\n]{1,80})`')
_LIST_KEY = re.compile(
    r"\b(?:indicators?|cues?|signs?|patterns?|such as|e\.g\.|like|look for|contains?|containing|"
    r"tokens?|keywords?|markers?|hints?|strings?|includes?|including)\b\s*:?\s*",
    re.I,
)
_CODE_CHARS = set("<>{}$|;/\\=()'\"`%&*[]#@!^~")
_ARROW = re.compile(r"\s*(?:->|=>|→)\s*")
_EXAMPLE_HEAD = re.compile(r"^(?:[-*•]\s*)?(?:example|ex|e\.g\.)\s*\d*\s*[:.)]\s*", re.I)
_INPUT_HEAD = re.compile(r"^(?:[-*•]\s*)?(?:input|payload|text)\s*:\s*(.*)$", re.I)
_LABEL_HEAD = re.compile(r"^(?:[-*•]\s*)?(?:label|output|answer|expected|class)\s*:\s*(.*)$", re.I)
_DECODE_VERB = re.compile(r"\b(?:decod\w*|unescap\w*|normali[sz]\w*|undo)\b", re.I)
_FRAMING = re.compile(
    r"\b(?:classif\w*|label\w*|categor\w*|payload\w*|request\w*|input\w*|answer\w*|respond\w*|"
    r"output\w*|decid\w*|determin\w*|identif\w*|attack\w*|malicious|security|analy[sz]\w*)\b",
    re.I,
)
_DEFAULT = re.compile(
    r"\b(?:if nothing|if no\b|if none|otherwise|default|when unsure|if unsure|when in doubt|"
    r"no indicator|nothing matches|none of)\b",
    re.I,
)


def _json_or_raw(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            value = json.loads(text)
            if isinstance(value, str):
                return value
        except ValueError:
            return text[1:-1]
    if len(text) >= 2 and text[0] == "`" and text[-1] == "`":
        return text[1:-1]
    return text


def _make_cue(label: str, text: str, fold: bool) -> Cue:
    needle = text.lower() if fold else text
    pat = re.escape(needle)
    if "\\r" in text or "\\n" in text:
        # an escaped CR/LF cue matches both the literal escape text and real CR/LF characters
        real = needle.replace("\\r", "\r").replace("\\n", "\n")
        pat, needle = f"(?:{pat}|{re.escape(real)})", ""
    if needle[:1].isalnum():
        pat = r"(?<![A-Za-z0-9])" + pat
    if needle[-1:].isalnum():
        pat = pat + r"(?![A-Za-z0-9])"
    weight = min(2.5, 0.8 + 0.12 * len(text.strip()))
    return Cue(label, text, weight, re.compile(pat), needle)


def _label_finder(allowed: tuple[str, ...]):
    extra = [a for a in allowed if a not in SYNONYMS]
    if not extra:
        return find_labels
    rx = re.compile(
        r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(a) for a in extra) + r")(?![A-Za-z0-9_])", re.I
    )
    lookup = {a.lower(): a for a in extra}

    def finder(line: str) -> tuple[str, ...]:
        hits = [(m.start(), lookup[m.group(1).lower()]) for m in rx.finditer(line)]
        base = find_labels(line)
        if base:
            low = line.lower()
            for lab in base:
                for p in SYNONYMS[lab]:
                    i = low.find(p)
                    if i >= 0:
                        hits.append((i, lab))
                        break
        out: list[str] = []
        for _, lab in sorted(hits):
            if lab not in out:
                out.append(lab)
        return tuple(out)

    return finder


def _directives(low: str) -> set[str]:
    found: set[str] = set()
    if _DECODE_VERB.search(low):
        if re.search(r"\burl|percent|%xx|%-|%2", low):
            found.add("url")
        if re.search(r"html|entit|&#|&lt", low):
            found.add("html")
        if re.search(r"unicode|\\u|\\x", low):
            found.add("unicode")
    if re.search(
        r"ignore (?:the )?case|case[- ]insensitiv|regardless of (?:letter )?case|any case|"
        r"lower-?case",
        low,
    ):
        found.add("case")
    if re.search(r"\b(?:strip|remove|ignore|drop|delete)\b", low) and "comment" in low:
        found.add("comments")
    if re.search(r"\b(?:collapse|normali[sz]e|ignore|squeeze)\b", low) and re.search(
        r"white ?space|tabs|newlines", low
    ):
        found.add("whitespace")
    if "json" in low and re.search(r"answer|respond|reply|output|return|format", low):
        found.add("json")
    return found


def _cues_from(rest: str) -> list[str]:
    quoted = [a or b for a, b in _QUOTED.findall(rest)]
    if quoted:
        return [q for q in quoted if q.strip()]
    m = _LIST_KEY.search(rest)
    if m is None:
        return []
    items = re.split(r",|;|\s+or\s+|\s+and\s+", rest[m.end() :])
    out = []
    for item in items:
        item = item.strip().rstrip(".").strip()
        if 1 <= len(item) <= 30 and len(item.split()) <= 4 and not find_labels(item):
            out.append(item)
    return out


def _example_line(line: str, finder) -> tuple[str, str] | None:
    m = _EXAMPLE_HEAD.match(line)
    if m is None:
        return None
    body = line[m.end() :]
    parts = list(_ARROW.finditer(body))
    if not parts:
        return None
    last = parts[-1]
    labs = finder(body[last.end() :])
    text = _json_or_raw(body[: last.start()])
    if not labs or not text:
        return None
    return text, labs[0]


@lru_cache(maxsize=256)
def parse_prompt(
    text: str, allowed: tuple[str, ...] = (), limits: Limits = Limits()
) -> ParsedPrompt:
    """Parse a task-prompt (see the module contract)."""
    finder = _label_finder(allowed)
    cues: list[tuple[str, str]] = []
    examples: list[tuple[str, str]] = []
    directives: set[str] = set()
    defaults: list[str] = []
    label_order: list[str] = []
    clutter = framing_free = 0
    kinds: list[str] = []
    last_label: str | None = None
    pending_input: str | None = None
    lines = [ln.strip() for ln in text.splitlines()]
    for line in lines:
        if not line:
            continue
        low = line.lower()
        if pending_input is not None:
            m = _LABEL_HEAD.match(line)
            if m:
                labs = finder(m.group(1))
                if labs:
                    examples.append((pending_input, labs[0]))
                    kinds.append("example")
                pending_input = None
                continue
            pending_input = None
        m = _INPUT_HEAD.match(line)
        if m and m.group(1).strip():
            pending_input = _json_or_raw(m.group(1))
            kinds.append("example-input")
            continue
        ex = _example_line(line, finder)
        if ex is not None:
            examples.append(ex)
            kinds.append("example")
            continue
        found = _directives(low)
        labs = finder(line)
        if labs and _DEFAULT.search(line):
            defaults.append(labs[-1])
            found.add("default")
        if found:
            directives |= found - {"default"}
            kinds.append("directive")
            continue
        for lab in labs:
            if lab not in label_order:
                label_order.append(lab)
        if labs and len(labs) <= 2:
            first = labs[0]
            idx = 0
            for p in (*SYNONYMS.get(first, ()), first):
                i = low.find(p.lower())
                if i >= 0:
                    idx = i + len(p)
                    break
            got = _cues_from(line[idx:])
            if got:
                cues.extend((first, c) for c in got)
                kinds.append("cues")
            else:
                kinds.append("definition")
            last_label = first
            continue
        if labs:
            kinds.append("label-list")
            continue
        quoted = [a or b for a, b in _QUOTED.findall(line)]
        if quoted and last_label is not None and line[:1] in '-*•"`':
            cues.extend((last_label, q) for q in quoted if q.strip())
            kinds.append("cues")
            continue
        if _FRAMING.search(line) and framing_free < 6:
            framing_free += 1
            kinds.append("framing")
            continue
        clutter += 1
        kinds.append("clutter")
    fold = "case" in directives
    seen: dict[str, str] = {}
    contradictions = 0
    uniq: list[tuple[str, str]] = []
    for lab, c in cues:
        k = c.lower()
        if k in seen:
            if seen[k] != lab:
                contradictions += 1
                uniq.append((lab, c))
            continue
        seen[k] = lab
        uniq.append((lab, c))
    if len(set(defaults)) > 1:
        contradictions += len(set(defaults)) - 1
    tokens = count_tokens(text)
    lim = limits
    noise = (
        lim.noise_per_clutter * max(0, clutter - lim.free_clutter_lines)
        + lim.noise_per_contradiction * contradictions
        + lim.noise_per_overflow_cue * max(0, len(uniq) - lim.max_cues)
        + lim.noise_per_100_tokens * max(0, tokens - lim.noise_tokens_free) / 100
    )
    kept = tuple(_make_cue(lab, c, fold) for lab, c in uniq[: lim.max_cues])
    shots = tuple(
        ExampleShot(t, lab, ngrams(apply_directives(t[:400], directives)))
        for t, lab in examples[: lim.max_examples]
    )
    return ParsedPrompt(
        key=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16],
        cues=kept,
        examples=shots,
        directives=frozenset(directives - {"json"}),
        default_label=defaults[0] if defaults else None,
        json_output="json" in directives,
        clutter=clutter,
        contradictions=contradictions,
        total_cues=len(uniq),
        total_examples=len(examples),
        tokens=tokens,
        label_order=tuple(label_order),
        noise=min(lim.max_noise, noise),
        kinds=tuple(kinds),
    )

"""Meta-prompt building blocks shared by the operators: templates, sections, answer parsing.

The section formats follow ``docs/meta-prompt-format.md`` (the contract with the mutation model):
headers in capitals followed by a colon, lists of prompts as ``[k]`` items, failure cases and
correct examples as ``- input: <JSON string>`` items, and an answer cue on the last line. The
operator-specific prose always sits *before* the first header, so a header-driven reader never
mistakes it for the body of a section.

Templates are ``string.Template`` files in ``templates/<operator>.txt`` (``$name`` placeholders),
so braces in prompts and payloads need no escaping.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING

from optimizer.errors import ConfigError, OperatorError
from optimizer.units import FailureCase, Shot, json_line

if TYPE_CHECKING:
    from optimizer.operators.base import MutationContext

HEADERS = (
    "PROBLEM DESCRIPTION",
    "THINKING STYLE",
    "MUTATION PROMPT MUTANT",
    "MUTATION PROMPTS",
    "MUTATION PROMPT",
    "INSTRUCTION MUTANT",
    "INSTRUCTION",
    "FAILURE CASES",
    "CORRECT EXAMPLES",
    "PROMPTS",
    "SCORES",
)
_HEADER_LINE = re.compile(r"^[ \t]*(?:" + "|".join(HEADERS) + r")[ \t]*:", re.M)


@functools.cache
def load_template(name: str) -> string.Template:
    """The template ``templates/<name>.txt`` (package data)."""
    path = resources.files("optimizer.operators").joinpath("templates", f"{name}.txt")
    try:
        return string.Template(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no meta-prompt template {name!r}; expected optimizer/operators/templates/{name}.txt"
        ) from None


def render(name: str, **fields: str) -> str:
    """Render template ``name``; every placeholder must be given."""
    try:
        return load_template(name).substitute(fields).rstrip("\n")
    except KeyError as exc:  # a template/operator mismatch is a programming error
        raise ConfigError(f"template {name!r} needs field {exc.args[0]!r}") from None


_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")


@functools.cache
def fixed_sentences(name: str) -> tuple[str, ...]:
    """The template's own prose sentences (no placeholder, ≥ 25 chars), for echo detection."""
    pieces = _SENTENCE_END.split(load_template(name).template)
    return tuple(p.strip() for p in pieces if "$" not in p and len(p.strip()) >= 25)


# ---------------------------------------------------------------- sections


def format_prompt_list(prompts: Sequence[str]) -> str:
    """``[1]`` / text / ``[2]`` / text ... (body of a ``PROMPTS:`` or ``MUTATION PROMPTS:``)."""
    return "\n".join(f"[{k}]\n{text.strip()}" for k, text in enumerate(prompts, start=1))


def format_ranks(n: int) -> str:
    """Body of a ``SCORES:`` section giving ``n`` listed prompts their rank (1 = worst)."""
    return "\n".join(f"{k}: {k}" for k in range(1, n + 1))


MAX_INPUT_CHARS = 1000


def _clip(text: str, limit: int = MAX_INPUT_CHARS) -> str:
    """The first ``limit`` characters of an input: one huge payload must not flood the prompt."""
    return text if len(text) <= limit else text[:limit]


def format_failures(failures: Iterable[FailureCase]) -> str:
    """Body of a ``FAILURE CASES:`` section: one ``- input:`` item per case.

    Inputs are JSON string literals, clipped to ``MAX_INPUT_CHARS``; a multi-line rationale is
    folded onto one line.
    """
    items = []
    for case in failures:
        lines = [
            f"- input: {json_line(_clip(case.input))}",
            f"  expected: {case.expected}",
            f"  got: {case.got if case.got is not None else '(no valid label)'}",
        ]
        if case.rationale:
            lines.append(f"  rationale: {' '.join(case.rationale.split())}")
        items.append("\n".join(lines))
    return "\n".join(items)


def format_shots(shots: Iterable[Shot]) -> str:
    """Body of a ``CORRECT EXAMPLES:`` section: ``- input:`` + ``  label:`` per shot."""
    return "\n".join(f"- input: {json_line(_clip(s.input))}\n  label: {s.label}" for s in shots)


# ---------------------------------------------------------------- parsing

_FENCE = re.compile(r"^```[\w+-]*[ \t]*\n(?P<body>.*?)\n?```\s*$", re.S)
_LEADING_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:"
    r"instruction mutant|mutation prompt mutant|mutation prompt|instruction|"
    r"(?:new|improved|revised|mutated|updated|rewritten|final) "
    r"(?:instruction|mutation prompt|prompt)|"
    r"prompt|answer"
    r")(?:\*\*)?\s*:\s*(?:\*\*)?",
    re.I,
)
_HERE_IS = re.compile(
    r"^\s*(?:here(?:'s| is| are)|below is|sure[,!.]?\s+here(?:'s| is))\b"
    r"[^\n:.]{0,120}[:.](?:\s+|$)",
    re.I,
)
_LIST_MARKER = re.compile(r"^\s*\[\d+\][ \t]*\n?")
_CUE_ANYWHERE = re.compile(r"^[ \t*]*(?:INSTRUCTION|MUTATION PROMPT) MUTANT[ \t*]*:", re.M | re.I)
_NEXT_ITEM = re.compile(r"\n[ \t]*\[\d+\][ \t]*(?:\n|$)")
_QUOTES = (('"', '"'), ("'", "'"), ("“", "”"), ("«", "»"), ("`", "`"))


def parse_answer(raw: str) -> str:
    """The bare prompt text inside a model answer.

    Strips, repeatedly and in any order: surrounding whitespace, a code fence, a leading
    "Here is ...:" sentence, a leading label such as ``INSTRUCTION MUTANT:`` or ``New
    instruction:``, a leading ``[k]`` list marker (EDA/lineage continuations), and one pair of
    surrounding quotes. When the model continued a list with several ``[k]`` items, only the
    first is kept. When the answer cue appears on a later line (a model that reasons first or
    repeats the meta-prompt), only the text after its last occurrence counts. Inner text is
    kept verbatim (multi-line instructions stay multi-line).
    """
    cues = list(_CUE_ANYWHERE.finditer(raw))
    text = raw[cues[-1].end() :].strip() if cues else raw.strip()
    while True:
        before = text
        fence = _FENCE.match(text)
        if fence:
            text = fence.group("body").strip()
        elif text.endswith("```") and text.count("```") == 1:  # fence opened before the cue
            text = text[:-3].strip()
        text = _HERE_IS.sub("", text, count=1).strip()
        text = _LEADING_LABEL.sub("", text, count=1).strip()
        text = _LIST_MARKER.sub("", text, count=1).strip()
        text = _NEXT_ITEM.split(text, maxsplit=1)[0].strip()
        for left, right in _QUOTES:
            if len(text) >= 2 and text.startswith(left) and text.endswith(right):
                inner = text[len(left) : -len(right)]
                if left not in inner and right not in inner:
                    text = inner.strip()
                break
        if text == before:
            return text


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def check_child(
    text: str,
    *,
    parent_text: str,
    max_chars: int,
    template: str,
    what: str = "instruction",
) -> str:
    """Validate a parsed child text; return it or raise ``OperatorError`` with the reason."""
    if not text.strip():
        raise OperatorError(f"empty {what}: the mutation model returned no usable text")
    if _normalized(text) == _normalized(parent_text):
        raise OperatorError(f"{what} identical to the parent's")
    if len(text) > max_chars:
        raise OperatorError(f"{what} too long: {len(text)} > {max_chars} characters")
    if _HEADER_LINE.search(text) or "<<<BEGIN " in text:
        raise OperatorError(
            f"{what} looks like an echo of the meta-prompt (contains a section header)"
        )
    for line in fixed_sentences(template):
        if line in text:
            raise OperatorError(f"{what} looks like an echo of the meta-prompt ({line[:40]!r}...)")
    return text


def trigram_jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the character-trigram sets of two normalized texts (0..1).

    A cheap stand-in for the paper's BERT cosine similarity in the EDA near-duplicate filter:
    deterministic, dependency-free, and what matters here is catching near-copies, not meaning.
    """
    ta, tb = _trigrams(_normalized(a)), _trigrams(_normalized(b))
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def _trigrams(text: str) -> set[str]:
    if len(text) < 3:
        return {text} if text else set()
    return {text[i : i + 3] for i in range(len(text) - 2)}


def drop_near_duplicates(texts: Sequence[str], threshold: float = 0.95) -> list[str]:
    """Keep texts in order, dropping any whose similarity to a kept one exceeds ``threshold``."""
    kept: list[str] = []
    for text in texts:
        if all(trigram_jaccard(text, other) <= threshold for other in kept):
            kept.append(text)
    return kept


async def ask(ctx: MutationContext, template: str, **fields: str) -> tuple[str, str, str]:
    """Render ``template``, send it through ``ctx.llm``; return (meta-prompt, raw, parsed)."""
    meta_prompt = render(template, **fields)
    raw = await ctx.llm(meta_prompt)
    if not isinstance(raw, str):
        raise OperatorError(f"the mutation model returned {type(raw).__name__}, not text")
    return meta_prompt, raw, parse_answer(raw)

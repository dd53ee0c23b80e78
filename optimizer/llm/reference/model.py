"""``ReferenceModel``: the offline model ``local/reference`` (see docs/reference-model.md).

Contracts:
- ``ReferenceModel(settings).respond(messages, temperature=, seed=, response_format=,
  max_tokens=) -> str`` NEVER raises: odd, empty or huge requests get a short plausible answer.
- Role dispatch on the last user message: ends with ``INSTRUCTION MUTANT:`` or
  ``MUTATION PROMPT MUTANT:`` -> mutator; has ``PROPOSED LABEL:`` and ends with ``VERDICT:``
  -> verifier; ends with ``EVASIVE REWRITE:`` -> adversary; holds a ``<<<BEGIN PAYLOAD ..>>>``
  block or DSPy ``[[ ## field ## ]]`` inputs -> task; anything else -> a short generic answer.
- Temperature 0: the answer is a pure function of the request (SHA-256 based, identical across
  processes). Temperature > 0: answers vary; with ``seed`` they are reproducible (the RNG is
  seeded from SHA-256 of (seed, messages)); without a seed they come from fresh entropy.
- ``max_tokens`` truncates the answer to about 4 characters per token.
- ``count_tokens(text)`` approximates a tokenizer (~4 characters per token).
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from optimizer.llm.reference import adversary_role, mutator_role, task_role, verifier_role
from optimizer.llm.reference.dspy_format import DspyRequest, format_dspy, parse_dspy
from optimizer.llm.reference.labels import DEFAULT_LABELS, canonical
from optimizer.llm.reference.metaprompt import parse_meta
from optimizer.llm.reference.prompt_parse import ExampleShot, Limits, parse_prompt
from optimizer.llm.reference.tokenize import count_tokens, ngrams
from optimizer.tasks.render import BEGIN_RE, extract_delimited

logger = logging.getLogger(__name__)

__all__ = ["ReferenceModel", "ReferenceModelSettings", "count_tokens"]

_ALLOWED = re.compile(r"^Allowed labels:[ \t]*(.+)$", re.M)
_FIELD = re.compile(r"^(PROPOSED LABEL|LABEL|TRANSFORMS):[ \t]*(.*)$", re.M)
MAX_CHARS = 200_000
GENERIC_ANSWER = (
    "I am the offline reference model. Send a delimited payload to classify, or a meta-prompt "
    "ending with INSTRUCTION MUTANT:."
)


@dataclass(frozen=True)
class ReferenceModelSettings:
    """Optional knobs of the model itself: ``limits`` sets the task role's attention limits and
    noise rates. (Simulated latency and prices belong to the litellm provider.)"""

    limits: Limits = field(default_factory=Limits)


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, Mapping):
                parts.append(str(p.get("text", "")))
            else:
                parts.append(str(p))
        return "\n".join(parts)
    return str(content)


def _clean(messages: Any) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if isinstance(messages, Mapping) or isinstance(messages, str):
        messages = [messages]
    for m in messages or ():
        if isinstance(m, Mapping):
            out.append(
                {"role": str(m.get("role", "user")), "content": _text(m.get("content"))[:MAX_CHARS]}
            )
        elif isinstance(m, str):
            out.append({"role": "user", "content": m[:MAX_CHARS]})
    return out


def _outside(text: str) -> str:
    """``text`` without its delimited blocks: request fields (``Allowed labels:``, ``LABEL:``...)
    are read only outside the untrusted data, so a payload cannot forge them."""
    out, pos = [], 0
    for m in BEGIN_RE.finditer(text):
        if m.start() < pos:
            continue
        end = f"\n<<<END {m.group('name')} {m.group('tag')}>>>"
        stop = text.find(end, m.end())
        out.append(text[pos:m.start()])
        pos = len(text) if stop == -1 else stop + len(end)
    out.append(text[pos:])
    return "".join(out)


def _digest(messages: list[dict[str, str]]) -> str:
    h = hashlib.sha256()
    for m in messages:
        h.update(
            m["role"].encode() + b"\x1e" + m["content"].encode("utf-8", "surrogatepass") + b"\x1f"
        )
    return h.hexdigest()


@lru_cache(maxsize=1024)
def _shots(demos: tuple[tuple[str, str], ...], allowed: tuple[str, ...]) -> tuple[ExampleShot, ...]:
    out = []
    for text, lab in demos:
        c = canonical(lab, allowed)
        if c:
            out.append(ExampleShot(text, c, ngrams(text[:400])))
    return tuple(out)


def _wants_json(response_format: Any) -> bool:
    if not response_format:
        return False
    if isinstance(response_format, Mapping):
        kind = str(response_format.get("type", ""))
        return (
            kind.startswith("json")
            or "json_schema" in response_format
            or "schema" in response_format
        )
    return True  # a pydantic model class or similar structured-output request


class ReferenceModel:
    """Deterministic prompt-conditioned model; ``respond`` never raises."""

    def __init__(self, settings: ReferenceModelSettings | None = None) -> None:
        self.settings = settings or ReferenceModelSettings()

    @staticmethod
    def count_tokens(text: str) -> int:
        return count_tokens(text)

    def respond(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> str:
        try:
            try:
                temp = float(temperature or 0.0)
            except (TypeError, ValueError):
                temp = 0.0
            answer = self._respond(_clean(messages), temp, seed, response_format)
        except Exception:  # the contract: never raise
            logger.exception("reference model failed on a request; answering generically")
            answer = "benign"
        if max_tokens is not None and isinstance(max_tokens, int) and max_tokens > 0:
            answer = answer[: max_tokens * 4]
        return answer or "benign"

    def _rng(self, msgs: list[dict[str, str]], temp: float, seed: int | None) -> random.Random:
        if temp <= 0:
            return random.Random(int(_digest(msgs)[:16], 16))
        if seed is None:
            return random.Random()
        return random.Random(
            int(hashlib.sha256(f"{seed}\x1f{_digest(msgs)}".encode()).hexdigest()[:16], 16)
        )

    def _respond(
        self, msgs: list[dict[str, str]], temp: float, seed: int | None, response_format: Any
    ) -> str:
        if not msgs:
            return GENERIC_ANSWER
        system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
        users = [m["content"] for m in msgs if m["role"] == "user"]
        last = users[-1] if users else msgs[-1]["content"]
        tail = last.rstrip()
        as_json = _wants_json(response_format)
        dspy_req = parse_dspy(msgs) if "[[ ## " in last else None
        if dspy_req is not None:
            return self._dspy(dspy_req, msgs, temp, seed, as_json)
        if tail.endswith(("INSTRUCTION MUTANT:", "MUTATION PROMPT MUTANT:")):
            return self._mutate(tail, msgs, temp, seed)
        if "PROPOSED LABEL:" in last and tail.endswith("VERDICT:"):
            fields = dict(_FIELD.findall(_outside(last)))
            allowed = self._allowed(_outside(last), system)
            proposed = canonical(fields.get("PROPOSED LABEL", ""), allowed) or allowed[0]
            payload = extract_delimited(last) or ""
            return verifier_role.verify(system, payload, proposed, allowed, as_json)
        if tail.endswith("EVASIVE REWRITE:"):
            fields = dict(_FIELD.findall(_outside(last)))
            payload = extract_delimited(last, "PAYLOAD") or extract_delimited(last) or ""
            requested = [t for t in fields.get("TRANSFORMS", "").split(",") if t.strip()]
            rng = self._rng(msgs, temp, seed)
            return adversary_role.rewrite(
                payload, fields.get("LABEL", "").strip(), requested, rng, as_json
            )
        payload = extract_delimited(last)
        if payload is not None:
            allowed = self._allowed(_outside(last), system)
            parsed = parse_prompt(system, allowed, self.settings.limits)
            rng = self._rng(msgs, temp, seed) if temp > 0 else None
            d = task_role.classify(parsed, payload, allowed, temperature=temp, rng=rng)
            return task_role.format_answer(d.label, as_json or parsed.json_output)
        return GENERIC_ANSWER

    @staticmethod
    def _allowed(last: str, system: str) -> tuple[str, ...]:
        m = _ALLOWED.search(last)
        if m:
            labs = tuple(x.strip() for x in m.group(1).split(",") if x.strip())
            if labs:
                return labs
        return DEFAULT_LABELS

    def _mutate(self, tail: str, msgs: list[dict[str, str]], temp: float, seed: int | None) -> str:
        meta = parse_meta(tail)
        if len(meta.sections) == 0 and len(msgs) > 1:
            meta = parse_meta("\n".join(m["content"] for m in msgs))
        rng = self._rng(msgs, temp, seed)
        if tail.endswith("MUTATION PROMPT MUTANT:"):
            return mutator_role.mutate_mutation_prompt(meta, rng)
        return mutator_role.mutate_instruction(meta, rng)

    def _dspy(
        self,
        req: DspyRequest,
        msgs: list[dict[str, str]],
        temp: float,
        seed: int | None,
        as_json: bool,
    ) -> str:
        values = list(req.values.values())
        joined = "\n".join(values).rstrip()
        target = req.outputs[-1]
        if joined.endswith(("INSTRUCTION MUTANT:", "MUTATION PROMPT MUTANT:")):
            answer = self._mutate(joined, msgs, temp, seed)
            return format_dspy(
                req, {target: answer, "reasoning": "Edited the instruction."}, as_json
            )
        allowed = req.allowed or DEFAULT_LABELS
        parsed = parse_prompt(req.instruction, allowed, self.settings.limits)
        field_name = next((f for f in req.inputs if f in req.values), None)
        payload = req.values.get(field_name, joined) if field_name else joined
        rng = self._rng(msgs, temp, seed) if temp > 0 else None
        d = task_role.classify(
            parsed, payload, allowed, temperature=temp, rng=rng, demos=_shots(req.demos, allowed)
        )
        out = {f: "" for f in req.outputs}
        out[target] = d.label
        for f in req.outputs:
            if f != target:
                out[f] = f"The payload shows {d.evidence}, so the label is {d.label}."
        return format_dspy(req, out, as_json)

"""Reading and answering DSPy chat-adapter (and JSON-adapter) requests.

Contracts:
- ``parse_dspy(messages)`` returns a ``DspyRequest`` when the messages look like DSPy's
  ChatAdapter/JSONAdapter format (system lists "Your input fields are:" and the user message
  carries ``[[ ## field ## ]]`` blocks), else None. The instruction is the text after
  "your objective is:" (dedented); demos are the earlier user/assistant pairs; the allowed labels
  come from a ``Literal[...]`` type or "one of: a; b" note of the output field.
- ``format_dspy(req, values)`` answers with ``[[ ## field ## ]]`` blocks and the
  ``[[ ## completed ## ]]`` marker, or a JSON object when the adapter asked for JSON.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_FIELD_BLOCK = re.compile(r"\[\[ ## (\w+) ## \]\]\n?(.*?)(?=\n*\[\[ ## \w+ ## \]\]|\Z)", re.S)
_FIELD_DECL = re.compile(r"^\s*\d+\. `(\w+)` \((.*?)\):?", re.M)
_LITERAL = re.compile(r"Literal\[(.*?)\]")
_ONE_OF = re.compile(r"one of: ([^\n]+)")
_OBJECTIVE = "your objective is:"


@dataclass(frozen=True)
class DspyRequest:
    instruction: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    values: Mapping[str, str]
    demos: tuple[tuple[str, str], ...]
    allowed: tuple[str, ...]
    json_mode: bool


def _fields(text: str) -> dict[str, str]:
    return {k: v.strip("\n") for k, v in _FIELD_BLOCK.findall(text)}


def _strip_respond(value: str) -> str:
    i = value.rfind("\n\nRespond with")
    return value[:i] if i >= 0 else value


def parse_dspy(messages: Sequence[Mapping[str, str]]) -> DspyRequest | None:
    """Parse a DSPy adapter request (see the module contract)."""
    if not messages:
        return None
    system = str(messages[0].get("content") or "") if messages[0].get("role") == "system" else ""
    last = str(messages[-1].get("content") or "")
    if "Your input fields are:" not in system or "[[ ## " not in last:
        return None
    in_part, _, rest = system.partition("Your output fields are:")
    out_part = rest.split("All interactions will be", 1)[0]
    inputs = tuple(m.group(1) for m in _FIELD_DECL.finditer(in_part))
    outs = list(_FIELD_DECL.finditer(out_part))
    outputs = tuple(m.group(1) for m in outs) or ("label",)
    allowed: tuple[str, ...] = ()
    for m in outs:
        lit = _LITERAL.search(m.group(2))
        if lit:
            allowed = tuple(x.strip().strip("'\"") for x in lit.group(1).split(","))
    if not allowed:
        one = _ONE_OF.search(system)
        if one:
            allowed = tuple(x.strip() for x in one.group(1).split(";") if x.strip())
    idx = system.find(_OBJECTIVE)
    instruction = ""
    if idx >= 0:
        instruction = textwrap.dedent(system[idx + len(_OBJECTIVE) :].strip("\n")).strip()
    values = {k: _strip_respond(v) for k, v in _fields(last).items()}
    demos: list[tuple[str, str]] = []
    target = outputs[-1]
    first_in = inputs[0] if inputs else None
    for i in range(1, len(messages) - 1):
        if messages[i].get("role") != "assistant" or messages[i - 1].get("role") != "user":
            continue
        ins = _fields(str(messages[i - 1].get("content") or ""))
        outs_v = _fields(str(messages[i].get("content") or ""))
        if not outs_v:
            try:
                obj = json.loads(str(messages[i].get("content") or ""))
                outs_v = {str(k): str(v) for k, v in obj.items()} if isinstance(obj, dict) else {}
            except ValueError:
                outs_v = {}
        if first_in in ins and target in outs_v:
            demos.append((_strip_respond(ins[first_in]), outs_v[target].strip()))
    json_mode = "Respond with a JSON object" in last or "Outputs will be a JSON object" in system
    return DspyRequest(
        instruction=instruction,
        inputs=inputs,
        outputs=outputs,
        values=values,
        demos=tuple(demos),
        allowed=allowed,
        json_mode=json_mode,
    )


def format_dspy(req: DspyRequest, values: Mapping[str, str], force_json: bool = False) -> str:
    """Answer with every output field of ``req`` (missing values become short text)."""
    filled = {f: str(values.get(f, "")) for f in req.outputs}
    if req.json_mode or force_json:
        return json.dumps(filled)
    parts = [f"[[ ## {f} ## ]]\n{v}\n" for f, v in filled.items()]
    return "\n".join(parts) + "\n[[ ## completed ## ]]"

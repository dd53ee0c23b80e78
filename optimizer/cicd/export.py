"""``breed export NAME[@VERSION|@ALIAS]``: a released prompt in a deployable format.

Contracts:
- ``bundle`` collects what every format carries: the evaluated prompt text, the content hash
  (the candidate's hash, as stored with the release) and the SHA-256 of the text, the version
  and the aliases pointing at it, the task-model settings of the run that produced it, a
  lineage summary, scores with 95 % bootstrap intervals per stored split, the gate evidence of
  the release, and the approvals. ``NAME`` alone means the newest version.
- Formats: ``json`` and ``yaml`` (the bundle); ``txt`` (exactly the prompt text, byte for
  byte, for applications that load a prompt file; the other formats carry the metadata);
  ``dspy`` (a Python module: ``program()`` returns a ``dspy.Predict`` whose instructions are
  the prompt, ``predict(payload)`` runs it on the exported model, and running the file prints
  one JSON line per payload argument); ``promptfoo`` (a promptfoo config whose tests are the
  regression suite, one ``equals`` assertion per case, critical cases marked).
- Export reads only; an unknown line, version or alias raises ``NotFoundError``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from optimizer.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from optimizer.store import Store

FORMATS = ("json", "yaml", "txt", "dspy", "promptfoo")
SCORE_SPLITS = ("dev", "test", "regression")


def bundle(store: Store, ref: str, n_boot: int = 1000) -> dict[str, Any]:
    """Everything an export carries (see the module contract)."""
    import numpy as np

    from optimizer.cicd.targets import candidate_text, parse_release_ref, run_config, text_sha256
    from optimizer.evaluation.metrics import evaluate
    from optimizer.wiring import get_task

    name, at = parse_release_ref(ref)
    if not store.releases(name):
        raise NotFoundError(f"no release line {name!r}; `breed releases NAME` shows lines "
                            "created by `breed promote`")
    rel = store.get_release(name, at)
    c = store.get_candidate(rel.candidate_id)
    config, _ = run_config(store, c.run_id)
    task = get_task(config)
    text = candidate_text(c)
    ancestors = store.ancestors(c.id)
    scores: dict[str, Any] = {}
    for split in SCORE_SPLITS:
        evs = [e for e in store.evaluations(c.id, split=split) if e.repeat == 0 and e.label]
        if not evs:
            continue
        rep = evaluate([e.label or "" for e in evs],
                       [e.prediction if e.prediction in task.labels else None for e in evs],
                       task.labels, task.negative_label or "", n_boot=n_boot,
                       rng=np.random.default_rng(config.seed))
        scores[split] = {
            "n": rep.n, **{m: round(getattr(rep, m), 6) for m in
                           ("accuracy", "macro_f1", "attack_recall", "benign_fpr")},
            "intervals": {k: [round(v[0], 6), round(v[1], 6)] for k, v in rep.intervals.items()},
        }
    role = config.models.task
    approvals = [
        {"reviewer": r.reviewer, "decision": r.decision, "comment": r.comment,
         "created_at": r.created_at, "report_hash": r.evidence.get("report_hash")}
        for r in store.reviews(c.id) if r.decision == "approve"
    ]
    return {
        "name": rel.name, "version": rel.version,
        "aliases": sorted(a for a, t in store.aliases(name).items() if t.version == rel.version),
        "prompt": text, "content_hash": rel.content_hash, "prompt_sha256": text_sha256(text),
        "candidate_id": c.id, "run_id": c.run_id, "created_by": rel.created_by,
        "created_at": rel.created_at, "notes": rel.notes,
        "model": {"model": role.model, "temperature": role.temperature,
                  "max_tokens": role.max_tokens, "api_base": role.api_base},
        "task": {"name": task.name, "labels": list(task.labels),
                 "negative_label": task.negative_label, "input_field": task.input_field,
                 "output_field": task.output_field},
        "lineage": {
            "generation": c.generation, "operator": c.operator, "parents": list(c.parent_ids),
            "ancestors": len(ancestors),
            "operators": dict(Counter(a.operator for a in ancestors)),
            "root": ancestors[-1].id if ancestors else c.id,
            "chain": [{"candidate_id": a.id, "operator": a.operator, "generation": a.generation,
                       "fitness": a.fitness} for a in [c, *ancestors][:12]],
        },
        "scores": scores,
        "gate": {k: rel.evidence.get(k) for k in ("report_hash", "gate_passed", "gate",
                                                  "forced", "reason", "regressions", "scores")
                 if k in rel.evidence},
        "approvals": approvals,
        "_config": config,
    }


def render(store: Store, ref: str, fmt: str) -> str:
    """The export of ``ref`` in ``fmt`` as text."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    b = bundle(store, ref)
    config = b.pop("_config")
    if fmt == "txt":
        return b["prompt"]
    if fmt == "json":
        return json.dumps(b, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(b, sort_keys=True, allow_unicode=True, width=100)
    if fmt == "dspy":
        return dspy_module(b)
    return promptfoo_config(b, config)


def dspy_module(b: dict[str, Any]) -> str:
    """Source of a self-contained DSPy program for the bundle."""
    meta = {k: b[k] for k in ("name", "version", "content_hash", "prompt_sha256",
                              "candidate_id", "aliases")}
    meta["approvals"] = [a["reviewer"] for a in b["approvals"]]
    return f'''"""DSPy program exported by promptbreed: {b["name"]} v{b["version"]}.

Content hash {b["content_hash"]}. Usage: ``python THIS_FILE PAYLOAD ...`` prints one JSON line per
payload; ``program()`` returns the ``dspy.Predict``; ``predict(payload)`` returns the label.
"""

from __future__ import annotations

import json
import sys
from typing import Literal

import dspy

PROMPT = {b["prompt"]!r}
LABELS = {tuple(b["task"]["labels"])!r}
MODEL = {b["model"]!r}
META = {meta!r}


def signature() -> type[dspy.Signature]:
    fields = {{
        {b["task"]["input_field"]!r}: (str, dspy.InputField()),
        {b["task"]["output_field"]!r}: (Literal[LABELS], dspy.OutputField()),
    }}
    return dspy.make_signature(fields, PROMPT)


def program() -> dspy.Predict:
    return dspy.Predict(signature())


def lm() -> dspy.LM:
    model = MODEL["model"]
    if model.startswith("local/"):
        from optimizer.llm.provider import ensure_registered

        ensure_registered()
    kwargs = {{"temperature": MODEL["temperature"], "cache": False, "num_retries": 0}}
    if MODEL.get("max_tokens"):
        kwargs["max_tokens"] = MODEL["max_tokens"]
    if MODEL.get("api_base"):
        kwargs["api_base"] = MODEL["api_base"]
    return dspy.LM(model, **kwargs)


def predict(payload: str) -> str:
    with dspy.context(lm=lm()):
        return getattr(program()({b["task"]["input_field"]}=payload),
                       {b["task"]["output_field"]!r})


if __name__ == "__main__":
    for item in sys.argv[1:] or [sys.stdin.read()]:
        print(json.dumps({{"payload": item, "label": predict(item)}}))
'''


def promptfoo_config(b: dict[str, Any], config: Any) -> str:
    """A promptfoo config: the prompt as a chat template, tests = the regression suite."""
    import yaml

    from optimizer.tasks.loaders import load_split
    from optimizer.tasks.render import render_messages
    from optimizer.wiring import data_folder, get_task

    task = get_task(config)
    suite = load_split(data_folder(config), "regression", task, config.data.max_input_chars)
    system = "{% raw %}" + b["prompt"] + "{% endraw %}"
    chat = ('[{"role": "system", "content": ' + json.dumps(system)
            + '}, {"role": "user", "content": {{ user_message | dump }}}]')
    tests = []
    for ex in suite:
        user = render_messages("", ex.input, task.labels, task.input_field)[1]["content"]
        tests.append({
            "description": ("[critical] " if ex.critical else "") + ex.id,
            "vars": {task.input_field: ex.input, "user_message": user},
            "assert": [{"type": "equals", "value": ex.label}],
            "metadata": {"id": ex.id, "critical": ex.critical,
                         "first_seen": ex.meta.get("first_seen"),
                         "incident": ex.meta.get("incident")},
        })
    model = b["model"]
    doc = {
        "description": f"breed export {b['name']} v{b['version']} "
                       f"(content hash {b['content_hash'][:12]}); tests = regression suite",
        "prompts": [{"id": f"{b['name']}@v{b['version']}", "label": f"{b['name']} "
                     f"v{b['version']}", "raw": chat}],
        "providers": [{"id": f"litellm:{model['model']}",
                       "config": {"temperature": model["temperature"]}}],
        "defaultTest": {"options": {"transform": "output.trim()"}},
        "tests": tests,
    }
    head = ("# promptfoo config exported by promptbreed. Run: promptfoo eval -c THIS_FILE\n"
            "# The provider is the litellm model string of the run; for local/reference serve\n"
            "# it through a litellm proxy or replace `providers`.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)

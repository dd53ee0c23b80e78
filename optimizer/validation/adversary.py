"""The adversary stage: evasive variants of attacks, and robustness of a prompt against them.

Contracts:
- ``Adversary.variants(examples)`` returns, per attack example id, its variants: up to
  ``variants_per_example`` deterministic transforms (``transforms.py``; chosen with
  ``derive(seed, "adv", example id)``, no-op rewrites skipped) plus ``model_rewrites`` rewrites
  written by the adversary model role (one gateway call each, seeded with
  ``derive_seed(seed, "adv-model", example id, k)`` so it is cacheable and identical on resume).
  Variants depend on the payload only, never on the prompt under test, so they are computed once
  per example and memoized. Benign examples get no variants. The adversary model's spend is
  reported through ``on_completion``.
- A variant is an ``Example`` with id ``<base id>~adv~<source>``, the base label, and
  ``meta`` ``{"variant_of", "source", "family"}``.
- ``robustness(scorer, prompt, base_preds, variants)``: among the attacks the prompt classified
  correctly, the share of (attack, variant) pairs whose variant still gets the correct label
  (``robustness``) and still gets any attack label (``detected``); ``nan`` when nothing was
  detected. ``evasions`` lists the variants that got through (for reflective mutation).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optimizer.engine.rng import derive, derive_seed
from optimizer.errors import BudgetExceeded
from optimizer.llm.types import ChatRequest, Completion
from optimizer.tasks.base import Example, Task
from optimizer.tasks.render import delimit, extract_delimited
from optimizer.validation.transforms import TRANSFORMS, suited

if TYPE_CHECKING:
    from optimizer.config import AdversaryStage, ModelRole
    from optimizer.engine.scoring import Scorer
    from optimizer.evaluation.runner import Prediction
    from optimizer.llm.gateway import Gateway

ADVERSARY_PROMPT = (
    "You are a red-team assistant testing a web attack classifier. Rewrite the attack payload so "
    "that it keeps exactly the same effect on the target but looks different: encodings, case "
    "changes, comments, whitespace, quoting. Answer with the transforms you used and the "
    "rewritten payload between REWRITE marker lines."
)

OnCompletion = Callable[[Completion | None], None]


@dataclass(frozen=True)
class RobustnessResult:
    detected: int  # attacks the prompt classified correctly
    variants: int  # their variants
    survived: int  # variants still classified correctly
    still_detected: int  # variants still given some attack label
    per_source: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (ok, n)
    evasions: tuple[tuple[Example, str | None], ...] = ()  # (variant, predicted)

    @property
    def robustness(self) -> float:
        return self.survived / self.variants if self.variants else math.nan

    @property
    def detection_robustness(self) -> float:
        return self.still_detected / self.variants if self.variants else math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            "detected": self.detected,
            "variants": self.variants,
            "survived": self.survived,
            "robustness": self.robustness,
            "detection_robustness": self.detection_robustness,
            "per_source": {k: {"survived": a, "n": b} for k, (a, b) in self.per_source.items()},
        }


def variant_example(base: Example, text: str, source: str) -> Example:
    return Example(
        id=f"{base.id}~adv~{source}",
        input=text,
        label=base.label,
        meta={"variant_of": base.id, "source": source, "family": base.label},
    )


def parse_rewrite(answer: str) -> str | None:
    """The rewritten payload of an adversary answer (REWRITE block or JSON), else None."""
    text = answer.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        value = obj.get("payload") if isinstance(obj, dict) else None
        return value if isinstance(value, str) and value else None
    block = extract_delimited(text, "REWRITE")
    return block or None


class Adversary:
    """Builds and memoizes evasive variants (see the module contract)."""

    def __init__(
        self,
        gateway: Gateway,
        task: Task,
        role: ModelRole,
        settings: AdversaryStage,
        seed: int,
        prompt: str = ADVERSARY_PROMPT,
    ) -> None:
        self.gateway, self.task, self.role = gateway, task, role
        self.settings, self.seed, self.prompt = settings, seed, prompt
        allowed = tuple(settings.transforms) if settings.transforms else None
        unknown = sorted(set(allowed or ()) - set(TRANSFORMS))
        if unknown:
            from optimizer.errors import ConfigError

            raise ConfigError(f"unknown transform(s) {unknown} in validation.adversary.transforms;"
                              f" use {sorted(TRANSFORMS)}")
        self._allowed = allowed
        self._memo: dict[str, tuple[Example, ...]] = {}

    def transform_variants(self, ex: Example) -> list[Example]:
        """The deterministic transform variants of one attack example."""
        if ex.label == self.task.negative_label:
            return []
        names = list(suited(ex.label, self._allowed))
        rng = derive(self.seed, "adv", ex.id)
        rng.shuffle(names)
        out: list[Example] = []
        seen = {ex.input}
        for name in names:
            if len(out) >= self.settings.variants_per_example:
                break
            text = TRANSFORMS[name].apply(ex.input, derive(self.seed, "adv", ex.id, name))
            if text in seen:
                continue
            seen.add(text)
            out.append(variant_example(ex, text, name))
        return out

    def _request(self, ex: Example, k: int, tags: Mapping[str, Any]) -> ChatRequest:
        user = (
            f"payload (untrusted data between the markers):\n{delimit(ex.input)}\n"
            f"LABEL: {ex.label}\nEVASIVE REWRITE:"
        )
        return ChatRequest(
            model=self.role.model,
            messages=({"role": "system", "content": self.prompt},
                      {"role": "user", "content": user}),
            temperature=self.role.temperature,
            max_tokens=self.role.max_tokens,
            seed=derive_seed(self.seed, "adv-model", ex.id, k) % (2**31),
            role="adversary",
            tags={**tags, "example_id": ex.id, "rewrite": k},
        )

    async def variants(
        self,
        examples: Sequence[Example],
        *,
        tags: Mapping[str, Any] | None = None,
        on_completion: OnCompletion | None = None,
    ) -> dict[str, tuple[Example, ...]]:
        """Variants per attack example id (memoized; see the module contract)."""
        todo = [ex for ex in examples
                if ex.id not in self._memo and ex.label != self.task.negative_label]
        reqs: list[tuple[Example, int, ChatRequest]] = [
            (ex, k, self._request(ex, k, tags or {}))
            for ex in todo
            for k in range(self.settings.model_rewrites)
        ]
        results = await self.gateway.complete_many([r for _, _, r in reqs],
                                                   return_exceptions=True) if reqs else []
        rewrites: dict[str, list[Example]] = {}
        for (ex, k, _req), res in zip(reqs, results, strict=True):
            if isinstance(res, BudgetExceeded):
                raise res
            if isinstance(res, BaseException):
                continue
            if on_completion is not None:
                on_completion(res)
            text = parse_rewrite(res.text)
            if text and text != ex.input:
                rewrites.setdefault(ex.id, []).append(variant_example(ex, text, f"model{k}"))
        for ex in todo:
            self._memo[ex.id] = (*self.transform_variants(ex), *rewrites.get(ex.id, []))
        return {ex.id: self._memo.get(ex.id, ()) for ex in examples}


async def robustness(
    scorer: Scorer,
    prompt: str,
    base_preds: Sequence[Prediction],
    variants: Mapping[str, Sequence[Example]],
    *,
    negative_label: str | None = "benign",
    tags: Mapping[str, Any] | None = None,
    on_completion: OnCompletion | None = None,
) -> RobustnessResult:
    """See the module contract."""
    detected = [p for p in base_preds
                if p.correct and p.example.label != negative_label]
    todo = [v for p in detected for v in variants.get(p.example.id, ())]
    preds = await scorer.score(prompt, todo, dict(tags or {})) if todo else []
    per: dict[str, list[int]] = {}
    evasions: list[tuple[Example, str | None]] = []
    survived = still = 0
    for p in preds:
        if on_completion is not None:
            on_completion(p.completion)
        src = str(p.example.meta.get("source", "?"))
        src = "model" if src.startswith("model") else src
        slot = per.setdefault(src, [0, 0])
        slot[1] += 1
        if p.correct:
            survived += 1
            slot[0] += 1
        else:
            evasions.append((p.example, p.predicted))
        if p.predicted is not None and p.predicted != negative_label:
            still += 1
    return RobustnessResult(
        detected=len(detected),
        variants=len(preds),
        survived=survived,
        still_detected=still,
        per_source={k: (a, b) for k, (a, b) in sorted(per.items())},
        evasions=tuple(evasions),
    )


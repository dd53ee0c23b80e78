"""The hooks the evolution engine calls when a run configures validation or weighted fitness.

Contracts:
- ``Validator.build(config, task, gateway, scorer, dev)`` returns None when the config has no
  ``fitness.weights`` and no enabled ``validation`` stage: the engine then behaves exactly as
  without this module.
- ``fitness(text, dev_preds)`` returns (fitness, components). Without weights the fitness is
  ``evolution.fitness`` of the dev predictions; with weights it is ``security.combine`` of the
  metrics. Robustness is measured on a fixed sample of dev attacks
  (``validation.adversary.max_examples`` of them, drawn with ``derive(seed, "validation",
  "subset")`` so a label-sorted file still gives a mixed sample) and injection flips on the
  first ``validation.injection.max_examples`` of the same sample, so every candidate of a run
  is measured on the same variants. Components are JSON-safe (stored in the candidate's ``meta``).
- ``screen_examples(minibatch)`` is the minibatch plus the evasive variants of its attacks when
  ``validation.adversary.augment_minibatch`` (the child must beat its parent on both).
- ``failure_cases(preds)`` turns the parent's wrong predictions into ``FailureCase``s: evasive
  variants (at most ``validation.adversary.max_failures``) get a rationale naming the transform;
  with ``validation.verifier.feed_mutation`` the other failures get the verifier's rationale.
- ``report(text, preds)`` is the end-of-run validation report of one finalist on ``test``.
- Nothing here writes to the store; randomness comes from ``optimizer.engine.rng.derive``
  (through the adversary) and model calls go through the gateway (cacheable, seeded).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from optimizer.engine.rng import derive
from optimizer.units import FailureCase
from optimizer.validation.adversary import Adversary, robustness
from optimizer.validation.injection import injection_flips
from optimizer.validation.pipeline import (
    Verifier,
    overturn_stats,
    parse_verdict,
    verifier_prompt,
)
from optimizer.validation.security import combine, metric_values

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.engine.scoring import Scorer
    from optimizer.evaluation.runner import Prediction
    from optimizer.llm.gateway import Gateway
    from optimizer.tasks.base import Example, Task

OnCompletion = Callable[[Any], None] | None


def _num(x: float) -> float | None:
    return None if isinstance(x, float) and math.isnan(x) else x


class Validator:
    def __init__(self, config: Config, task: Task, gateway: Gateway, scorer: Scorer,
                 dev: Sequence[Example]) -> None:
        v = config.validation
        self.config, self.task, self.gateway, self.scorer = config, task, gateway, scorer
        self.weights = dict(config.fitness.weights)
        neg = task.negative_label
        self.adversary = (
            Adversary(gateway, task, config.models.adversary, v.adversary, config.seed)
            if v.adversary.enabled else None
        )
        self.optimizing_verifier = v.verifier.optimize  # the scorer already verifies
        self.verifier = (
            Verifier(gateway, task, config.models.verifier, verifier_prompt(config))
            if v.verifier.enabled and not v.verifier.optimize else None
        )
        attacks = [ex for ex in dev if ex.label != neg]  # a seeded sample, whatever the order
        order = derive(config.seed, "validation", "subset").sample(attacks, len(attacks))
        self._adv_ids = {ex.id for ex in order[: v.adversary.max_examples]}
        self._inj_ids = {ex.id for ex in order[: v.injection.max_examples]}

    @classmethod
    def build(cls, config: Config, task: Task, gateway: Gateway, scorer: Scorer,
              dev: Sequence[Example]) -> Validator | None:
        if not config.fitness.weights and not config.validation.any_enabled:
            return None
        return cls(config, task, gateway, scorer, dev)

    # -- fitness -----------------------------------------------------------------------------
    async def fitness(
        self, text: str, dev_preds: Sequence[Prediction], *,
        tags: Mapping[str, Any] | None = None, on_completion: OnCompletion = None,
    ) -> tuple[float, dict[str, Any]]:
        from optimizer.engine.population import fitness_of

        cfg = self.config
        values: dict[str, Any] = metric_values(dev_preds, self.task.labels,
                                               self.task.negative_label, cfg.fitness.costs)
        values.pop("family_recall", None)
        tags = {**(tags or {}), "stage": "fitness"}
        if self.adversary is not None and self.weights.get("robustness", 0) > 0:
            sub = [p for p in dev_preds if p.example.id in self._adv_ids]
            rob = await self._robustness(text, sub, tags, on_completion)
            values["robustness"] = _num(rob.robustness)
        if cfg.validation.injection.enabled and self.weights.get("injection", 0) > 0:
            sub = [p for p in dev_preds if p.example.id in self._inj_ids]
            inj = await injection_flips(
                self.scorer, text, sub, cfg.validation.injection.kinds,
                negative_label=self.task.negative_label, tags=tags, on_completion=on_completion,
            )
            values["injection"] = _num(inj.flip_rate)
        if self.weights:
            fit = combine(values, self.weights)
        else:
            fit = fitness_of(dev_preds, cfg.evolution.fitness, self.task.labels)
        return fit, {k: (round(v, 6) if isinstance(v, float) else v) for k, v in values.items()}

    async def _robustness(self, text: str, preds: Sequence[Prediction],
                          tags: Mapping[str, Any], on_completion: OnCompletion) -> Any:
        assert self.adversary is not None
        neg = self.task.negative_label
        attacks = [p.example for p in preds if p.example.label != neg]
        variants = await self.adversary.variants(attacks, tags=tags, on_completion=on_completion)
        return await robustness(self.scorer, text, preds, variants, negative_label=neg,
                                tags=tags, on_completion=on_completion)

    # -- proposals ---------------------------------------------------------------------------
    async def screen_examples(self, minibatch: Sequence[Example], *,
                              tags: Mapping[str, Any] | None = None,
                              on_completion: OnCompletion = None) -> list[Example]:
        adv = self.adversary
        if adv is None or not self.config.validation.adversary.augment_minibatch:
            return list(minibatch)
        variants = await adv.variants(minibatch, tags=tags, on_completion=on_completion)
        return [*minibatch, *(v for ex in minibatch for v in variants.get(ex.id, ()))]

    async def failure_cases(
        self, preds: Sequence[Prediction], *, tags: Mapping[str, Any] | None = None,
        on_completion: OnCompletion = None,
    ) -> tuple[FailureCase, ...]:
        wrong = [p for p in preds if not p.correct]
        plain = [p for p in wrong if "variant_of" not in p.example.meta]
        evasive = [p for p in wrong if "variant_of" in p.example.meta]
        cap = self.config.validation.adversary.max_failures
        out: list[FailureCase] = []
        why: dict[str, str] = {}
        if self.verifier is not None and self.config.validation.verifier.feed_mutation and plain:
            verdicts = await self.verifier.verify(plain, tags={**(tags or {}), "stage": "verify"},
                                                  on_completion=on_completion)
            for v in verdicts:
                if v.verdict != "error" and v.rationale:
                    why[v.example_id] = f"verifier ({v.verdict}, says {v.final}): {v.rationale}"
        if self.optimizing_verifier:  # the evolved verifier's own rationale for its answer
            for p in plain:
                verdict, _label, rationale = parse_verdict(p.answer, self.task.labels)
                if verdict != "error" and rationale:
                    why[p.example.id] = f"verifier ({verdict}): {rationale}"
        for p in plain:
            out.append(FailureCase(p.example.input, p.example.label, p.predicted,
                                   why.get(p.example.id) or p.error))
        for p in evasive[:cap]:
            src = p.example.meta.get("source", "?")
            out.append(FailureCase(
                p.example.input, p.example.label, p.predicted,
                f"evasive rewrite ({src}) of a {p.example.label} payload the instruction "
                "detects in clear; decode/normalize the input before matching",
            ))
        return tuple(out)

    # -- end of run --------------------------------------------------------------------------
    async def report(self, text: str, preds: Sequence[Prediction], *,
                     tags: Mapping[str, Any] | None = None) -> dict[str, Any]:
        cfg = self.config
        neg = self.task.negative_label
        tags = {**(tags or {}), "stage": "report"}
        out: dict[str, Any] = metric_values(preds, self.task.labels, neg, cfg.fitness.costs)
        if self.adversary is not None:
            out["robustness"] = (await self._robustness(text, preds, tags, None)).as_dict()
        if cfg.validation.injection.enabled:
            inj = await injection_flips(self.scorer, text, preds, cfg.validation.injection.kinds,
                                        negative_label=neg, tags=tags)
            out["injection"] = inj.as_dict()
        if self.verifier is not None:
            out["verifier"] = overturn_stats(await self.verifier.verify(preds, tags=tags))
        return out

"""Robustness of candidate and baseline for the gate, via ``optimizer.validation.adversary``.

Contract: ``measure`` builds the evasive variants of the held-out (test) attacks once (the
config's ``validation.adversary`` settings: transforms plus seeded model rewrites, so repeated
checks hit the response cache) and returns (candidate robustness, baseline robustness): for
each prompt, the share of variants of the attacks it detected that still get the right label.
Returns ``(None, reason)`` when either value is undefined (a prompt detected nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.evaluation.runner import Prediction
    from optimizer.llm.gateway import Gateway
    from optimizer.tasks.base import Task


async def measure(
    config: Config, gateway: Gateway, task: Task, cand_text: str, base_text: str,
    cand_preds: Sequence[Prediction], base_preds: Sequence[Prediction],
) -> tuple[tuple[float, float] | None, str]:
    from optimizer.engine.scoring import Scorer
    from optimizer.validation.adversary import Adversary, robustness

    settings = config.validation.adversary
    adv = Adversary(gateway, task, config.models.adversary, settings, config.seed)
    attacks = [p.example for p in cand_preds if p.example.label != task.negative_label]
    variants = await adv.variants(attacks, tags={"check": "adversary"})
    scorer = Scorer(gateway, task, config.models.task)
    neg = task.negative_label
    cand = await robustness(scorer, cand_text, cand_preds, variants, negative_label=neg,
                            tags={"check": "robustness"})
    base = await robustness(scorer, base_text, base_preds, variants, negative_label=neg,
                            tags={"check": "robustness"})
    c, b = cand.robustness, base.robustness
    if c != c or b != b:
        return None, "skipped: a prompt detected no test attack, so robustness is undefined"
    note = (f"evasive variants of detected test attacks: {cand.variants} for the candidate, "
            f"{base.variants} for the baseline")
    return (c, b), note

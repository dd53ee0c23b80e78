"""Prices: what a call costs in USD.

Contracts:
- ``Price`` is USD per 1M input / output tokens. ``Price.cost(usage)`` is exact arithmetic
  (``in * input_per_mtok / 1e6 + out * output_per_mtok / 1e6``).
- ``PriceBook.price_for(model)`` resolution order: an explicit override (settings
  ``prices: {model: {input_per_mtok, output_per_mtok}}``), then ``local/*`` models use the
  reference provider's configured price, then litellm's cost map (``litellm.model_cost``, looked
  up lazily). ``None`` means unknown: the call costs 0 and one warning per model is logged, so a
  USD budget cannot protect you from that model (set a price in the config).
- ``cost_of_response`` prices a litellm ``ModelResponse``: override first, else the
  ``response_cost`` litellm already computed with ``completion_cost`` (in ``_hidden_params``),
  else ``litellm.completion_cost`` (which knows per-model tiers), else the price book, else 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optimizer.llm.types import Usage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input_per_mtok / 1e6
            + usage.output_tokens * self.output_per_mtok / 1e6
        )


class PriceBook:
    """Resolves prices per model string; caches lookups; warns once per unknown model."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self._overrides: dict[str, Price] = {}
        for model, p in (overrides or {}).items():
            if isinstance(p, Price):
                self._overrides[model] = p
            elif isinstance(p, Mapping):
                self._overrides[model] = Price(
                    float(p["input_per_mtok"]), float(p["output_per_mtok"])
                )
            else:  # pydantic model or any object with the two attributes
                self._overrides[model] = Price(
                    float(p.input_per_mtok), float(p.output_per_mtok)
                )
        self._warned: set[str] = set()

    def override(self, model: str) -> Price | None:
        return self._overrides.get(model)

    def price_for(self, model: str) -> Price | None:
        if model in self._overrides:
            return self._overrides[model]
        from optimizer.llm import provider

        if provider.is_local(model):
            s = provider.settings()
            return Price(s.input_per_mtok, s.output_per_mtok)
        return _litellm_price(model)

    def cost(self, model: str, usage: Usage) -> float:
        price = self.price_for(model)
        if price is None:
            self._warn_unknown(model)
            return 0.0
        return price.cost(usage)

    def cost_of_response(self, model: str, response: Any, usage: Usage) -> float:
        """Cost of a litellm response: override, else ``litellm.completion_cost``, else 0."""
        price = self.override(model)
        if price is not None:
            return price.cost(usage)
        hidden = (getattr(response, "_hidden_params", None) or {}).get("response_cost")
        if isinstance(hidden, int | float) and hidden >= 0:
            return float(hidden)  # litellm already priced this response with completion_cost
        import litellm

        try:
            return float(litellm.completion_cost(completion_response=response, model=model))
        except Exception:
            return self.cost(model, usage)

    def _warn_unknown(self, model: str) -> None:
        if model not in self._warned:
            self._warned.add(model)
            log.warning(
                "no price known for model %s: its calls count as $0 and a USD budget will not "
                "stop them; set llm.prices[%r] = {input_per_mtok, output_per_mtok} in the config",
                model,
                model,
            )


def _litellm_price(model: str) -> Price | None:
    import litellm

    candidates = [model, model.split("/", 1)[-1]]
    for name in candidates:
        info = litellm.model_cost.get(name)
        if info and "input_cost_per_token" in info and "output_cost_per_token" in info:
            return Price(
                float(info["input_cost_per_token"]) * 1e6,
                float(info["output_cost_per_token"]) * 1e6,
            )
    return None

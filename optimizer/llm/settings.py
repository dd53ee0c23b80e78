"""Gateway settings: model roles, concurrency, retries, timeouts, prices, transport.

Contracts:
- ``GatewaySettings`` is a frozen dataclass; ``GatewaySettings.from_config(config)`` builds it
  from a run ``Config`` (``config.models`` roles, ``config.llm``, ``config.seed``) by attribute
  access only, so this module does not import the config module.
- ``roles`` maps a role name (task, mutation, verifier, adversary, or any other) to a
  ``RoleSettings``: model string and default params. ``Gateway.request(role, messages)`` fills a
  ``ChatRequest`` from it; an unknown role raises ``ConfigError``.
- Endpoint (``api_base``, ``api_key_env``) for a request: the settings of its role if that role
  uses the same model, else of the first role that uses that model, else litellm's defaults
  (e.g. ``OPENAI_API_KEY``).
- ``transport``: ``direct`` calls the in-process reference backend for ``local/*`` models;
  ``litellm`` sends everything through ``litellm.acompletion``; ``auto`` (default) = direct for
  ``local/*``, litellm for all other models. Non-local models always use litellm.
- ``simulated_latency_s``: latency of ``local/*`` calls, passed per call on both transports
  (``None`` leaves the provider default from ``provider.configure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from optimizer.errors import ConfigError

Transport = Literal["auto", "litellm", "direct"]
ROLES = ("task", "mutation", "verifier", "adversary")


@dataclass(frozen=True, slots=True)
class RoleSettings:
    model: str = "local/reference"
    temperature: float = 0.0
    max_tokens: int | None = None
    api_base: str | None = None
    api_key_env: str | None = None


def _default_roles() -> dict[str, RoleSettings]:
    return {
        "task": RoleSettings(),
        "mutation": RoleSettings(temperature=0.7),
        "verifier": RoleSettings(),
        "adversary": RoleSettings(temperature=0.7),
    }


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    roles: Mapping[str, RoleSettings] = field(default_factory=_default_roles)
    concurrency: int = 16
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    retry_seed: int = 0
    simulated_latency_s: float | None = None
    prices: Mapping[str, Any] = field(default_factory=dict)
    transport: Transport = "auto"
    log_batch_size: int = 64
    default_output_tokens: int = 64

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"llm.concurrency must be >= 1, got {self.concurrency}")
        if self.timeout_s <= 0:
            raise ConfigError(f"llm.timeout_s must be > 0, got {self.timeout_s}")
        if self.max_retries < 0:
            raise ConfigError(f"llm.max_retries must be >= 0, got {self.max_retries}")
        if self.transport not in ("auto", "litellm", "direct"):
            raise ConfigError(
                f"llm.transport must be auto, litellm or direct, got {self.transport!r}"
            )

    def role(self, name: str) -> RoleSettings:
        try:
            return self.roles[name]
        except KeyError:
            raise ConfigError(
                f"unknown model role {name!r}; configure it under models.{name} "
                f"(known roles: {', '.join(sorted(self.roles))})"
            ) from None

    def endpoint(self, model: str, role: str) -> RoleSettings | None:
        own = self.roles.get(role)
        if own is not None and own.model == model:
            return own
        return next((r for r in self.roles.values() if r.model == model), None)

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> GatewaySettings:
        """Build from a run ``Config`` (``models``, ``llm``, ``seed``); ``overrides`` win."""
        roles: dict[str, RoleSettings] = {}
        models = config.models
        for name in ROLES:
            r = getattr(models, name, None)
            if r is not None:
                roles[name] = RoleSettings(
                    model=r.model,
                    temperature=r.temperature,
                    max_tokens=r.max_tokens,
                    api_base=getattr(r, "api_base", None),
                    api_key_env=getattr(r, "api_key_env", None),
                )
        llm = config.llm
        kwargs: dict[str, Any] = dict(
            roles=roles,
            concurrency=llm.concurrency,
            timeout_s=llm.timeout_s,
            max_retries=llm.max_retries,
            retry_seed=int(getattr(config, "seed", 0)),
            simulated_latency_s=getattr(llm, "simulated_latency_s", None),
            prices=dict(getattr(llm, "prices", {}) or {}),
        )
        transport = getattr(llm, "transport", None)
        if transport is not None:
            kwargs["transport"] = transport
        kwargs.update(overrides)
        return cls(**kwargs)

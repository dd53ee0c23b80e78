"""The offline reference model as a litellm custom provider (``local/reference``).

Contracts:
- ``ReferenceBackend`` is the one object that answers ``local/*`` requests. It has no litellm
  dependency; ``respond`` (sync, ``time.sleep``) and ``arespond`` (async, ``asyncio.sleep``) first
  wait the simulated latency, then run ``ReferenceModel.respond`` inline (the model's CPU work is
  well below a millisecond, so a thread hop would cost more than it saves).
- Token counts: input = sum of ``count_tokens(content)`` over the messages, output =
  ``count_tokens(text)``.
- ``ensure_registered()`` (idempotent, thread-safe) imports litellm lazily, registers the
  ``ReferenceLiteLLM`` handler under provider ``"local"`` in ``litellm.custom_provider_map`` and
  gives ``local/reference`` a price with ``litellm.register_model`` so ``completion_cost`` works.
  After that ``litellm.completion(model="local/reference", ...)``, ``litellm.acompletion`` and
  ``dspy.LM("local/reference")`` all reach the same backend.

Settings (``configure()`` sets the process-wide defaults; per call, litellm keyword
``latency_s=`` or ``extra_body={"latency_s": ...}`` overrides the latency):
- ``latency_s``: simulated latency in seconds (default 0).
- ``input_per_mtok`` / ``output_per_mtok``: USD per 1M tokens (defaults 0.15 / 0.60); changing
  them re-registers the price with litellm.
- ``model_settings``: passed to ``ReferenceModel(model_settings)`` (attention limits, noise);
  setting it replaces the shared backend.
``temperature``, ``seed``, ``max_tokens`` and ``response_format`` are passed to ``respond()``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

PROVIDER = "local"
REFERENCE_MODEL = "local/reference"

_PARAM_KEYS = ("temperature", "seed", "max_tokens", "response_format", "latency_s")


@dataclass(frozen=True, slots=True)
class ReferenceSettings:
    """Process-wide defaults of the ``local`` provider."""

    latency_s: float = 0.0
    input_per_mtok: float = 0.15
    output_per_mtok: float = 0.60


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """What the backend returns: text and token counts (the caller prices them)."""

    text: str
    input_tokens: int
    output_tokens: int
    model: str = REFERENCE_MODEL


_settings = ReferenceSettings()
_lock = threading.Lock()
_registered = False
_backend: ReferenceBackend | None = None
_handler: Any = None


def settings() -> ReferenceSettings:
    return _settings


def configure(
    *,
    latency_s: float | None = None,
    input_per_mtok: float | None = None,
    output_per_mtok: float | None = None,
    model_settings: Any = None,
) -> ReferenceSettings:
    """Change the provider defaults; returns the new settings. Re-registers prices if needed."""
    global _settings, _backend
    changes: dict[str, float] = {}
    for name, value in (
        ("latency_s", latency_s),
        ("input_per_mtok", input_per_mtok),
        ("output_per_mtok", output_per_mtok),
    ):
        if value is not None:
            if value < 0:
                from optimizer.errors import ConfigError

                raise ConfigError(f"reference provider: {name} must be >= 0, got {value}")
            changes[name] = float(value)
    with _lock:
        if model_settings is not None:
            _backend = ReferenceBackend(model_settings)
        _settings = replace(_settings, **changes)
        if _registered and ("input_per_mtok" in changes or "output_per_mtok" in changes):
            _register_price()
    return _settings


def message_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    from optimizer.llm.reference import count_tokens

    return sum(count_tokens(str(m.get("content") or "")) for m in messages)


class ReferenceBackend:
    """Answers ``local/*`` requests with ``ReferenceModel`` (thread-safe: the model is pure)."""

    def __init__(self, model_settings: Any = None) -> None:
        from optimizer.llm.reference import ReferenceModel, count_tokens

        self._model = ReferenceModel() if model_settings is None else ReferenceModel(model_settings)
        self._count = count_tokens

    def _latency(self, latency_s: float | None) -> float:
        return _settings.latency_s if latency_s is None else max(0.0, float(latency_s))

    def answer(self, messages: Sequence[Mapping[str, Any]], model: str, **params: Any) -> RawAnswer:
        """Run the model without any waiting (the CPU part of a call)."""
        text = self._model.respond(
            messages,
            temperature=float(params.get("temperature") or 0.0),
            seed=params.get("seed"),
            response_format=params.get("response_format"),
            max_tokens=params.get("max_tokens"),
        )
        return RawAnswer(text, message_tokens(messages), self._count(text), model)

    def respond(
        self, messages: Sequence[Mapping[str, Any]], model: str = REFERENCE_MODEL,
        *, latency_s: float | None = None, **params: Any,
    ) -> RawAnswer:
        delay = self._latency(latency_s)
        if delay > 0:
            time.sleep(delay)
        return self.answer(messages, model, **params)

    async def arespond(
        self, messages: Sequence[Mapping[str, Any]], model: str = REFERENCE_MODEL,
        *, latency_s: float | None = None, **params: Any,
    ) -> RawAnswer:
        delay = self._latency(latency_s)
        if delay > 0:
            await asyncio.sleep(delay)
        return self.answer(messages, model, **params)


def get_backend() -> ReferenceBackend:
    """The process-wide backend shared by the direct path and the litellm handler."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = ReferenceBackend()
    return _backend


def _split_params(optional_params: Mapping[str, Any] | None) -> dict[str, Any]:
    params = dict(optional_params or {})
    extra_body = params.get("extra_body") or {}
    out = {k: params[k] for k in _PARAM_KEYS if params.get(k) is not None}
    if isinstance(extra_body, Mapping):
        out.update({k: v for k, v in extra_body.items() if k in _PARAM_KEYS and v is not None})
    return out


def _fill(model_response: Any, answer: RawAnswer) -> Any:
    from litellm.types.utils import Usage

    model_response.choices[0].message.content = answer.text
    model_response.choices[0].finish_reason = "stop"
    model_response.usage = Usage(
        prompt_tokens=answer.input_tokens,
        completion_tokens=answer.output_tokens,
        total_tokens=answer.input_tokens + answer.output_tokens,
    )
    model_response.model = answer.model
    return model_response


def _full_name(model: str) -> str:
    return model if model.startswith(PROVIDER + "/") else f"{PROVIDER}/{model}"


def _make_handler() -> Any:
    from litellm import CustomLLM

    class ReferenceLiteLLM(CustomLLM):
        """litellm handler for provider ``local``; delegates to ``get_backend()``."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            params = _split_params(kwargs.get("optional_params"))
            answer = get_backend().respond(messages, _full_name(model), **params)
            return _fill(kwargs["model_response"], answer)

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            params = _split_params(kwargs.get("optional_params"))
            answer = await get_backend().arespond(messages, _full_name(model), **params)
            return _fill(kwargs["model_response"], answer)

    return ReferenceLiteLLM()


def _register_price() -> None:
    import litellm

    litellm.register_model(
        {
            REFERENCE_MODEL: {
                "input_cost_per_token": _settings.input_per_mtok / 1e6,
                "output_cost_per_token": _settings.output_per_mtok / 1e6,
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "litellm_provider": PROVIDER,
                "mode": "chat",
                "max_tokens": 8192,
                "max_input_tokens": 32768,
                "max_output_tokens": 8192,
            }
        }
    )


def ensure_registered() -> None:
    """Register the ``local`` provider with litellm (idempotent)."""
    global _registered, _handler
    if _registered:
        return
    import litellm

    with _lock:
        if _registered:
            return
        _handler = _make_handler()
        litellm.custom_provider_map = [
            item for item in litellm.custom_provider_map if item.get("provider") != PROVIDER
        ] + [{"provider": PROVIDER, "custom_handler": _handler}]
        litellm.utils.custom_llm_setup()
        _register_price()
        _registered = True


def is_local(model: str) -> bool:
    return model.startswith(PROVIDER + "/")

"""One attempt of a model call, on one of two transports, and the translation of its failures.

Contracts:
- ``call_direct`` answers ``local/*`` requests in process through ``provider.get_backend()``
  (the same object the litellm handler uses) without importing litellm; ``req.extra`` is
  ignored there (the reference model takes no other parameters).
- ``call_litellm`` passes ``req.extra`` as extra keyword arguments to litellm (``top_p``,
  ``stop``, provider options); the endpoint's ``api_base`` and the key read from
  ``api_key_env`` are added, never stored in the request or its hash.
- ``call_litellm`` sends any request through ``litellm.acompletion`` with litellm's own retries
  off (``num_retries=0``, ``max_retries=0``: the gateway retries) and ``drop_params=True`` (a
  provider that does not take ``seed``/``response_format`` gets the call without them).
- Both return an ``Answer`` (text, usage, cost) or raise ``AttemptError``: ``retryable`` says
  whether another attempt may succeed (429, 408/409, 5xx, connection errors, timeouts, malformed
  bodies); ``retry_after`` carries the server's ``Retry-After`` (seconds, from the exception's
  response headers; ``retry-after-ms`` and HTTP dates are understood); ``hint`` says what the
  user should check. Nothing here sleeps or retries.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from dataclasses import dataclass
from typing import Any

from optimizer.llm import provider
from optimizer.llm.pricing import PriceBook
from optimizer.llm.settings import RoleSettings
from optimizer.llm.types import ChatRequest, Usage


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    usage: Usage
    cost_usd: float
    finish_reason: str = "stop"


class AttemptError(Exception):
    def __init__(
        self, message: str, *, retryable: bool, retry_after: float | None = None, hint: str = ""
    ) -> None:
        super().__init__(message)
        self.retryable, self.retry_after, self.hint = retryable, retry_after, hint


def _params(req: ChatRequest) -> dict[str, Any]:
    out: dict[str, Any] = {"temperature": req.temperature}
    if req.max_tokens is not None:
        out["max_tokens"] = req.max_tokens
    if req.seed is not None:
        out["seed"] = req.seed
    if req.response_format is not None:
        out["response_format"] = dict(req.response_format)
    return out


async def call_direct(req: ChatRequest, latency_s: float | None, prices: PriceBook) -> Answer:
    backend = provider.get_backend()
    params = _params(req)
    try:
        raw = await backend.arespond(req.messages, req.model, latency_s=latency_s, **params)
    except Exception as exc:  # the reference model promises never to raise
        raise AttemptError(
            f"reference model raised {type(exc).__name__}: {exc}", retryable=False,
            hint="this is a bug in the reference model; report it with the request",
        ) from exc
    usage = Usage(raw.input_tokens, raw.output_tokens)
    return Answer(raw.text, usage, prices.cost(req.model, usage))


_litellm_ready = False


def _litellm() -> Any:
    global _litellm_ready
    import litellm

    if not _litellm_ready:
        litellm.suppress_debug_info = True
        provider.ensure_registered()
        _litellm_ready = True
    return litellm


async def call_litellm(
    req: ChatRequest,
    endpoint: RoleSettings | None,
    *,
    timeout_s: float,
    latency_s: float | None,
    prices: PriceBook,
) -> Answer:
    litellm = _litellm()
    kwargs: dict[str, Any] = dict(_params(req))
    kwargs.update(req.extra)
    if endpoint is not None and endpoint.api_base:
        kwargs["api_base"] = endpoint.api_base
    if endpoint is not None and endpoint.api_key_env:
        key = os.environ.get(endpoint.api_key_env)
        if not key:
            raise AttemptError(
                f"environment variable {endpoint.api_key_env} is not set",
                retryable=False,
                hint=f"export {endpoint.api_key_env}=<your key> before the run",
            )
        kwargs["api_key"] = key
    if provider.is_local(req.model) and latency_s is not None:
        kwargs["latency_s"] = latency_s
    try:
        resp = await litellm.acompletion(
            model=req.model,
            messages=[dict(m) for m in req.messages],
            timeout=timeout_s,
            num_retries=0,
            max_retries=0,
            drop_params=True,
            **kwargs,
        )
    except Exception as exc:
        raise translate(exc, req.model, endpoint) from exc
    try:
        choice = resp.choices[0]
        text = choice.message.content or ""
        finish = str(choice.finish_reason or "stop")
    except (AttributeError, IndexError, TypeError) as exc:
        raise AttemptError(
            f"response has no choices[0].message: {exc}", retryable=True,
            hint="the server answered with an unexpected body",
        ) from exc
    u = getattr(resp, "usage", None)
    usage = Usage(
        int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0)
    )
    return Answer(text, usage, prices.cost_of_response(req.model, resp, usage), finish)


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait, from the exception's response headers."""
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        resp = getattr(exc, "response", None)
        headers = getattr(resp, "headers", None)
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
        value = headers.get("retry-after")
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _where(model: str, endpoint: RoleSettings | None) -> str:
    base = endpoint.api_base if endpoint and endpoint.api_base else None
    return f"model {model}" + (f" at {base}" if base else "")


def _key_hint(model: str, endpoint: RoleSettings | None) -> str:
    if endpoint is not None and endpoint.api_key_env:
        return f"check that {endpoint.api_key_env} holds a valid key"
    prov = model.split("/", 1)[0].upper() if "/" in model else "OPENAI"
    return f"check the API key (litellm reads {prov}_API_KEY by default)"


def translate(exc: BaseException, model: str, endpoint: RoleSettings | None) -> AttemptError:
    """Map a litellm/openai/httpx exception to an ``AttemptError``."""
    import litellm

    msg = f"{type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, asyncio.TimeoutError | TimeoutError | litellm.Timeout):
        return AttemptError(
            msg, retryable=True, hint="raise llm.timeout_s or check the server load"
        )
    if isinstance(exc, litellm.RateLimitError):
        return AttemptError(msg, retryable=True, retry_after=retry_after_of(exc),
                            hint="lower llm.concurrency or raise the provider's rate limit")
    if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
        return AttemptError(msg, retryable=False, hint=_key_hint(model, endpoint))
    if isinstance(exc, litellm.NotFoundError):
        return AttemptError(msg, retryable=False,
                            hint="check the model name and api_base (the path usually ends in /v1)")
    if isinstance(exc, litellm.BadRequestError):
        return AttemptError(msg, retryable=False,
                            hint="check the model string (provider/model), its parameters and "
                            "the prompt length")
    if isinstance(exc, litellm.APIConnectionError):
        return AttemptError(msg, retryable=True,
                            hint="check api_base and that the server is reachable")
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and (status in (408, 409, 429) or status >= 500):
        return AttemptError(msg, retryable=True, retry_after=retry_after_of(exc),
                            hint="the provider failed; check its status page or api_base")
    if isinstance(exc, litellm.APIError) and status is None:
        return AttemptError(msg, retryable=True, hint="check api_base and the server logs")
    return AttemptError(msg, retryable=False,
                        hint="check the model string, api_base and the API key env var")

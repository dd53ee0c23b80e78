"""The LLM gateway: the one entry point every model call goes through.

Contracts:
- ``await gateway.complete(req)`` returns a ``Completion`` or raises ``LLMError`` (the call
  failed after retries, or cannot succeed: bad key, unknown model) or ``BudgetExceeded``
  (refused *before* any call was made). ``complete_many`` runs requests concurrently (at most
  ``settings.concurrency`` in flight) and returns results in request order; with
  ``return_exceptions=True`` failures are returned in place, otherwise the first failure cancels
  the rest and is raised. ``progress(done, total)`` is called after each request finishes.
  ``complete_sync`` / ``complete_many_sync`` wrap them with ``asyncio.run`` (not from async code).
- Cache: key = ``req.request_hash()``. A request is cacheable when a cache is given and the
  answer is reproducible: ``temperature == 0`` or an explicit ``seed`` (the seed is part of the
  key, so a seeded sample at temperature > 0 is a fixed answer too). ``temperature > 0`` with
  ``seed=None`` is never cached. Only successful answers are stored. A hit returns the stored
  completion with ``cached=True``, ``cost_usd=0`` and its original usage; identical cacheable
  requests in flight at the same time are answered by one model call.
- Every call, cached or not, succeeded or failed, produces one ``CallRecord`` through one path
  (``_record``) to ``call_log.record_many``, batched by ``settings.log_batch_size`` and flushed
  when a top-level ``complete``/``complete_many`` returns (and by ``flush()``). Budget refusals
  are not calls and are not logged (they are counted in ``stats().budget_refusals``).
- Retries: up to ``settings.max_retries`` more attempts on retryable failures (see
  ``transport``), waiting ``max(Retry-After, backoff)`` where backoff is
  ``min(backoff_max_s, backoff_base_s * 2**attempt)`` scaled by a jitter in [0.5, 1) drawn from
  an explicit ``random.Random(settings.retry_seed)``. A request holds its concurrency slot
  during its retries (a rate-limited provider gets less pressure, not more).
- Timeouts: each attempt runs under ``asyncio.timeout(settings.timeout_s)`` (like
  ``asyncio.wait_for`` but without an extra task per call), on both transports (litellm does not
  enforce timeouts for custom providers).
- Budget: after a request gets its concurrency slot it reserves one call plus estimated tokens
  and USD (input tokens counted from the messages; output = running mean per model and role);
  in-flight reservations count, so tokens/USD overshoot at most by the estimation error of the
  ``concurrency`` calls in flight and ``max_calls`` is never exceeded. A call that reached the
  model counts even if it failed.
- One gateway serves one event loop at a time (its semaphore is re-created for a new loop).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from optimizer.errors import BudgetExceeded, ConfigError, LLMError
from optimizer.llm import provider, transport
from optimizer.llm.budget import Budget
from optimizer.llm.pricing import PriceBook
from optimizer.llm.settings import GatewaySettings
from optimizer.llm.types import CallLog, CallRecord, ChatRequest, Completion, ResponseCache, Usage

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class GatewayStats:
    """Counters since the gateway was created (``calls`` = requests that reached a model)."""

    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    retries: int = 0
    budget_refusals: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class _Failed(Exception):
    def __init__(self, err: transport.AttemptError, attempts: int) -> None:
        super().__init__(str(err))
        self.err, self.attempts = err, attempts


class Gateway:
    def __init__(
        self,
        settings: GatewaySettings | None = None,
        cache: ResponseCache | None = None,
        call_log: CallLog | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self.cache, self.call_log, self.budget = cache, call_log, budget
        self.prices = PriceBook(self.settings.prices)
        self._rng = random.Random(self.settings.retry_seed)
        self._stats = GatewayStats()
        self._pending: list[CallRecord] = []
        self._depth = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sem: asyncio.Semaphore | None = None
        self._inflight: dict[str, asyncio.Future[Completion]] = {}
        self._out_mean: dict[tuple[str, str], float] = {}

    # -- building requests ------------------------------------------------------------------
    def request(
        self,
        role: str,
        messages: Sequence[Mapping[str, str]],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ChatRequest:
        """A ``ChatRequest`` with the role's model and default params (arguments win)."""
        r = self.settings.role(role)
        return ChatRequest(
            model=model or r.model,
            messages=tuple(dict(m) for m in messages),
            temperature=r.temperature if temperature is None else temperature,
            max_tokens=r.max_tokens if max_tokens is None else max_tokens,
            seed=seed,
            response_format=response_format,
            role=role,
            tags=dict(tags or {}),
            extra=dict(extra or {}),
        )

    # -- public calls -----------------------------------------------------------------------
    async def complete(self, req: ChatRequest) -> Completion:
        self._depth += 1
        try:
            return await self._complete(req)
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.flush()

    async def complete_many(
        self,
        reqs: Iterable[ChatRequest],
        *,
        return_exceptions: bool = False,
        progress: Progress | None = None,
    ) -> list[Any]:
        items = list(reqs)
        total, done = len(items), 0

        async def one(req: ChatRequest) -> Completion:
            nonlocal done
            try:
                return await self._complete(req)
            finally:
                done += 1
                if progress is not None:
                    progress(done, total)

        self._depth += 1
        try:
            tasks = [asyncio.ensure_future(one(r)) for r in items]
            if return_exceptions:
                return list(await asyncio.gather(*tasks, return_exceptions=True))
            try:
                return list(await asyncio.gather(*tasks))
            except BaseException:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.flush()

    def complete_sync(self, req: ChatRequest) -> Completion:
        return _run(self.complete(req))

    def complete_many_sync(
        self,
        reqs: Iterable[ChatRequest],
        *,
        return_exceptions: bool = False,
        progress: Progress | None = None,
    ) -> list[Any]:
        return _run(
            self.complete_many(reqs, return_exceptions=return_exceptions, progress=progress)
        )

    def stats(self) -> GatewayStats:
        return self._stats

    def flush(self) -> None:
        """Hand buffered call records to the call log and flush it."""
        if self.call_log is None:
            self._pending.clear()
            return
        if self._pending:
            batch, self._pending = self._pending, []
            self.call_log.record_many(batch)
        self.call_log.flush()

    # -- internals --------------------------------------------------------------------------
    def _bind_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._sem is None:
            self._loop = loop
            self._sem = asyncio.Semaphore(self.settings.concurrency)
            self._inflight = {}
        return self._sem

    def _cacheable(self, req: ChatRequest) -> bool:
        return self.cache is not None and (req.temperature == 0 or req.seed is not None)

    async def _complete(self, req: ChatRequest) -> Completion:
        sem = self._bind_loop()
        key = req.request_hash()
        if not self._cacheable(req):
            return await self._call(req, key, sem)
        assert self.cache is not None
        hit = self.cache.get(key)
        owner = self._inflight.get(key) if hit is None else None
        if owner is not None:
            t0 = time.perf_counter()
            try:
                hit = await asyncio.shield(owner)
            except LLMError as exc:
                self._record(req, key, Usage(), 0.0, t0, cached=True, error=exc)
                raise
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not owner.cancelled() or (task is not None and task.cancelling()):
                    raise
                hit = None  # the owner was cancelled, not us: make the call ourselves
        if hit is not None:
            out = replace(hit, cached=True, cost_usd=0.0, latency_ms=0.0, request_hash=key)
            self._stats = replace(self._stats, cache_hits=self._stats.cache_hits + 1)
            self._record(req, key, out.usage, 0.0, time.perf_counter(), cached=True)
            return out
        fut: asyncio.Future[Completion] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_consume)
        self._inflight[key] = fut
        try:
            out = await self._call(req, key, sem)
        except BaseException as exc:
            if isinstance(exc, Exception):
                fut.set_exception(exc)
            else:
                fut.cancel()
            raise
        finally:
            self._inflight.pop(key, None)
        fut.set_result(out)
        self.cache.put(key, out)
        return out

    def _estimate(self, req: ChatRequest) -> tuple[int, float]:
        n_in = provider.message_tokens(req.messages)
        default = float(self.settings.default_output_tokens)
        n_out = self._out_mean.get((req.model, req.role), default)
        if req.max_tokens is not None:
            n_out = min(n_out, float(req.max_tokens))
        usage = Usage(n_in, round(n_out))
        return usage.total_tokens, self.prices.cost(req.model, usage)

    async def _call(self, req: ChatRequest, key: str, sem: asyncio.Semaphore) -> Completion:
        budget = self.budget
        if budget is not None and budget.exhausted:  # fail fast, without waiting for a slot
            self._refused()
            budget.reserve()
        async with sem:
            reservation = None
            if budget is not None:
                tokens, usd = self._estimate(req)
                try:
                    reservation = budget.reserve(tokens, usd)
                except BudgetExceeded:
                    self._refused()
                    raise
            t0 = time.perf_counter()
            try:
                answer = await self._attempts(req)
            except _Failed as failed:
                if budget is not None and reservation is not None:
                    budget.commit(reservation, 0, 0.0)
                error = self._llm_error(req, failed)
                self._record(req, key, Usage(), 0.0, t0, cached=False, error=error)
                raise error from failed.err.__cause__
            except BaseException as exc:  # cancelled mid-call: count it, it may be billed
                if budget is not None and reservation is not None:
                    budget.commit(reservation, 0, 0.0)
                self._record(req, key, Usage(), 0.0, t0, cached=False, error=exc)
                raise
            if budget is not None and reservation is not None:
                budget.commit(reservation, answer.usage.total_tokens, answer.cost_usd)
        latency_ms = self._record(req, key, answer.usage, answer.cost_usd, t0, cached=False)
        mk = (req.model, req.role)
        prev = self._out_mean.get(mk)
        n = float(answer.usage.output_tokens)
        self._out_mean[mk] = n if prev is None else 0.9 * prev + 0.1 * n
        return Completion(
            text=answer.text,
            model=req.model,
            usage=answer.usage,
            cost_usd=answer.cost_usd,
            latency_ms=latency_ms,
            finish_reason=answer.finish_reason,
            cached=False,
            request_hash=key,
        )

    def _refused(self) -> None:
        self._stats = replace(self._stats, budget_refusals=self._stats.budget_refusals + 1)

    def _use_direct(self, model: str) -> bool:
        t = self.settings.transport
        return provider.is_local(model) and t in ("auto", "direct")

    async def _attempt(self, req: ChatRequest) -> transport.Answer:
        latency = self.settings.simulated_latency_s
        if self._use_direct(req.model):
            return await transport.call_direct(req, latency, self.prices)
        endpoint = self.settings.endpoint(req.model, req.role)
        return await transport.call_litellm(
            req, endpoint, timeout_s=self.settings.timeout_s, latency_s=latency,
            prices=self.prices,
        )

    async def _attempts(self, req: ChatRequest) -> transport.Answer:
        s = self.settings
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(s.timeout_s):
                    return await self._attempt(req)
            except TimeoutError:
                err = transport.AttemptError(
                    f"no answer within {s.timeout_s:g} s", retryable=True,
                    hint="raise llm.timeout_s or check the server load",
                )
            except transport.AttemptError as exc:
                err = exc
            if not err.retryable or attempt >= s.max_retries:
                raise _Failed(err, attempt + 1)
            delay = min(s.backoff_max_s, s.backoff_base_s * 2**attempt)
            delay *= 0.5 + 0.5 * self._rng.random()
            if err.retry_after is not None:
                delay = max(delay, min(err.retry_after, s.max_retry_after_s))
            log.info("retrying %s in %.2f s after: %s", req.model, delay, err)
            self._stats = replace(self._stats, retries=self._stats.retries + 1)
            attempt += 1
            await asyncio.sleep(delay)

    def _llm_error(self, req: ChatRequest, failed: _Failed) -> LLMError:
        endpoint = self.settings.endpoint(req.model, req.role)
        where = transport._where(req.model, endpoint)
        transport_name = "in-process" if self._use_direct(req.model) else "litellm"
        return LLMError(
            f"{where} ({req.role} role, {transport_name}) failed after {failed.attempts} "
            f"attempt(s): {failed.err}; {failed.err.hint or 'check the model settings'}"
        )

    def _record(
        self, req: ChatRequest, key: str, usage: Usage, cost: float, t0: float,
        *, cached: bool, error: BaseException | None = None,
    ) -> float:
        """The one path every call goes through to stats and the call log."""
        latency_ms = 0.0 if cached and error is None else (time.perf_counter() - t0) * 1000.0
        st = self._stats
        if not cached:
            st = replace(
                st, calls=st.calls + 1, input_tokens=st.input_tokens + usage.input_tokens,
                output_tokens=st.output_tokens + usage.output_tokens, cost_usd=st.cost_usd + cost,
            )
        if error is not None:
            st = replace(st, errors=st.errors + 1)
        self._stats = st
        self._pending.append(
            CallRecord(
                request_hash=key, model=req.model, role=req.role,
                input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                cost_usd=cost, latency_ms=latency_ms, cached=cached,
                error=None if error is None else f"{type(error).__name__}: {error}",
                tags=dict(req.tags), created_at=time.time(),
            )
        )
        if len(self._pending) >= self.settings.log_batch_size and self.call_log is not None:
            batch, self._pending = self._pending, []
            self.call_log.record_many(batch)
        return latency_ms


def _consume(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # mark retrieved: waiters (if any) re-raise it themselves


def _run(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise ConfigError("the *_sync gateway methods cannot run inside an event loop; await "
                      "gateway.complete(...) / complete_many(...) instead")

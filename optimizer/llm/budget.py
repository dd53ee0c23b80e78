"""Budgets: stop model calls *before* they would exceed a limit.

Contracts:
- Limits: ``max_calls``, ``max_tokens`` (input + output), ``max_usd``, ``max_wall_s`` (seconds
  since the budget was created, or since ``start()``); ``None`` = unlimited.
  ``Budget.from_config(config.budget)`` reads the same four fields.
- A call is admitted by ``reserve(tokens, usd)`` with an *estimate*; admission requires
  ``used + in-flight reservations + estimate <= limit`` for every limit, otherwise
  ``BudgetExceeded`` is raised and nothing is reserved. The call count is exact (one unit per
  call), so ``max_calls`` is never exceeded. Tokens and USD are only known afterwards, so they
  can overshoot by at most the estimation error of the calls in flight (≤ the concurrency limit).
- Every reservation ends in exactly one ``commit(reservation, tokens, usd)`` (the call reached
  the model: it counts as a call even if it failed) or ``release(reservation)`` (no call was
  made). Cache hits never reserve.
- Once a limit has refused a call, ``exhausted`` stays set and every later ``reserve`` fails
  fast (even if in-flight calls later turn out cheaper than estimated): a budget that said stop
  means stop, which keeps runs reproducible. ``reset_exhausted()`` clears it (e.g. after the
  user raised a limit).
- Thread-safe (one lock); a budget may be shared by several gateways (e.g. a run-wide budget).
  ``used_*`` can be seeded from the store when a run resumes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from optimizer.errors import BudgetExceeded, ConfigError


@dataclass(frozen=True, slots=True)
class Reservation:
    tokens: int
    usd: float


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    used_calls: int
    used_tokens: int
    used_usd: float
    inflight_calls: int
    max_calls: int | None
    max_tokens: int | None
    max_usd: float | None
    exhausted: str | None
    max_wall_s: float | None = None
    elapsed_s: float = 0.0


class Budget:
    def __init__(
        self,
        max_calls: int | None = None,
        max_tokens: int | None = None,
        max_usd: float | None = None,
        max_wall_s: float | None = None,
        *,
        used_calls: int = 0,
        used_tokens: int = 0,
        used_usd: float = 0.0,
    ) -> None:
        limits = (("max_calls", max_calls), ("max_tokens", max_tokens), ("max_usd", max_usd),
                  ("max_wall_s", max_wall_s))
        for name, v in limits:
            if v is not None and v < 0:
                raise ConfigError(f"budget.{name} must be >= 0 or unset, got {v}")
        self.max_calls, self.max_tokens, self.max_usd = max_calls, max_tokens, max_usd
        self.max_wall_s = max_wall_s
        self._t0 = time.monotonic()
        self.used_calls, self.used_tokens, self.used_usd = used_calls, used_tokens, used_usd
        self._res_calls = 0
        self._res_tokens = 0
        self._res_usd = 0.0
        self._exhausted: tuple[str, float, float] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, cfg: Any, **used: Any) -> Budget:
        """From a ``BudgetConfig``-like object; ``used`` seeds ``used_calls`` etc. on resume."""
        return cls(
            getattr(cfg, "max_calls", None), getattr(cfg, "max_tokens", None),
            getattr(cfg, "max_usd", None), getattr(cfg, "max_wall_s", None), **used,
        )

    def start(self) -> None:
        """Restart the wall clock (call when the run really starts)."""
        self._t0 = time.monotonic()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._t0

    @property
    def exhausted(self) -> str | None:
        return self._exhausted[0] if self._exhausted else None

    def reserve(self, tokens: int = 0, usd: float = 0.0) -> Reservation:
        """Admit one call with the estimated cost or raise ``BudgetExceeded``."""
        with self._lock:
            if self._exhausted is not None:
                raise BudgetExceeded(*self._exhausted)
            checks = (
                ("calls", self.used_calls, self._res_calls + 1, self.max_calls),
                ("tokens", self.used_tokens, self._res_tokens + tokens, self.max_tokens),
                ("usd", self.used_usd, self._res_usd + usd, self.max_usd),
            )
            if self.max_wall_s is not None and self.elapsed_s > self.max_wall_s:
                self._exhausted = ("wall_s", round(self.elapsed_s, 3), self.max_wall_s)
                raise BudgetExceeded(*self._exhausted)
            for kind, used, pending, limit in checks:
                if limit is not None and used + pending > limit:
                    self._exhausted = (kind, used, limit)
                    raise BudgetExceeded(kind, used, limit)
            self._res_calls += 1
            self._res_tokens += tokens
            self._res_usd += usd
            return Reservation(tokens, usd)

    def commit(self, reservation: Reservation, tokens: int, usd: float) -> None:
        """The call reached the model: count it with its actual usage."""
        with self._lock:
            self._unreserve(reservation)
            self.used_calls += 1
            self.used_tokens += tokens
            self.used_usd += usd

    def release(self, reservation: Reservation) -> None:
        """No call was made (cancelled before sending): give the reservation back."""
        with self._lock:
            self._unreserve(reservation)

    def _unreserve(self, r: Reservation) -> None:
        self._res_calls -= 1
        self._res_tokens -= r.tokens
        self._res_usd -= r.usd

    def reset_exhausted(self) -> None:
        with self._lock:
            self._exhausted = None

    def snapshot(self) -> BudgetSnapshot:
        with self._lock:
            return BudgetSnapshot(
                self.used_calls, self.used_tokens, self.used_usd, self._res_calls,
                self.max_calls, self.max_tokens, self.max_usd, self.exhausted,
                self.max_wall_s, self.elapsed_s,
            )

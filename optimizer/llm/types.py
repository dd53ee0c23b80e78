"""Value types and small protocols shared by the gateway, the store and the reference model.

Contracts:
- ``ChatRequest`` is immutable; ``request_hash()`` is the canonical cache key: SHA-256 over
  canonical JSON of (model, messages, temperature, max_tokens, seed, response_format, extra).
  Two requests with equal hashes must be answerable by the same cached ``Completion``.
- ``ResponseCache`` and ``CallLog`` are implemented by the store; the gateway only talks to them
  through these protocols (so tests can also pass in-memory versions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = Mapping[str, str]


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the basis of every content hash."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(obj: Any) -> str:
    """Hex SHA-256 of ``canonical_json(obj)`` (strings are hashed as JSON strings)."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion request.

    ``role`` is the purpose of the call (task, mutation, verifier, adversary); it selects the
    model settings in config and is logged, but is not part of the cache key (the model and
    messages are). ``tags`` are logged only (run id, candidate id, example id).
    """

    model: str
    messages: tuple[Mapping[str, str], ...]
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = None
    response_format: Mapping[str, Any] | None = None
    role: str = "task"
    tags: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def request_hash(self) -> str:
        return content_hash(
            {
                "model": self.model,
                "messages": [dict(m) for m in self.messages],
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "seed": self.seed,
                "response_format": self.response_format,
                "extra": dict(self.extra),
            }
        )


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Completion:
    """The answer to a ``ChatRequest``. ``cached`` is True when no model call was made."""

    text: str
    model: str
    usage: Usage = Usage()
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    finish_reason: str = "stop"
    cached: bool = False
    request_hash: str = ""


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One row of the call log: every gateway call, cached or not, succeeded or not."""

    request_hash: str
    model: str
    role: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    cached: bool
    error: str | None
    tags: Mapping[str, Any]
    created_at: float


class ResponseCache(Protocol):
    """Persistent response cache keyed by ``ChatRequest.request_hash()``.

    ``get`` returns None on a miss. ``put`` is idempotent (a second put of the same key keeps
    the first value). Implementations must be safe to call from one asyncio thread.
    """

    def get(self, key: str) -> Completion | None: ...

    def put(self, key: str, completion: Completion) -> None: ...


class CallLog(Protocol):
    """Sink for call records. ``record_many`` may buffer; ``flush`` must persist everything."""

    def record_many(self, records: list[CallRecord]) -> None: ...

    def flush(self) -> None: ...

"""A fault-injecting OpenAI-compatible chat server on loopback, for tests and benchmarks.

Contracts:
- ``FaultServer(latency_s=0.0, script=[...])`` is a context manager; on enter it listens on
  ``127.0.0.1`` at a free port (``base_url`` = ``http://127.0.0.1:PORT/v1``) in a daemon thread;
  on exit it stops and wakes any hanging handler. Standard library only.
- It serves ``POST /v1/chat/completions`` and ``POST /chat/completions``. Each request takes the
  next ``Fault`` from the script (in arrival order); when the script is used up, requests are
  answered normally: after ``latency_s``, with ``ReferenceModel.respond`` (temperature, seed,
  max_tokens, response_format from the body) in the OpenAI response shape, with ``usage`` from
  ``count_tokens`` (input = sum over message contents, as the ``local`` provider counts).
- Faults: ``Fault.rate_limit(retry_after)`` → 429 with a ``Retry-After`` header (seconds);
  ``Fault.error(status)`` → that status with an OpenAI error body; ``Fault.hang(seconds)`` →
  no answer for that long (then 504); ``Fault.malformed()`` → 200 with a body that is not JSON.
- ``requests`` counts every POST received (faults included); ``bodies`` keeps the parsed bodies.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PATHS = ("/v1/chat/completions", "/chat/completions")


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # "rate_limit" | "error" | "hang" | "malformed" | "ok"
    status: int = 200
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def rate_limit(cls, retry_after: float = 1.0) -> Fault:
        return cls("rate_limit", 429, retry_after=retry_after)

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls("error", status)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        return cls("hang", 504, seconds=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed", 200)

    @classmethod
    def ok(cls) -> Fault:
        return cls("ok", 200)


class FaultServer:
    def __init__(self, latency_s: float = 0.0, script: Iterable[Fault] = ()) -> None:
        self.latency_s = latency_s
        self._script: deque[Fault] = deque(script)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._model: Any = None

    # -- script -----------------------------------------------------------------------------
    def push(self, *faults: Fault) -> None:
        with self._lock:
            self._script.extend(faults)

    def _next(self, body: dict[str, Any]) -> Fault:
        with self._lock:
            self.requests += 1
            self.bodies.append(body)
            return self._script.popleft() if self._script else Fault.ok()

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FaultServer is not running; use it as a context manager")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FaultServer:
        from optimizer.llm.reference import ReferenceModel

        self._model = ReferenceModel()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- answers ----------------------------------------------------------------------------
    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        from optimizer.llm.reference import count_tokens

        messages = body.get("messages") or []
        text = self._model.respond(
            messages,
            temperature=float(body.get("temperature") or 0.0),
            seed=body.get("seed"),
            response_format=body.get("response_format"),
            max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
        )
        n_in = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        n_out = count_tokens(text)
        return {
            "id": f"chatcmpl-fault-{self.requests}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "ref")),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out
            },
        }


def _make_handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr
            return None

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            body = {"error": {"message": message, "type": "fault_injected", "code": status}}
            self._send(status, json.dumps(body).encode(), headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.rstrip("/") not in _PATHS:
                self._error(404, f"unknown path {self.path}")
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._error(400, "request body is not JSON")
                return
            fault = server._next(body)
            if fault.kind == "rate_limit":
                ra = fault.retry_after if fault.retry_after is not None else 1.0
                self._error(429, "rate limited (injected)", {"Retry-After": f"{ra:g}"})
            elif fault.kind == "error":
                self._error(fault.status, f"server error {fault.status} (injected)")
            elif fault.kind == "hang":
                server._stop.wait(fault.seconds)
                self._error(504, "hung (injected)")
            elif fault.kind == "malformed":
                self._send(200, b'{"id": "chatcmpl-broken", "choices": [ {"message": ')
            else:
                if server.latency_s > 0:
                    server._stop.wait(server.latency_s)
                self._send(200, json.dumps(server.answer(body)).encode())

    return Handler

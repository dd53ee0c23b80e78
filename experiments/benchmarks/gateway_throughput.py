"""Gateway throughput against the simulated-latency reference model.

Measures wall time of distinct (uncached) task calls to ``local/reference`` and compares it with
the ideal ``calls x latency / concurrency``:

  (a) 1,000 calls, 200 ms latency, concurrency 16, through the gateway (target <= 1.10x ideal);
  (b) 2,000 calls, 50 ms latency, concurrency 32: the gateway (default transport ``auto`` =
      in-process for ``local/*``), the gateway forced onto litellm, raw ``litellm.acompletion``
      under ``asyncio.Semaphore(32)``, and ``dspy.Evaluate(num_threads=32)`` on the same provider
      (target: gateway not slower than raw litellm);
  (c) per-call CPU at zero latency: bare reference model vs a call through the gateway.

Usage: python experiments/benchmarks/gateway_throughput.py [--scale 0.1] [--out PATH]
Writes experiments/results/gateway_throughput.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp(prefix="bench-dspy-"))

from optimizer.llm.gateway import Gateway
from optimizer.llm.memory import MemoryCache, MemoryCallLog
from optimizer.llm.settings import GatewaySettings
from optimizer.tasks.render import render_messages

ROOT = Path(__file__).resolve().parents[2]
PROMPT = (
    "You classify web request payloads for a WAF.\n"
    "Labels: benign (normal input), sqli (SQL injection), xss (cross-site scripting), "
    "cmdi (command injection), traversal (path traversal).\n"
    "Cues: ' OR 1=1, UNION SELECT, -- -> sqli. <script>, onerror=, javascript: -> xss. "
    "; cat, | ls, $( -> cmdi. ../, %2e%2e -> traversal.\n"
    "Decode URL escapes before reading the payload. Ignore case.\n"
    "If nothing matches, answer benign. Answer with the label only."
)
LABELS = ["benign", "sqli", "xss", "cmdi", "traversal"]
TEMPLATES = [
    "q=item{i}' OR {i}={i} --",
    "<img src=x{i} onerror=alert({i})>",
    "file=../../etc/passwd{i}",
    "search=blue shoes size {i}",
    "host=example{i}.com; cat /etc/shadow",
]


def payloads(n: int, salt: str) -> list[str]:
    """Distinct payloads (``salt`` keeps cases from sharing anything cacheable)."""
    return [TEMPLATES[i % len(TEMPLATES)].format(i=i) + f" #{salt}{i}" for i in range(n)]


def row(name: str, calls: int, latency: float, conc: int, wall: float, **extra: object) -> dict:
    ideal = max(calls * latency / conc, 1e-9)
    return {
        "case": name, "calls": calls, "latency_s": latency, "concurrency": conc,
        "ideal_s": round(ideal, 4), "wall_s": round(wall, 4),
        "ratio_to_ideal": round(wall / ideal, 4),
        "calls_per_s": round(calls / wall, 1), **extra,
    }


def bench_gateway(name: str, n: int, latency: float, conc: int, transport: str) -> dict:
    settings = GatewaySettings(
        concurrency=conc, simulated_latency_s=latency, transport=transport,  # type: ignore[arg-type]
        timeout_s=30.0,
    )
    gw = Gateway(settings, cache=MemoryCache(), call_log=MemoryCallLog())
    if transport == "litellm":  # warm up litellm (import, registration) outside the timing
        gw.complete_sync(gw.request("task", render_messages(PROMPT, "warmup", LABELS)))
    reqs = [gw.request("task", render_messages(PROMPT, p, LABELS)) for p in payloads(n, name)]
    before = gw.stats()
    t0 = time.perf_counter()
    out = gw.complete_many_sync(reqs)
    wall = time.perf_counter() - t0
    st = gw.stats()
    assert len(out) == n and st.calls - before.calls == n and st.cache_hits == 0, st
    return row(name, n, latency, conc, wall, transport=transport, cost_usd=round(st.cost_usd, 6))


def bench_overhead(n: int) -> dict:
    """CPU cost per call at zero latency: the gateway (direct) vs the bare reference backend."""
    from optimizer.llm import provider

    backend = provider.get_backend()
    msgs = [render_messages(PROMPT, p, LABELS) for p in payloads(n, "ovh")]
    t0 = time.perf_counter()
    for m in msgs:
        backend.answer(m, "local/reference")
    bare = time.perf_counter() - t0
    gw = Gateway(GatewaySettings(concurrency=32), cache=MemoryCache(), call_log=MemoryCallLog())
    reqs = [gw.request("task", render_messages(PROMPT, p, LABELS)) for p in payloads(n, "ovh2")]
    t0 = time.perf_counter()
    gw.complete_many_sync(reqs)
    full = time.perf_counter() - t0
    return {
        "case": "per-call CPU at 0 latency", "calls": n,
        "reference_model_us": round(bare / n * 1e6, 1),
        "gateway_direct_us": round(full / n * 1e6, 1),
        "gateway_overhead_us": round((full - bare) / n * 1e6, 1),
    }


def bench_raw_litellm(n: int, latency: float, conc: int) -> dict:
    import litellm

    from optimizer.llm import provider

    litellm.suppress_debug_info = True
    provider.ensure_registered()
    msgs = [list(render_messages(PROMPT, p, LABELS)) for p in payloads(n, "raw")]

    async def main() -> float:
        sem = asyncio.Semaphore(conc)

        async def one(m: list) -> str:
            async with sem:
                r = await litellm.acompletion(
                    model="local/reference", messages=m, latency_s=latency
                )
                return r.choices[0].message.content

        await one(msgs[0])  # warm-up
        t0 = time.perf_counter()
        res = await asyncio.gather(*(one(m) for m in msgs))
        wall = time.perf_counter() - t0
        assert len(res) == n
        return wall

    return row("raw litellm.acompletion + Semaphore", n, latency, conc, asyncio.run(main()))


def bench_dspy(n: int, latency: float, conc: int) -> dict:
    import dspy

    from optimizer.llm import provider

    provider.ensure_registered()
    lm = dspy.LM("local/reference", cache=False, latency_s=latency, num_retries=0)
    program = dspy.Predict("payload -> label")
    devset = [
        dspy.Example(payload=p, label="x").with_inputs("payload") for p in payloads(n, "dspy")
    ]
    evaluate = dspy.Evaluate(
        devset=devset, metric=lambda ex, pred, trace=None: 0.0, num_threads=conc,
        display_progress=False, display_table=False,
    )
    with dspy.context(lm=lm):
        program(payload="warm-up")
        t0 = time.perf_counter()
        evaluate(program)
        wall = time.perf_counter() - t0
    return row("dspy.Evaluate(num_threads)", n, latency, conc, wall)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="multiply call counts (quick runs)")
    ap.add_argument("--out", default=str(ROOT / "experiments/results/gateway_throughput.json"))
    args = ap.parse_args()
    na, nb = max(16, int(1000 * args.scale)), max(32, int(2000 * args.scale))

    rows = [bench_gateway("gateway (a)", na, 0.200, 16, "auto")]
    rows.append(bench_gateway("gateway (b)", nb, 0.050, 32, "auto"))
    # litellm's first few hundred calls in a process are slower (lazy imports, logging worker
    # start-up); warm it up so that both litellm cases are measured warm.
    bench_raw_litellm(max(32, nb // 4), 0.0, 32)
    rows.append(bench_gateway("gateway via litellm (b)", nb, 0.050, 32, "litellm"))
    rows.append(bench_raw_litellm(nb, 0.050, 32))
    rows.append(bench_dspy(nb, 0.050, 32))
    overhead = bench_overhead(max(500, nb))

    from importlib.metadata import version

    import dspy
    import litellm  # noqa: F401  (version below)

    result = {
        "benchmark": "gateway_throughput",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "litellm": version("litellm"),
            "dspy": getattr(dspy, "__version__", version("dspy")),
        },
        "scale": args.scale,
        "targets": {
            "a_ratio_max": 1.10,
            "b_gateway_not_slower_than_raw_litellm": True,
        },
        "rows": rows,
        "overhead": overhead,
    }
    a, b, raw = rows[0], rows[1], rows[3]
    result["checks"] = {
        "a_within_1.10x": a["ratio_to_ideal"] <= 1.10,
        "b_gateway_le_raw_litellm": b["wall_s"] <= raw["wall_s"],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    head = ("case", "calls", "lat", "conc", "ideal s", "wall s", "x ideal")
    print("{:40} {:>6} {:>6} {:>5} {:>8} {:>8} {:>8}".format(*head))
    for r in rows:
        print(
            f"{r['case']:40} {r['calls']:>6} {r['latency_s']:>6.3f} {r['concurrency']:>5} "
            f"{r['ideal_s']:>8.2f} {r['wall_s']:>8.2f} {r['ratio_to_ideal']:>8.2f}"
        )
    print("per-call CPU at 0 latency (us):", {k: v for k, v in overhead.items() if "_us" in k})
    print("checks:", result["checks"], "->", out)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

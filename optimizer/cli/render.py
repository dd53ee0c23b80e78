"""Terminal rendering with rich (imported lazily by the commands that render)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.app import EvalSummary


@contextlib.contextmanager
def progress_bar(label: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """Yield ``update(done, total)``; draws a bar on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _pct(x: float) -> str:
    return "  n/a" if x != x else f"{100 * x:5.1f}"


def _ci(summary: EvalSummary, key: str) -> str:
    lo, hi = summary.report.intervals.get(key, (float("nan"), float("nan")))
    return f"[{_pct(lo)}, {_pct(hi)}]"


def render_eval(summary: EvalSummary) -> None:
    """Print the evaluation report as tables."""
    from rich.table import Table

    con = _console()
    r = summary.report
    head = Table(title=f"{summary.source} — {r.n} examples", title_justify="left")
    head.add_column("metric")
    head.add_column("value %", justify="right")
    head.add_column("95% CI", justify="right")
    for key, name in (
        ("accuracy", "accuracy"),
        ("macro_f1", "macro F1"),
        ("attack_recall", "attack recall"),
        ("benign_fpr", "benign FP rate"),
    ):
        head.add_row(name, _pct(getattr(r, key)), _ci(summary, key))
    con.print(head)
    per = Table(title="per class", title_justify="left")
    for col in ("label", "precision %", "recall %", "F1 %", "support"):
        per.add_column(col, justify="left" if col == "label" else "right")
    for label, s in r.per_class.items():
        per.add_row(label, _pct(s.precision), _pct(s.recall), _pct(s.f1), str(s.support))
    con.print(per)
    st = summary.stats
    con.print(
        f"model calls {st['model_calls']}  cache hits {st['cache_hits']}  "
        f"tokens {st['tokens']}  cost ${st['cost_usd']:.4f}  invalid answers {r.invalid}  "
        f"errors {summary.errors}"
    )
    con.print(f"run {summary.run_id}  candidate {summary.candidate_id}  store {summary.store_url}")


@contextlib.contextmanager
def live_progress(quiet: bool = False) -> Iterator[Callable[[Any], None]]:
    """Yield an ``on_progress(Progress)`` callback that draws one live status line on stderr
    (generation, best dev score, calls, tokens, cost, elapsed, ETA); plain log lines when
    stderr is not a terminal."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    con = Console(stderr=True)

    def line(p: Any) -> Text:
        done = max(p.generation, 1)
        eta = p.elapsed_s / done * max(p.max_generations - p.generation, 0)
        return Text(
            f"gen {p.generation}/{p.max_generations}  best dev {100 * p.best_fitness:.1f}%  "
            f"proposals {p.proposals} (accepted {p.accepted})  calls {p.model_calls}  "
            f"cache {p.cache_hits}  tokens {p.tokens}  ${p.cost_usd:.4f}  "
            f"{p.elapsed_s:.0f}s elapsed  ETA {eta:.0f}s"
        )

    if quiet:
        yield lambda p: None
        return
    if not con.is_terminal:
        yield lambda p: con.print(line(p), highlight=False)
        return
    with Live(Text("starting..."), console=con, transient=False, refresh_per_second=4) as live:
        yield lambda p: live.update(line(p))


def _console() -> Any:
    """A stdout console; at least 170 columns wide when the output is not a terminal."""
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=max(con.width, 170))


_VALIDATION_COLUMNS = (
    ("robustness", "robust %"),
    ("injection_flips", "inj flips"),
    ("verifier_right", "verif +"),
    ("verifier_wrong", "verif -"),
)


def _cell(value: Any, pct: bool = False) -> str:
    if value is None:
        return "-"
    return _pct(float(value)) if pct else str(value)


def render_run_summary(s: Any) -> None:
    from rich.table import Table

    con = _console()
    con.print(f"run {s.run_id}: {s.status} ({s.stop_reason}) after {s.generations} generations",
              markup=False)
    if s.finalists:
        t = Table(title="finalists on test (champion first)", title_justify="left")
        extra = [(key, name) for key, name in _VALIDATION_COLUMNS
                 if any(key in f for f in s.finalists)]
        for col in ("candidate", "operator", "gen", "dev %", "test % [95% CI]", "atk rec %",
                    "FPR %", *(name for _, name in extra)):
            t.add_column(col, justify="left" if col in ("candidate", "operator") else "right",
                         no_wrap=True)
        for f in s.finalists:
            lo, hi = (f["test_ci"] + [float("nan")] * 2)[:2]
            mark = " seed" if f["candidate"] == s.seed_candidate else ""
            t.add_row(f["candidate"] + mark, f["operator"], str(f["generation"]),
                      _pct(f["dev_score"]),
                      f"{_pct(f['test_accuracy'])} [{_pct(lo)}, {_pct(hi)}]",
                      _pct(f["attack_recall"]), _pct(f["benign_fpr"]),
                      *(_cell(f.get(key), pct=key == "robustness") for key, _ in extra))
        con.print(t)
    if s.p_value is not None:
        verdict = "significant" if s.significant else "not significant"
        con.print(
            f"champion vs seed on test: {_pct(s.best_test_score)}% vs {_pct(s.seed_test_score)}%"
            f"  McNemar p = {s.p_value:.3g} ({verdict} at 0.05)", markup=False)
    con.print(f"model calls {s.model_calls}  cache hits {s.cache_hits}  tokens {s.tokens}  "
              f"cost ${s.cost_usd:.4f}  elapsed {s.elapsed_s:.1f}s", markup=False)
    if s.best_candidate:
        con.print(f"inspect: breed show {s.best_candidate}   breed lineage {s.best_candidate}",
                  markup=False)


def render_runs(runs: Any) -> None:
    import datetime as dt

    from rich.console import Console
    from rich.table import Table

    t = Table()
    for col in ("run", "name", "kind", "status", "gen", "best", "calls", "cost $", "started"):
        t.add_column(col)
    for r in runs:
        tot = r.totals or {}
        best = tot.get("best_fitness", tot.get("accuracy"))
        t.add_row(r.id, r.name, r.kind, r.status, str(r.generation),
                  "" if best is None else _pct(float(best)), str(tot.get("model_calls", "")),
                  f"{float(tot.get('cost_usd', 0.0)):.4f}",
                  dt.datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M:%S"))
    Console().print(t)


def render_status(run: Any, stats: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    tot = dict(run.totals or {})
    con.print(f"run {run.id} ({run.name}) {run.kind}: {run.status}, generation {run.generation}",
              markup=False)
    for k in ("best_fitness", "best_candidate", "model_calls", "cache_hits", "tokens",
              "cost_usd", "elapsed_s"):
        if k in tot:
            con.print(f"  {k:<15} {tot[k]}", markup=False)
    if stats:
        t = Table(title="operators", title_justify="left")
        for col in ("operator", "proposals", "accepted", "rate %"):
            t.add_column(col, justify="left" if col == "operator" else "right")
        agg: dict[str, list[int]] = {}
        for s in stats:
            a = agg.setdefault(s.operator, [0, 0])
            a[0] += s.proposals
            a[1] += s.accepted
        for op, (n, acc) in sorted(agg.items(), key=lambda kv: -kv[1][0]):
            t.add_row(op, str(n), str(acc), _pct(acc / n if n else float("nan")))
        con.print(t)


def render_candidate(c: Any, scores: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    con = Console()
    con.print(f"candidate {c.id}  run {c.run_id}  generation {c.generation}  "
              f"operator {c.operator}  state {c.state}", markup=False)
    con.print(f"parents: {', '.join(c.parent_ids) or '-'}  hash {c.content_hash[:16]}",
              markup=False)
    for split, s in scores.items():
        con.print(f"  {split:<10} {_pct(s['accuracy'])}% of {s['n']}", markup=False)
    con.print(Panel(Text(c.text), title="task-prompt", title_align="left"))
    if c.mutation_prompt:
        con.print(Panel(Text(c.mutation_prompt), title="mutation-prompt", title_align="left"))


def render_lineage(c: Any, ancestors: Any) -> None:
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    by_id = {a.id: a for a in ancestors}

    def label(x: Any) -> Text:
        score = "-" if x.fitness is None else f"{100 * x.fitness:.1f}%"
        first = (x.text.strip().splitlines() or [""])[0][:60]
        return Text(f"{x.id}  gen {x.generation}  {x.operator}  dev {score}  {first!r}")

    root = Tree(label(c))
    stack = [(c, root, 0)]
    seen: set[str] = set()
    while stack:
        node, tree, depth = stack.pop()
        for pid in node.parent_ids:
            parent = by_id.get(pid)
            if parent is None or pid in seen:
                continue
            seen.add(pid)
            stack.append((parent, tree.add(label(parent)), depth + 1))
    Console().print(root)


def render_frame(df: Any, title: str) -> None:
    """A pandas DataFrame as a table (floats to 4 significant digits, text as plain text)."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for col in df.columns:
        t.add_column(str(col), justify="right" if df[col].dtype.kind in "fi" else "left")
    for row in df.itertuples(index=False):
        t.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    _console().print(t, markup=False)

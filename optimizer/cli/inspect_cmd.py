"""``breed runs``, ``status``, ``show``, ``lineage``: read-only views of the store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from optimizer.cli.options import db_option, json_option

if TYPE_CHECKING:
    from optimizer.store import RunRecord, Store


def _store(db_url: str | None) -> Store:
    from optimizer.store import open_store

    return open_store(db_url or "sqlite:///breed.db", create=False)


@click.command("runs")
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@db_option
@json_option
def runs_command(limit: int, db_url: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    import json

    from optimizer.cli.render import render_runs

    store = _store(db_url)
    try:
        runs = store.list_runs(limit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_run_dict(r) for r in runs], sort_keys=True))
    else:
        render_runs(runs)


def _run_dict(r: RunRecord) -> dict[str, Any]:
    return {
        "run_id": r.id, "name": r.name, "kind": r.kind, "status": r.status,
        "generation": r.generation, "created_at": r.created_at,
        "updated_at": r.updated_at, "finished_at": r.finished_at, "totals": dict(r.totals),
    }


@click.command("status")
@click.argument("run_id", metavar="RUN")
@db_option
@json_option
def status_command(run_id: str, db_url: str | None, as_json: bool) -> None:
    """Show a run's progress (works while the run is going, from another process)."""
    import json

    from optimizer.cli.render import render_status

    store = _store(db_url)
    try:
        run = store.get_run(run_id)
        stats = store.operator_stats(run.id) if run.kind == "run" else []
    finally:
        store.close()
    if as_json:
        d = _run_dict(run)
        d["operator_stats"] = [
            {"operator": s.operator, "proposals": s.proposals, "accepted": s.accepted}
            for s in stats
        ]
        click.echo(json.dumps(d, sort_keys=True))
    else:
        render_status(run, stats)


@click.command("show")
@click.argument("candidate_id", metavar="CANDIDATE")
@db_option
@json_option
def show_command(candidate_id: str, db_url: str | None, as_json: bool) -> None:
    """Show one candidate: prompt, mutation-prompt, parents, scores per split."""
    import json

    from optimizer.cli.render import render_candidate

    store = _store(db_url)
    try:
        c = store.get_candidate(candidate_id)
        scores = {}
        for split in ("train", "dev", "test", "regression", "dataset"):
            evs = store.evaluations(c.id, split=split)
            if evs:
                scores[split] = {"n": len(evs), "accuracy": sum(bool(e.correct) for e in evs)
                                 / len(evs)}
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({
            "candidate_id": c.id, "run_id": c.run_id, "text": c.text,
            "mutation_prompt": c.mutation_prompt, "operator": c.operator,
            "generation": c.generation, "parents": list(c.parent_ids), "state": c.state,
            "fitness": c.fitness, "content_hash": c.content_hash, "scores": scores,
        }, sort_keys=True))
    else:
        render_candidate(c, scores)


@click.command("lineage")
@click.argument("candidate_id", metavar="CANDIDATE")
@click.option("--depth", default=30, show_default=True, help="How many generations back.")
@db_option
@json_option
def lineage_command(candidate_id: str, depth: int, db_url: str | None, as_json: bool) -> None:
    """Show a candidate's ancestors as a tree, with operator and score at each step."""
    import json

    from optimizer.cli.render import render_lineage

    store = _store(db_url)
    try:
        c = store.get_candidate(candidate_id)
        ancestors = store.ancestors(c.id, max_depth=depth)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([
            {"candidate_id": a.id, "operator": a.operator, "generation": a.generation,
             "fitness": a.fitness, "parents": list(a.parent_ids), "content_hash": a.content_hash}
            for a in [c, *ancestors]
        ], sort_keys=True))
    else:
        render_lineage(c, ancestors)


@click.command("compare")
@click.argument("run_ids", metavar="RUN...", nargs=-1, required=True)
@db_option
@json_option
def compare_command(run_ids: tuple[str, ...], db_url: str | None, as_json: bool) -> None:
    """Compare runs side by side: seed vs champion on test, p-value, spend, acceptance."""
    from optimizer import analysis
    from optimizer.cli.render import render_frame

    store = _store(db_url)
    try:
        df = analysis.compare(store, list(run_ids))
        ops = {rid: analysis.operators(store, rid) for rid in df["run_id"]}
    finally:
        store.close()
    if as_json:
        click.echo(df.to_json(orient="records"))
        return
    wide = df.set_index("run_id").T.reset_index().rename(columns={"index": "metric"})
    render_frame(wide, "runs (one column per run)")
    for rid, frame in ops.items():
        if not frame.empty:
            render_frame(frame[["operator", "proposals", "accepted", "acceptance_rate",
                                "mean_gain", "cost_usd"]], f"operators of {rid}")

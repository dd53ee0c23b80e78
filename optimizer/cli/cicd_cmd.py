"""``breed check``, ``breed shadow``, ``breed review``: prompt CI (see docs/cicd.md).

Exit codes of ``breed check``: 0 the gate passed, 1 it failed, 2 a usage error (bad option,
unknown candidate, missing config or data).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from optimizer.cli.options import db_option, json_option

if TYPE_CHECKING:
    from optimizer.config import Config
    from optimizer.store import Store

config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None,
    help="Config (data, models, gate); default: the config stored with the candidate's run.")
name_option = click.option("--name", default=None,
                           help="Release line whose alias is the baseline (default: the "
                                "store's only line).")


def open_for(db_url: str | None, config_path: Path | None, *, create: bool = False) -> Store:
    """The store named by ``--db``, else by ``--config``'s ``store``, else ./breed.db
    (created only when ``create``: a check or shadow of a prompt with ``--config``)."""
    from optimizer.app import load_config
    from optimizer.store import open_store

    if db_url is None and config_path is not None:
        db_url = load_config(config_path).store
    return open_store(db_url or "sqlite:///breed.db", create=create)


def prepare(store: Store, arg: str, config_path: Path | None) -> tuple[Any, Config, str | None]:
    """(prompt, config, seed prompt) for a CANDIDATE|PROMPT argument."""
    from optimizer.cicd.targets import config_for, resolve_prompt

    prompt = resolve_prompt(store, arg)
    config, seed = config_for(store, config_path, prompt.candidate_id)
    return prompt, config, seed


@click.command("check")
@click.argument("target", metavar="PROMPT|CANDIDATE")
@click.option("--against", default=None,
              help="Baseline: an alias of the release line (default production; the seed "
                   "prompt before the first release), NAME@VERSION|@ALIAS, a candidate or a "
                   "prompt.")
@name_option
@config_option
@click.option("--junit", "junit_path", type=click.Path(path_type=Path), default=None,
              help="Write JUnit XML (one failure per regression).")
@click.option("--markdown", "md_path", type=click.Path(path_type=Path), default=None,
              help="Write a Markdown summary.")
@db_option
@json_option
def check_command(target: str, against: str | None, name: str | None, config_path: Path | None,
                  junit_path: Path | None, md_path: Path | None, db_url: str | None,
                  as_json: bool) -> int:
    """Run the regression suite and the test split; list regressions; apply the gate."""
    import json

    from optimizer.cicd.check import run_check
    from optimizer.cicd.reports import junit_xml, markdown
    from optimizer.cicd.targets import resolve_baseline

    store = open_for(db_url, config_path, create=config_path is not None)
    try:
        prompt, config, seed = prepare(store, target, config_path)
        baseline = resolve_baseline(store, against, name, config, seed)
        result = run_check(store, config, prompt, baseline)
    finally:
        store.close()
    if junit_path is not None:
        junit_path.write_bytes(junit_xml(result))
    if md_path is not None:
        md_path.write_text(markdown(result), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(result.as_dict(), sort_keys=True))
    else:
        _render_check(result)
    return 0 if result.passed else 1


def _render_check(result: Any) -> None:
    rep = result.report
    echo = click.echo
    echo(f"candidate {result.candidate_id}  ({rep['candidate']['source']}, "
         f"{rep['candidate']['chars']} chars)")
    echo(f"baseline  {rep['baseline']['source']}")
    for split in ("regression", "test"):
        s = rep["splits"][split]
        echo(f"{split}: {s['n']} cases, {len(s['newly_failing'])} newly failing, "
             f"{len(s['newly_fixed'])} newly fixed, {s['known_failures']} failing in both")
        for d in s["deltas"]:
            lo, hi = d["ci"]
            if d["delta"] is None:
                continue
            echo(f"  {d['metric']:<14} {100 * d['candidate']:6.1f}% vs {100 * d['baseline']:6.1f}%"
                 f"  delta {100 * d['delta']:+6.1f} pp  95% CI [{100 * (lo or 0):+.1f}, "
                 f"{100 * (hi or 0):+.1f}]")
    regs = result.regressions
    if regs:
        echo(f"newly failing ({sum(c['critical'] for c in regs)} critical):")
        for c in regs[:20]:
            mark = "CRITICAL " if c["critical"] else ""
            echo(f"  {mark}{c['split']} {c['id']} expected {c['label']} got {c['candidate']}: "
                 f"{c['input'][:70]!r}")
        if len(regs) > 20:
            echo(f"  ... and {len(regs) - 20} more")
    echo("gate:")
    for c in rep["gate"]["checks"]:
        echo(f"  {c['status']:<4} {c['name']:<20} {c['detail']}")
    echo(f"gate {'PASSED' if result.passed else 'FAILED'}  report {result.report_hash[:16]}"
         f"  run {result.run_id}")


@click.command("shadow")
@click.argument("target", metavar="CANDIDATE|PROMPT")
@click.option("--inputs", "inputs_path", type=click.Path(path_type=Path), required=True,
              help="Unlabeled traffic: JSONL (objects or strings) or CSV with a header.")
@click.option("--input-col", default="payload", show_default=True, help="Input column/field.")
@click.option("--against", default=None, help="Baseline (as for breed check).")
@click.option("--top", default=10, show_default=True, help="How many disagreements to show.")
@name_option
@config_option
@db_option
@json_option
def shadow_command(target: str, inputs_path: Path, input_col: str, against: str | None,
                   top: int, name: str | None, config_path: Path | None, db_url: str | None,
                   as_json: bool) -> None:
    """Run candidate and production side by side on unlabeled inputs; agreement and drift."""
    import json

    from optimizer.cicd.shadow import read_traffic, run_shadow
    from optimizer.cicd.targets import resolve_baseline

    store = open_for(db_url, config_path, create=config_path is not None)
    try:
        prompt, config, seed = prepare(store, target, config_path)
        inputs = read_traffic(inputs_path, input_col, config.data.max_input_chars)
        baseline = resolve_baseline(store, against, name, config, seed)
        res = run_shadow(store, config, prompt, baseline, inputs, source=str(inputs_path),
                         top=top)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(res.as_dict(), sort_keys=True))
        return
    s = res.summary
    click.echo(f"shadow run {res.run_id}: {s['n']} inputs ({s['distinct']} distinct)")
    click.echo(f"candidate {res.candidate_id} vs {s['baseline']['source']}")
    click.echo(f"agreement {100 * s['agreement']:.1f}%  Jensen-Shannon shift "
               f"{s['js_divergence']:.4f}  disagreements {s['disagreements']}")
    click.echo(f"labels candidate: {s['candidate_labels']}")
    click.echo(f"labels baseline:  {s['baseline_labels']}")
    for d in s["top_disagreements"]:
        click.echo(f"  x{d['count']} candidate {d['candidate']} / baseline {d['baseline']}: "
                   f"{d['input'][:80]!r}")


@click.command("review")
@click.argument("candidate", metavar="CANDIDATE")
@click.option("--approve", "decision", flag_value="approve", help="Approve for promotion.")
@click.option("--reject", "decision", flag_value="reject", help="Reject.")
@click.option("--comment", default="", help="Review comment (also a mutation-prompt seed "
                                            "for `breed run --from-reviews`).")
@click.option("--reviewer", required=True, help="Who reviews.")
@click.option("--name", default=None, help="Release line the review is for (optional).")
@db_option
@json_option
def review_command(candidate: str, decision: str | None, comment: str, reviewer: str,
                   name: str | None, db_url: str | None, as_json: bool) -> None:
    """Approve or reject a candidate (or just comment), pinned to its latest check report."""
    import json

    from optimizer.cicd.review import review

    if decision is None and not comment.strip():
        raise click.UsageError("pass --approve, --reject or --comment TEXT")
    store = open_for(db_url, None)
    try:
        r = review(store, candidate, decision=decision or "comment", comment=comment,
                   reviewer=reviewer, release_name=name)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"review_id": r.id, "candidate_id": r.candidate_id,
                               "decision": r.decision, "reviewer": r.reviewer,
                               "comment": r.comment, "evidence": dict(r.evidence)},
                              sort_keys=True))
        return
    ev = r.evidence
    click.echo(f"review {r.id}: {r.decision} of {r.candidate_id} by {r.reviewer}")
    if ev:
        verdict = "passed" if ev.get("gate_passed") else "FAILED"
        click.echo(f"evidence: check report {str(ev.get('report_hash'))[:16]} (gate {verdict}, "
                   f"{ev.get('regressions')} regressions, baseline {ev.get('baseline')})")

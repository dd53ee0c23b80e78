"""``breed run`` and ``breed resume``: evolve prompts under a budget, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from optimizer.cli.options import db_option, json_option


def _finish(summary: Any, as_json: bool) -> int:
    import json

    from optimizer.cli.render import render_run_summary

    if as_json:
        click.echo(json.dumps(summary.as_dict(), sort_keys=True))
    else:
        render_run_summary(summary)
    if summary.status == "interrupted":
        click.echo(f"interrupted; continue with: breed resume {summary.run_id}", err=True)
        return 130
    return 0


@click.command("run")
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="A name for the run (shown by breed runs).")
@click.option("--from-reviews", is_flag=True,
              help="Add the store's review comments to the run's mutation-prompts.")
@db_option
@json_option
def run_command(config_path: Path, name: str | None, from_reviews: bool, db_url: str | None,
                as_json: bool) -> int:
    """Evolve the config's seed prompt; report champion vs seed on test."""
    from optimizer.app import load_config, start_run
    from optimizer.cli.render import live_progress

    config = load_config(config_path)
    with live_progress(quiet=False) as on_progress:
        summary = start_run(config, db_url=db_url, name=name, on_progress=on_progress,
                            handle_signals=True, from_reviews=from_reviews)
    return _finish(summary, as_json)


@click.command("resume")
@click.argument("run_id", metavar="RUN")
@db_option
@json_option
def resume_command(run_id: str, db_url: str | None, as_json: bool) -> int:
    """Continue a stopped or killed run from its last committed generation."""
    from optimizer.app import resume_run
    from optimizer.cli.render import live_progress

    with live_progress(quiet=False) as on_progress:
        summary = resume_run(run_id, db_url=db_url, on_progress=on_progress, handle_signals=True)
    return _finish(summary, as_json)

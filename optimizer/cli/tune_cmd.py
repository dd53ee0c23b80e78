"""``breed tune``: tune the optimizer's own settings with optuna."""

from __future__ import annotations

from pathlib import Path

import click

from optimizer.cli.options import db_option, json_option


@click.command("tune")
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--trials", default=8, show_default=True, type=click.IntRange(1, 1000),
              help="How many evolution runs to try.")
@click.option("--max-calls", default=5000, show_default=True, type=click.IntRange(100),
              help="Model-call budget of every trial run.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write the config with the best settings to this YAML file.")
@db_option
@json_option
def tune_command(config_path: Path, trials: int, max_calls: int, out_path: Path | None,
                 db_url: str | None, as_json: bool) -> None:
    """Search population, minibatch, selection, acceptance and reflective weight (TPE);
    each trial is a full run under the same call budget, scored by its champion's dev score."""
    import json

    import yaml

    from optimizer.app import load_config
    from optimizer.cli.render import render_frame
    from optimizer.tune import tune

    config = load_config(config_path)

    def on_trial(rec: dict) -> None:
        click.echo(f"trial {rec['trial']}: dev {100 * rec['value']:.1f}%  calls {rec['calls']}"
                   f"  run {rec['run_id']}", err=True)

    result = tune(config, trials=trials, max_calls=max_calls, db_url=db_url, on_trial=on_trial)
    if out_path is not None:
        out_path.write_text(yaml.safe_dump(result.best_config, sort_keys=False))
    if as_json:
        click.echo(json.dumps({"best_value": result.best_value, "best_params": result.best_params,
                               "best_run_id": result.best_run_id, "trials": result.trials},
                              sort_keys=True))
        return
    import pandas as pd

    render_frame(pd.DataFrame(result.trials), f"{trials} trials (objective: champion dev score)")
    click.echo(f"best: dev {100 * result.best_value:.1f}% with {result.best_params} "
               f"(run {result.best_run_id})")
    if out_path is not None:
        click.echo(f"wrote {out_path} (data and prompt paths made absolute)")

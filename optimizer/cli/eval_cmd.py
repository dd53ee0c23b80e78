"""``breed eval``: score one prompt on a split or a labeled file."""

from __future__ import annotations

from pathlib import Path

import click

from optimizer.cli.options import db_option, json_option


@click.command("eval")
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path))
@click.option("--prompt", "prompt_arg", default=None,
              help="Prompt file or literal prompt text (default: the config's prompt).")
@click.option("--split", default=None, type=click.Choice(["train", "dev", "test", "regression"]),
              help="Split of the config's data folder (default: eval.split).")
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Score a labeled CSV/JSONL file instead of a split.")
@click.option("--input-col", default=None, help="Input column of --dataset.")
@click.option("--label-col", default=None, help="Label column of --dataset.")
@click.option("--label-map", default=None, help="Map dataset labels: old=new,old2=new2.")
@click.option("--max-examples", type=int, default=None, help="Score only the first N examples.")
@db_option
@json_option
def eval_command(
    config_path: Path,
    prompt_arg: str | None,
    split: str | None,
    dataset: Path | None,
    input_col: str | None,
    label_col: str | None,
    label_map: str | None,
    max_examples: int | None,
    db_url: str | None,
    as_json: bool,
) -> None:
    """Evaluate one prompt: accuracy, per-class P/R, attack recall, benign FP rate, intervals."""
    import json

    from optimizer.app import DatasetSpec, evaluate_prompt, load_config, read_prompt
    from optimizer.cli.render import progress_bar, render_eval

    if split and dataset:
        raise click.UsageError("use either --split or --dataset, not both")
    config = load_config(config_path)
    prompt = read_prompt(prompt_arg, config)
    spec = DatasetSpec(
        split=split,
        dataset=dataset,
        input_col=input_col,
        label_col=label_col,
        label_map=label_map,
        max_examples=max_examples,
    )
    with progress_bar("evaluating", quiet=False) as progress:
        summary = evaluate_prompt(config, prompt, spec, db_url=db_url, progress=progress)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), sort_keys=True))
    else:
        render_eval(summary)

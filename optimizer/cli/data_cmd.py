"""``breed data``: import external labeled payload sets."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def data() -> None:
    """Import and inspect datasets."""


@data.command("import")
@click.argument("csv_path", type=click.Path(path_type=Path))
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="JSONL file to write (project format: id, payload, label, meta).")
@click.option("--format", "fmt", type=click.Choice(["crs"]), default="crs", show_default=True,
              help="Input format: the OWASP CRS regression-test CSV.")
@click.option("--decoded", is_flag=True, help="Use the URL-decoded payload column.")
@click.option("--label-map", default=None, help="Override family mapping: family=label,...")
def import_cmd(
    csv_path: Path, out_path: Path, fmt: str, decoded: bool, label_map: str | None
) -> None:
    """Import an OWASP CRS regression-test CSV as a labeled JSONL file."""
    from optimizer.tasks.crs import import_crs, write_jsonl
    from optimizer.tasks.loaders import parse_label_map

    mapping = parse_label_map(label_map) or None
    examples, skipped = import_crs(csv_path, use_decoded=decoded, label_map=mapping)
    write_jsonl(examples, out_path)
    counts: dict[str, int] = {}
    for ex in examples:
        counts[ex.label] = counts.get(ex.label, 0) + 1
    click.echo(f"wrote {len(examples)} examples to {out_path}")
    for label, n in sorted(counts.items()):
        click.echo(f"  {label:<16} {n}")
    if skipped:
        click.echo("skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))

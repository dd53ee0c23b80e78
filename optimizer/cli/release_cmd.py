"""``breed promote``, ``releases``, ``rollback``, ``export``: releases and aliases."""

from __future__ import annotations

import os
from pathlib import Path

import click

from optimizer.cli.cicd_cmd import config_option, open_for
from optimizer.cli.options import db_option, json_option


def _who(by: str | None) -> str:
    if by:
        return by
    import getpass

    try:
        return os.environ.get("BREED_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


by_option = click.option("--by", default=None,
                         help="Who acts (default: $BREED_USER, else the login name).")


@click.command("promote")
@click.argument("candidate", metavar="CANDIDATE")
@click.option("--name", required=True, help="Release line, e.g. payload-classifier.")
@click.option("--alias", default="production", show_default=True, help="Alias to move.")
@click.option("--force", is_flag=True, help="Skip the gate and approval (needs --reason).")
@click.option("--reason", default="", help="Why (required with --force; recorded).")
@by_option
@config_option
@db_option
@json_option
def promote_command(candidate: str, name: str, alias: str, force: bool, reason: str,
                    by: str | None, config_path: Path | None, db_url: str | None,
                    as_json: bool) -> None:
    """Release an approved candidate that passes the gate and move the alias to it."""
    import json

    from optimizer.cicd.release import promote
    from optimizer.cicd.targets import config_for, require_candidate

    if force and not reason.strip():
        raise click.UsageError("--force needs --reason TEXT")
    store = open_for(db_url, config_path)
    try:
        c = require_candidate(store, candidate)
        config, seed = config_for(store, config_path, c.id)
        rel, move, ev = promote(store, config, c.id, name=name, alias=alias, by=_who(by),
                                seed_prompt=seed, force=force, reason=reason)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"name": rel.name, "version": rel.version, "alias": alias,
                               "previous_version": move.previous_version,
                               "candidate_id": rel.candidate_id, "forced": force,
                               "content_hash": rel.content_hash, "evidence": ev},
                              sort_keys=True))
        return
    prev = "unset" if move.previous_version is None else f"v{move.previous_version}"
    click.echo(f"{rel.name} v{rel.version} <- {rel.candidate_id}; {alias}: {prev} -> "
               f"v{rel.version}" + (" (FORCED)" if force else ""))


@click.command("releases")
@click.argument("name", metavar="NAME")
@db_option
@json_option
def releases_command(name: str, db_url: str | None, as_json: bool) -> None:
    """List a release line's versions, aliases and alias history."""
    import datetime as dt
    import json

    from optimizer.cicd.release import releases_view

    store = open_for(db_url, None)
    try:
        view = releases_view(store, name)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(view, sort_keys=True))
        return

    def when(t: float) -> str:
        return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")

    click.echo(f"release line {name}")
    for v in view["versions"]:
        tags = f" [{', '.join(v['aliases'])}]" if v["aliases"] else ""
        forced = " FORCED" if v["forced"] else ""
        click.echo(f"  v{v['version']}{tags}  {v['candidate_id']}  {v['content_hash'][:12]}  "
                   f"by {v['created_by']}  {when(v['created_at'])}{forced}")
    click.echo("alias history:")
    for m in view["history"]:
        prev = "-" if m["previous_version"] is None else f"v{m['previous_version']}"
        to = "-" if m["version"] is None else f"v{m['version']}"
        click.echo(f"  {when(m['created_at'])}  {m['alias']}: {prev} -> {to}  by {m['moved_by']}"
                   f"  {m['reason']}")


@click.command("rollback")
@click.argument("name", metavar="NAME")
@click.option("--alias", default="production", show_default=True, help="Alias to move back.")
@click.option("--to", "to_version", type=int, default=None,
              help="Version to move to (default: the one before the current).")
@click.option("--reason", default="", help="Why (recorded).")
@by_option
@db_option
@json_option
def rollback_command(name: str, alias: str, to_version: int | None, reason: str,
                     by: str | None, db_url: str | None, as_json: bool) -> None:
    """Move an alias back to its previous version (appends to the history)."""
    import json

    from optimizer.cicd.release import rollback

    store = open_for(db_url, None)
    try:
        m = rollback(store, name, alias, by=_who(by), reason=reason, to_version=to_version)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"name": name, "alias": alias, "version": m.version,
                               "previous_version": m.previous_version, "reason": m.reason},
                              sort_keys=True))
        return
    click.echo(f"{name}@{alias}: v{m.previous_version} -> v{m.version}")


@click.command("export")
@click.argument("ref", metavar="NAME[@VERSION|@ALIAS]")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml", "txt", "dspy", "promptfoo"]),
              default="json", show_default=True, help="Output format.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write to FILE instead of stdout.")
@db_option
def export_command(ref: str, fmt: str, out_path: Path | None, db_url: str | None) -> None:
    """Export a released prompt with hash, version, model, lineage, scores and approvals."""
    from optimizer.cicd.export import render

    store = open_for(db_url, None)
    try:
        text = render(store, ref, fmt)
    finally:
        store.close()
    if out_path is None:
        click.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {fmt} export of {ref} to {out_path}", err=True)

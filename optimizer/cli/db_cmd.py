"""``breed db``: schema maintenance."""

from __future__ import annotations

import click

from optimizer.cli.options import db_option


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@db_option
def upgrade(db_url: str | None) -> None:
    """Migrate the store's schema to the version this code needs."""
    from optimizer.store import upgrade as do_upgrade

    url = db_url or "sqlite:///breed.db"
    before, after = do_upgrade(url)
    if before == after:
        click.echo(f"{url}: already at schema revision {after}")
    else:
        click.echo(f"{url}: upgraded schema {before or 'none'} -> {after}")

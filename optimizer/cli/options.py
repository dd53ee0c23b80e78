"""Options shared by several commands."""

from __future__ import annotations

import click

db_option = click.option(
    "--db",
    "db_url",
    default=None,
    envvar="BREED_DB",
    help="Store URL or SQLite file (default: the config's store, else sqlite:///breed.db).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")

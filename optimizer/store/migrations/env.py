"""Alembic environment for the promptbreed store.

Used in two ways: by the library, which passes an open connection in
``config.attributes["connection"]`` (its engine has the SQLite pragmas and BEGIN handling),
and from the ``alembic`` command line for development (``-x url=...`` or ``sqlalchemy.url``).
``render_as_batch=True`` makes ALTER TABLE work on SQLite (copy-and-move).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from optimizer.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(url)
    with engine.connect() as conn:
        _configure_and_run(conn)
        conn.commit()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

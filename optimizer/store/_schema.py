"""Opening a database: URL handling, engine setup, schema-version check, migrations.

Contracts:
- ``normalize_url``: None -> ``sqlite:///breed.db``; a string without ``://`` is a file path.
- SQLite connections run in WAL mode with ``synchronous=NORMAL``, foreign keys on and a busy
  timeout (default 30 s). The driver's own transaction handling is switched off and the store
  emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` for writes (so two writers queue on the busy
  timeout instead of failing on a read-to-write lock upgrade), plain ``BEGIN`` for reads.
- ``prepare_schema`` never changes a database it refuses: a non-SQLite file is detected from
  its header before SQLite touches it; an outdated schema raises ``SchemaVersionError``.
- Alembic runs programmatically with ``script_location`` set to this package's ``migrations``
  folder, so nothing depends on the current directory.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from optimizer.errors import SchemaVersionError, StoreError

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///breed.db"
# Ordered revision history; the last one is the head this code needs. A test checks that this
# matches the Alembic scripts, so opening a database never has to load them.
REVISIONS = ("0001", "0002", "0003")
HEAD_REVISION = REVISIONS[-1]
BEGIN_OPTION = "promptbreed_begin"  # connection execution option: "BEGIN <value>"
_PACKAGE_DIR = Path(__file__).resolve().parent
_SQLITE_MAGIC = b"SQLite format 3\x00"


def normalize_url(url: str | URL | None) -> URL:
    """Turn None, a SQLAlchemy URL or a plain file path into a SQLAlchemy ``URL``."""
    if url is None:
        url = DEFAULT_URL
    if isinstance(url, URL):
        return url
    if "://" not in url:
        return URL.create("sqlite", database=str(Path(url).expanduser()))
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot parse database URL {url!r}: {exc}; give a file path or a "
                         "SQLAlchemy URL such as sqlite:///breed.db") from exc


def display_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None (not SQLite, or in-memory)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None
    return Path(url.database)


def check_sqlite_file(path: Path, *, create: bool) -> None:
    """Refuse paths that are not (empty or) SQLite files, without touching them."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory; point --db at a database file")
    try:
        if not path.exists():
            if not create:
                raise StoreError(f"no promptbreed database at {path}; start a run first or "
                                 "point --db at an existing database")
            path.parent.mkdir(parents=True, exist_ok=True)
            return
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot use {path} as the database: {exc.strerror or exc}; check "
                         "the path and its permissions") from exc
    if head and head != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not a SQLite database; point --db at a new or existing "
                         "promptbreed database")


def make_engine(url: URL, *, busy_timeout_s: float = 30.0) -> Engine:
    """Create the engine; for SQLite install the pragmas and explicit BEGIN handling."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"timeout": busy_timeout_s}}
    if sqlite_file(url) is None:  # in-memory: one shared connection
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    engine = create_engine(url, **kwargs)
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def translate_error(exc: SQLAlchemyError, where: str, busy_timeout_s: float = 30.0) -> StoreError:
    """A plain-language ``StoreError`` for a SQLAlchemy error."""
    orig = str(getattr(exc, "orig", None) or exc).strip()
    low = orig.lower()
    if isinstance(exc, OperationalError) and "locked" in low:
        msg = (f"the database {where} is locked by another writer (waited "
               f"{busy_timeout_s:g} s); try again when the other process has finished")
    elif "file is not a database" in low:
        msg = (f"{where} is not a SQLite database; point --db at a new or existing "
               "promptbreed database")
    elif "unable to open database" in low:
        msg = f"cannot open the database {where}; check that the path exists and is writable"
    elif "readonly" in low or "read-only" in low:
        msg = f"the database {where} is read-only; check the file's permissions"
    elif "json serializable" in low:
        msg = (f"cannot store a value that is not JSON-serializable ({orig}); pass plain "
               "dicts, lists, strings, numbers, booleans or None")
    elif isinstance(exc, IntegrityError) and "foreign key" in low:
        msg = (f"write refused by {where}: it refers to a run or candidate that does not exist "
               f"({orig})")
    else:
        msg = f"database error at {where}: {orig}"
    return StoreError(msg)


def alembic_config(connection: Connection | None = None, url: URL | None = None) -> Any:
    """An Alembic ``Config`` for the packaged migrations (imports alembic lazily)."""
    from alembic.config import Config

    cfg = Config(str(_PACKAGE_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(_PACKAGE_DIR / "migrations"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", display_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def read_revision(conn: Connection) -> tuple[str | None, bool]:
    """(revision or None, whether the database has any other table)."""
    tables = set(inspect(conn).get_table_names())
    revision = None
    if "alembic_version" in tables:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        revision = rows[0] if rows else None
    return revision, bool(tables - {"alembic_version"})


def migrate(
    engine: Engine, target: str = "head", *, downgrade: bool = False, only_if_fresh: bool = False
) -> None:
    """Run Alembic on ``engine`` inside one immediate (write-locked) transaction.

    With ``only_if_fresh`` the database is re-checked under the lock and left alone unless it
    is still empty, so processes creating the same new database at once do not collide.
    """
    from alembic import command

    with engine.connect() as conn:
        conn = conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            if only_if_fresh and read_revision(conn) != (None, False):
                return
            cfg = alembic_config(conn)
            if downgrade:
                command.downgrade(cfg, target)
            else:
                command.upgrade(cfg, target)


def prepare_schema(engine: Engine, where: str, *, create: bool) -> None:
    """Create a fresh database at head, accept one at head, refuse anything else.

    ``where`` names the database in messages (the file path for SQLite files).
    """
    with engine.connect() as conn, conn.begin():
        revision, has_tables = read_revision(conn)
    if revision == HEAD_REVISION:
        return
    if revision is None and not has_tables:
        if not create:
            raise StoreError(f"no promptbreed database at {where}; start a run first or "
                             "point --db at an existing database")
        logger.info("creating promptbreed schema %s in %s", HEAD_REVISION, where)
        migrate(engine, "head", only_if_fresh=True)
        with engine.connect() as conn, conn.begin():
            revision, has_tables = read_revision(conn)  # another process may have won
        if revision == HEAD_REVISION:
            return
    raise schema_error(revision, where)


def schema_error(revision: str | None, where: str) -> SchemaVersionError:
    if revision is None:
        return SchemaVersionError(
            f"{where} has tables but no promptbreed schema revision (is it another "
            "application's database?); point --db at a new file or a promptbreed database")
    if revision in REVISIONS:
        return SchemaVersionError(
            f"database schema is at revision {revision}, this code needs {HEAD_REVISION}; "
            f"run `breed db upgrade --db {where}`")
    return SchemaVersionError(
        f"database schema is at revision {revision}, which this version of promptbreed does "
        f"not know (the database is newer than the code, which needs {HEAD_REVISION}); "
        "upgrade promptbreed")


def upgrade_schema(engine: Engine, where: str) -> tuple[str | None, str]:
    """Migrate to head; returns (revision before, revision after)."""
    with engine.connect() as conn, conn.begin():
        revision, has_tables = read_revision(conn)
    if revision is None and has_tables:
        raise schema_error(None, where)
    if revision is not None and revision not in REVISIONS:
        raise schema_error(revision, where)
    if revision != HEAD_REVISION:
        logger.info("upgrading %s from %s to %s", where, revision, HEAD_REVISION)
        migrate(engine, "head")
    return revision, HEAD_REVISION

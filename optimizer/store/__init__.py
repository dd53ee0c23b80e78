"""The lineage store: the only writer of the promptbreed database.

``open_store(url)`` returns a ``Store`` (see ``sql.py`` for its methods). ``url`` is any
SQLAlchemy URL, or a plain file path for SQLite; the default is ``sqlite:///breed.db``.

Contracts:
- A new (missing or empty) database is created at the current schema revision.
- An existing database must be at exactly that revision: an older one raises
  ``SchemaVersionError`` naming ``breed db upgrade --db URL`` (and is left untouched); a newer
  or foreign one raises ``SchemaVersionError`` too. ``upgrade(url)`` migrates to the current
  revision, keeping the data.
- A file that is not a SQLite database raises ``StoreError`` and is not modified.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from optimizer.errors import StoreError
from optimizer.store import _schema
from optimizer.store._schema import DEFAULT_URL, HEAD_REVISION, normalize_url
from optimizer.store._util import candidate_hash
from optimizer.store.cache import SQLCallLog, SQLResponseCache
from optimizer.store.ids import new_id
from optimizer.store.records import (
    CANDIDATE_STATES,
    REVIEW_DECISIONS,
    RUN_KINDS,
    RUN_STATUSES,
    SPLITS,
    AliasMoveRecord,
    CandidateRecord,
    EvaluationRecord,
    EvaluationRow,
    LLMCallRow,
    OperatorStat,
    ProposalRecord,
    ReleaseRecord,
    ReviewRecord,
    RunRecord,
)
from optimizer.store.sql import Store

__all__ = [
    "CANDIDATE_STATES",
    "DEFAULT_URL",
    "HEAD_REVISION",
    "REVIEW_DECISIONS",
    "RUN_KINDS",
    "RUN_STATUSES",
    "SPLITS",
    "AliasMoveRecord",
    "CandidateRecord",
    "EvaluationRecord",
    "EvaluationRow",
    "LLMCallRow",
    "OperatorStat",
    "ProposalRecord",
    "ReleaseRecord",
    "ReviewRecord",
    "RunRecord",
    "SQLCallLog",
    "SQLResponseCache",
    "Store",
    "candidate_hash",
    "new_id",
    "normalize_url",
    "open_store",
    "schema_revision",
    "upgrade",
]


def open_store(
    url: str | URL | None = None, *, create: bool = True, busy_timeout_s: float = 30.0
) -> Store:
    """Open (and, if ``create`` and new, create) the database at ``url``.

    Raises:
        SchemaVersionError: the schema is not the one this code needs.
        StoreError: not a database, cannot be opened, or missing while ``create`` is False.
    """
    engine, where = _engine(url, create=create, busy_timeout_s=busy_timeout_s)
    try:
        _schema.prepare_schema(engine, where, create=create)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise _schema.translate_error(exc, where, busy_timeout_s) from exc
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, where, busy_timeout_s=busy_timeout_s)


def upgrade(url: str | URL | None = None) -> tuple[str | None, str]:
    """Migrate the database at ``url`` to the current schema, keeping its data.

    Returns (revision before, revision after); before is None for an empty database. A
    missing SQLite file is an error (a typo in ``--db`` must not create a new database).
    """
    engine, where = _engine(url, create=False, busy_timeout_s=30.0)
    try:
        return _schema.upgrade_schema(engine, where)
    except SQLAlchemyError as exc:
        raise _schema.translate_error(exc, where) from exc
    finally:
        engine.dispose()


def schema_revision(url: str | URL | None = None) -> str | None:
    """The schema revision of an existing database (None if it has none); changes nothing."""
    engine, where = _engine(url, create=False, busy_timeout_s=30.0)
    try:
        with engine.connect() as conn, conn.begin():
            return _schema.read_revision(conn)[0]
    except SQLAlchemyError as exc:
        raise _schema.translate_error(exc, where) from exc
    finally:
        engine.dispose()


def _engine(
    url: str | URL | None, *, create: bool, busy_timeout_s: float
) -> tuple[Engine, str]:
    parsed = normalize_url(url)
    path = _schema.sqlite_file(parsed)
    if path is not None:
        _schema.check_sqlite_file(path, create=create)
    where = _schema.display_url(parsed) if path is None else str(path)
    try:
        return _schema.make_engine(parsed, busy_timeout_s=busy_timeout_s), where
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open database {where}: {exc}; check the URL and that its "
                         "database driver is installed") from exc

"""Opening, creating, refusing and upgrading databases (real SQLite files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from optimizer.errors import SchemaVersionError, StoreError
from optimizer.store import HEAD_REVISION, open_store, schema_revision, upgrade
from optimizer.store._schema import REVISIONS, alembic_config, make_engine, migrate, normalize_url
from optimizer.store.models import Base


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_create_reopen_keeps_data_and_uses_wal(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "breed.db"  # parent folder is created
    store = open_store(str(db))
    run_id = store.create_run("run", "first", {"k": [1, 2]}, 7, "payloads")
    store.close()
    assert schema_revision(str(db)) == HEAD_REVISION
    assert {"runs", "candidates", "evaluations", "population", "alembic_version"} <= _tables(db)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store = open_store(f"sqlite:///{db}", create=False)
    run = store.get_run(run_id)
    assert (run.name, run.seed, run.config, run.status) == ("first", 7, {"k": [1, 2]}, "running")
    store.close()


def test_plain_path_and_default_url() -> None:
    def show(url: str | None) -> str:
        return normalize_url(url).render_as_string(hide_password=False)

    assert show("foo.db") == "sqlite:///foo.db"
    assert show("/abs/foo.db") == "sqlite:////abs/foo.db"
    assert show(None) == "sqlite:///breed.db"
    assert show("postgresql://u:p@h/db") == "postgresql://u:p@h/db"


def test_in_memory_store_works() -> None:
    store = open_store("sqlite:///:memory:")
    run_id = store.create_run("eval", "m", {}, 0, "t")
    assert store.list_runs()[0].id == run_id
    store.close()


def test_missing_database_with_create_false(tmp_path: Path) -> None:
    db = tmp_path / "nope.db"
    with pytest.raises(StoreError, match="no promptbreed database"):
        open_store(str(db), create=False)
    assert not db.exists()


def test_non_database_file_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 50
    path.write_bytes(content)
    with pytest.raises(StoreError, match="is not a SQLite database; point --db at"):
        open_store(str(path))
    with pytest.raises(StoreError, match="is not a SQLite database"):
        upgrade(str(path))
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]  # no -wal/-shm files


def test_outdated_schema_refused_then_upgraded_with_data(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = open_store(str(db))
    run_id = store.create_run("run", "old", {"x": 1}, 3, "payloads")
    cand = store.add_candidate(run_id, "classify it", generation=0, operator="seed")
    store.close()
    engine = make_engine(normalize_url(str(db)))
    migrate(engine, REVISIONS[0], downgrade=True)  # back to the first revision
    engine.dispose()
    before = db.read_bytes()

    with pytest.raises(SchemaVersionError) as err:
        open_store(str(db))
    msg = str(err.value)
    assert f"revision {REVISIONS[0]}, this code needs {HEAD_REVISION}" in msg
    assert f"run `breed db upgrade --db {db}`" in msg
    assert db.read_bytes() == before  # refused without changes

    assert upgrade(str(db)) == (REVISIONS[0], HEAD_REVISION)
    store = open_store(str(db), create=False)
    assert store.get_candidate(cand.id).text == "classify it"
    assert store.get_run(run_id).name == "old"
    store.set_population(run_id, 0, [cand.id])  # the table added by the upgrade works
    assert [c.id for c in store.population(run_id)] == [cand.id]
    store.close()
    assert upgrade(str(db)) == (HEAD_REVISION, HEAD_REVISION)  # idempotent


def test_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    open_store(str(db)).close()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaVersionError, match=r"9999.*upgrade promptbreed"):
        open_store(str(db))
    with pytest.raises(SchemaVersionError, match="upgrade promptbreed"):
        upgrade(str(db))


def test_foreign_database_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(SchemaVersionError, match="no promptbreed schema revision"):
        open_store(str(db))
    with pytest.raises(SchemaVersionError, match="no promptbreed schema revision"):
        upgrade(str(db))
    assert _tables(db) == {"contacts"}


def test_revision_constants_match_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]
    history = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert tuple(history) == REVISIONS


def test_models_match_migrations(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = tmp_path / "m.db"
    open_store(str(db)).close()
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_empty_file_is_a_new_database_but_upgrade_needs_an_existing_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    open_store(str(empty)).close()
    assert schema_revision(str(empty)) == HEAD_REVISION
    with pytest.raises(StoreError, match="no promptbreed database"):
        upgrade(str(tmp_path / "typo.db"))
    assert not (tmp_path / "typo.db").exists()

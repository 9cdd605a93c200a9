"""Migrations: every file applied once, in name order across packages, history fixed."""

from __future__ import annotations

from contextlib import closing

import pytest

from dashboard.provision import MIGRATION_DIRS, migrate
from geo.db import connect
from geo.errors import SetupError
from geo.migrate import apply_migrations, discover


def test_all_files_recorded_in_order(conn):
    names = [p.name for p in discover(MIGRATION_DIRS)]
    assert names == sorted(names) and len(names) >= 6
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name")
        assert [r[0] for r in cur.fetchall()] == names


def test_second_run_applies_nothing(db_url):
    with closing(connect(db_url)) as conn:
        assert migrate(conn) == []


def test_edited_migration_is_refused(db_url, tmp_path):
    path = tmp_path / "9990_scratch.sql"
    path.write_text("CREATE TABLE scratch_migration_test (id int);")
    with closing(connect(db_url)) as conn:
        try:
            assert apply_migrations(conn, [tmp_path]) == ["9990_scratch.sql"]
            assert apply_migrations(conn, [tmp_path]) == []
            path.write_text("CREATE TABLE scratch_migration_test (id bigint);")
            with pytest.raises(SetupError, match="changed after it was applied"):
                apply_migrations(conn, [tmp_path])
        finally:
            with conn, conn.cursor() as cur:
                cur.execute("DROP TABLE IF EXISTS scratch_migration_test")
                cur.execute("DELETE FROM schema_migrations WHERE name = '9990_scratch.sql'")


def test_failed_migration_leaves_no_trace(db_url, tmp_path):
    (tmp_path / "9991_broken.sql").write_text(
        "CREATE TABLE half_done (id int); SELECT no_such_function();")
    with closing(connect(db_url)) as conn:
        with pytest.raises(Exception, match="no_such_function"):
            apply_migrations(conn, [tmp_path])
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('half_done'), "
                        "(SELECT count(*) FROM schema_migrations WHERE name = '9991_broken.sql')")
            assert cur.fetchone() == (None, 0)


def test_duplicate_names_across_folders_refused(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "0001_x.sql").write_text("SELECT 1;")
    with pytest.raises(SetupError, match="duplicate migration name"):
        discover([tmp_path / "a", tmp_path / "b"])

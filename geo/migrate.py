"""Ordered SQL migrations, applied once each and recorded in ``schema_migrations``.

Each package that owns tables keeps its migrations beside its code (``<package>/migrations``); the
files are applied in the order of their names across all folders (``0001_…`` before ``0100_…``), so
ownership stays local while the order stays global. An applied file whose text later changes is an
error: history is fixed, a change is a new file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import psycopg2.extensions

from geo.errors import SetupError

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
LOCK_KEY = 7_355_608  # any constant: serialises concurrent `zhengtu migrate` runs


def discover(dirs: Iterable[Path]) -> list[Path]:
    """All ``*.sql`` files in the given folders, ordered by file name; duplicates are an error."""
    files: dict[str, Path] = {}
    for folder in dirs:
        for path in sorted(Path(folder).glob("*.sql")):
            if path.name in files:
                raise SetupError(f"duplicate migration name {path.name}: {files[path.name]} and {path}")
            files[path.name] = path
    return [files[name] for name in sorted(files)]


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply_migrations(conn: psycopg2.extensions.connection, dirs: Iterable[Path]) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied."""
    with conn, conn.cursor() as cur:
        cur.execute(CREATE_TABLE)
    applied: list[str] = []
    for path in discover(dirs):
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            cur.execute("SELECT checksum FROM schema_migrations WHERE name = %s", (path.name,))
            row = cur.fetchone()
            if row is not None:
                if row[0] != _checksum(path):
                    raise SetupError(f"migration {path.name} changed after it was applied; "
                                     "add a new migration instead of editing an old one")
                continue
            cur.execute(path.read_text(encoding="utf-8"))
            cur.execute("INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                        (path.name, _checksum(path)))
            applied.append(path.name)
    return applied

"""Read and write small facts about the database in ``zhengtu_meta`` (e.g. which demo data it holds)."""

from __future__ import annotations

import json

import psycopg2.extensions

UPSERT = """
INSERT INTO zhengtu_meta (key, value, updated_at) VALUES (%s, %s::jsonb, now())
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
"""


def get_meta(conn: psycopg2.extensions.connection, key: str) -> dict | None:
    """The stored value for ``key``, or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT value FROM zhengtu_meta WHERE key = %s", (key,))
        row = cur.fetchone()
    return row[0] if row else None


def set_meta(conn: psycopg2.extensions.connection, key: str, value: dict) -> None:
    """Store ``value`` under ``key`` (in the caller's transaction)."""
    with conn.cursor() as cur:
        cur.execute(UPSERT, (key, json.dumps(value, ensure_ascii=False)))

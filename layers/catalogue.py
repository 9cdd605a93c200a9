"""Imported layers join the registry: read ``user_layers.catalogue`` and merge it into ``LAYERS``.

``zhengtu import layer`` writes a table, a ``security_invoker`` view and a catalogue row; every
process serving the app notices a changed catalogue within ``MAX_AGE`` seconds (one cheap query,
at most that often, before a request) and rebuilds its imported entries. Built-in layers are never
replaced. An imported layer is drawn with a plain style, queried through its view (row-level
security applies), listed in the OGC API and visible to all staff (``STAFF_ROLES``).
"""

from __future__ import annotations

import threading
import time

import psycopg2
import psycopg2.extensions

from accounts.roles import STAFF_ROLES
from geo.db import Database
from layers.registry import COMMON, DISTRICT, Field, Layer, merge_imported

MAX_AGE = 2.0  # seconds between catalogue checks per process
VERSION_SQL = """
SELECT CASE WHEN to_regclass('user_layers.catalogue') IS NULL THEN NULL
            ELSE (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM user_layers.catalogue)
       END
"""
CATALOGUE_SQL = """
SELECT name, title_zh, title_en, geometry_kind, fields FROM user_layers.catalogue ORDER BY name
"""
VIEW_PREFIX = "user_layer_"
_lock = threading.Lock()
_state: dict[str, object] = {"checked": float("-inf"), "version": None}


def view_name(name: str) -> str:
    """The registry source of an imported layer: a security_invoker view in ``public``."""
    return VIEW_PREFIX + name


def layer_from_row(name: str, title_zh: str, title_en: str, kind: str, fields: list[dict]) -> Layer:
    """A registry entry for one catalogue row."""
    declared = {f["name"]: Field(f["type"], f.get("label") or f["name"], f["name"]) for f in fields}
    return Layer(id=name, title_zh=title_zh, title_en=title_en, geometry=kind, source=view_name(name),
                 fields={**COMMON, **declared}, filters={"district": DISTRICT},
                 popup_fields=tuple(list(declared)[:6]), visible=False, roles=STAFF_ROLES,
                 simplify=kind != "point")


def catalogue_version(conn: psycopg2.extensions.connection) -> str | None:
    """A value that changes whenever a layer is imported, replaced or dropped (None: no catalogue)."""
    with conn.cursor() as cur:
        cur.execute(VERSION_SQL)
        return cur.fetchone()[0]


def load_imported(conn: psycopg2.extensions.connection) -> list[Layer]:
    """Every catalogued layer as a registry entry ([] before the migration)."""
    if catalogue_version(conn) is None:
        return []
    with conn.cursor() as cur:
        cur.execute(CATALOGUE_SQL)
        return [layer_from_row(*row) for row in cur.fetchall()]


def refresh(conn: psycopg2.extensions.connection) -> int:
    """Re-read the catalogue into the registry now; return how many imported layers there are."""
    layers = load_imported(conn)
    merge_imported(layers)
    _state.update(version=catalogue_version(conn), checked=time.monotonic())
    return len(layers)


def refresh_if_stale(db: Database) -> None:
    """Before a request: at most every ``MAX_AGE`` s, reload the catalogue if it changed."""
    if time.monotonic() - float(_state["checked"]) < MAX_AGE:  # type: ignore[arg-type]
        return
    with _lock:
        if time.monotonic() - float(_state["checked"]) < MAX_AGE:  # type: ignore[arg-type]
            return
        with db.connection() as conn:
            if catalogue_version(conn) != _state["version"]:
                refresh(conn)
            _state["checked"] = time.monotonic()


def invalidate() -> None:
    """Make the next request re-check the catalogue (called after an import in this process)."""
    _state["checked"] = float("-inf")

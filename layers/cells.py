"""Build the ``entity_cells`` pyramid that low-zoom entity tiles read (see its migration).

Rebuilt after a bulk load (demo seed, import). Only the finest level scans ``entities``; each coarser
level is summed from the one below, so five or a dozen levels cost about the same as one.
"""

from __future__ import annotations

import psycopg2.extensions

from layers.registry import LAYERS, read_sql

WORLD = 40075016.68557849  # EPSG:3857 world width in metres
CELLS_PER_TILE = 64


def cell_size(z: int) -> float:
    """Width in metres of one pyramid cell at zoom ``z``."""
    return WORLD / (2 ** z * CELLS_PER_TILE)


def rebuild_entity_cells(conn: psycopg2.extensions.connection) -> int:
    """Recompute every level 0..aggregate_max_zoom in one transaction; return the row count."""
    finest = LAYERS["entities"].aggregate_max_zoom
    with conn, conn.cursor() as cur:
        cur.execute("TRUNCATE entity_cells")
        cur.execute(read_sql("entity_cells_finest.sql"), {"z": finest, "cell": cell_size(finest)})
        for z in range(finest - 1, -1, -1):
            cur.execute(read_sql("entity_cells_parent.sql"), {"z": z})
        cur.execute("ANALYZE entity_cells")
        cur.execute("SELECT count(*) FROM entity_cells")
        return int(cur.fetchone()[0])

"""Builders for the import/export tests: real points inside districts, fresh USCCs, clean-up.

Every USCC made here has organisation type '3' (the demo generator uses '1' and '2'), so imported
test entities never collide with the session's demo entities, and ``forget`` removes exactly them.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np

from data.ids import make_uscc
from geo.db import connect
from layers.cells import rebuild_entity_cells

POINT_IN = """
SELECT ST_X(p), ST_Y(p) FROM (
    SELECT ST_PointOnSurface(geom) AS p FROM admin_areas WHERE level = 'district' AND adcode = %s) s
"""
ENTITY = """
SELECT district_adcode, ST_X(geom), ST_Y(geom), name, category, risk_class, address
FROM entities WHERE uscc = %s
"""
_rng = np.random.default_rng(20261125)


def usccs(n: int, adcode: str = "440106") -> list[str]:
    """``n`` valid USCCs no demo entity has."""
    return [str(c) for c in make_uscc(_rng, np.full(n, adcode), "3")]


def point_in(db_url: str, adcode: str, dx: float = 0.0) -> tuple[float, float]:
    """A WGS 84 point inside the district (its point on surface, nudged east by ``dx`` degrees)."""
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute(POINT_IN, (adcode,))
        x, y = cur.fetchone()
    return x + dx, y


def stored(db_url: str, uscc: str) -> tuple | None:
    """(district, lon, lat, name, category, risk, address) of the entity with ``uscc``, or None."""
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute(ENTITY, (uscc,))
        return cur.fetchone()


def count_entities(db_url: str) -> int:
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM entities")
        return cur.fetchone()[0]


def forget(db_url: str) -> None:
    """Delete every test-imported entity (organisation type '3') and rebuild the tile pyramid."""
    with closing(connect(db_url)) as conn:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_config('zhengtu.bulk', 'on', true)")
            cur.execute("DELETE FROM entities WHERE substr(uscc, 2, 1) = '3'")
            deleted = cur.rowcount
        if deleted:
            rebuild_entity_cells(conn)

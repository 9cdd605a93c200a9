"""Find entities by name, USCC or address (trigram indexes keep ILIKE fast on millions of rows)."""

from __future__ import annotations

import psycopg2.extensions

from geo.errors import BadRequest

SEARCH = """
SELECT id, name, uscc, address, category_name, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       ST_X(zt_wgs84_to_gcj02(geom)) AS glon, ST_Y(zt_wgs84_to_gcj02(geom)) AS glat
FROM layer_entities
WHERE uscc = upper(%(q)s) OR name ILIKE %(like)s OR address ILIKE %(like)s
ORDER BY (uscc = upper(%(q)s)) DESC, length(name), id
LIMIT %(limit)s
"""


def search_entities(conn: psycopg2.extensions.connection, query: str, limit: int = 20) -> list[dict]:
    """Entities in the caller's region whose name or address contains ``query``, or with that USCC."""
    q = (query or "").strip()
    if len(q) < 2:
        raise BadRequest("请输入至少 2 个字符 / type at least 2 characters")
    if len(q) > 100:
        raise BadRequest("查询过长 / query too long")
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with conn.cursor() as cur:
        cur.execute(SEARCH, {"q": q, "like": like, "limit": limit})
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

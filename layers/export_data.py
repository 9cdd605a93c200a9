"""Export data from PostgreSQL: GeoJSON of a view's features, or grid counts when there are too many.

Everything runs through the caller's row-level security; identifiers come from the registry.
"""

from __future__ import annotations

import math

import psycopg2.extensions
from psycopg2 import sql

from layers.export_spec import (
    POINT_CAP,
    POLYGON_CAP,
    POLYGON_GEOM,
    LayerData,
    LayerSpec,
    View,
)
from layers.filters import where_clause
from layers.registry import Layer, read_sql
from layers.tiles import column_sql

# ---------- data from PostgreSQL ----------

def _parts(spec: LayerSpec, view: View) -> tuple[dict[str, sql.Composable], dict]:
    """The SQL pieces every export query shares: source, the layer's static where, the filters."""
    where, params = where_clause(spec.layer, spec.filters)
    params.update(view.params())
    return {"source": sql.Identifier(spec.layer.source), "layer_where": sql.SQL(spec.layer.tile_where),
            "filters": where}, params


def _style_sql(layer: Layer) -> sql.Composable:
    return sql.Identifier("s", layer.style_field) if layer.style_field else sql.SQL("NULL::text")


def _digits(tolerance: float) -> int:
    """Decimals for simplified polygons: one finer than the tolerance (4 for a province view, 6 in
    a street), since extra digits on thousands of vertices are most of an export's weight."""
    return min(max(math.ceil(-math.log10(tolerance)) + 1, 4), 6)


def count_in_view(conn: psycopg2.extensions.connection, spec: LayerSpec, view: View, probe: int) -> int:
    """Features of the layer in the view, counted up to ``probe`` (enough to compare with a cap)."""
    parts, params = _parts(spec, view)
    params["probe"] = probe
    with conn.cursor() as cur:
        cur.execute(sql.SQL(read_sql("export_count.sql")).format(**parts), params)
        return int(cur.fetchone()[0])


def features_in_view(conn: psycopg2.extensions.connection, spec: LayerSpec, view: View, limit: int) -> dict:
    """The layer's features in the view as GeoJSON with its popup fields and style value.

    Polygons are clipped near the view and simplified to half a pixel; top-of-legend values last.
    """
    layer = spec.layer
    names = list(dict.fromkeys([*layer.popup_fields, *([layer.style_field] if layer.style_field else [])]))
    parts, params = _parts(spec, view)
    order = sql.SQL("array_position(%(legend)s::text[], {}::text) DESC NULLS FIRST").format(_style_sql(layer))
    if "id" in layer.fields:
        order = sql.SQL("{}, s.id").format(order)
    params.update(limit=limit, legend=[e.value for e in layer.legend],
                  digits=6 if layer.geometry == "point" else _digits(params["tolerance"]))
    query = sql.SQL(read_sql("export_features.sql")).format(
        **parts, order=order, geom=sql.SQL(POLYGON_GEOM if layer.geometry == "polygon" else "s.geom"),
        columns=sql.SQL(", ").join(column_sql(layer, n) for n in names),
        properties=sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier("r", n))
                                      for n in names))
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


def grid_in_view(conn: psycopg2.extensions.connection, spec: LayerSpec, view: View) -> tuple[dict, int]:
    """Counts per grid cell (with counts by style value) and the total, for a point layer over its cap."""
    parts, params = _parts(spec, view)
    query = sql.SQL(read_sql("export_grid.sql")).format(**parts, style=sql.Identifier(spec.layer.style_field))
    with conn.cursor() as cur:
        cur.execute(query, params)
        collection, total = cur.fetchone()
    return collection, int(total)


def fetch_layer(conn: psycopg2.extensions.connection, spec: LayerSpec, view: View) -> LayerData:
    """The layer's data for the view: every feature under the cap, else grid counts (points) or the
    first ``POLYGON_CAP`` (polygons), so the exported page still opens."""
    point = spec.layer.geometry == "point"
    cap = POINT_CAP if point else POLYGON_CAP
    total = count_in_view(conn, spec, view, cap + 1)
    if total <= cap:
        collection = features_in_view(conn, spec, view, cap)
        return LayerData(spec, collection, len(collection["features"]), "features")
    if point and spec.layer.style_field:
        collection, total = grid_in_view(conn, spec, view)
        return LayerData(spec, collection, total, "grid")
    return LayerData(spec, features_in_view(conn, spec, view, cap), total, "truncated")

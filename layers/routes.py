"""HTTP endpoints for tiles: ``/tiles/{layer}/{z}/{x}/{y}.mvt`` and TileJSON per layer."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from accounts.roles import ALL_ROLES, PUBLIC
from layers.filters import parse_filters
from layers.registry import Layer, get_layer
from layers.tiles import MAX_ZOOM, TileAddress, etag, get_tile, parse_crs
from layers.web import request_connection, require_role, requires

MVT_TYPE = "application/vnd.mapbox-vector-tile"
RESERVED = frozenset({"crs"})  # query parameters that are not layer filters


def _cache_control(layer: Layer) -> str:
    """Public layers may be cached by proxies; jurisdiction-bound ones only by the caller."""
    return "public, max-age=60" if PUBLIC in layer.roles else "private, max-age=60"

bp = Blueprint("tiles", __name__)


@bp.get("/tiles/<layer_id>/<z>/<x>/<y>.mvt")
@requires(*ALL_ROLES)  # each layer declares its own roles, checked below
def tile(layer_id: str, z: str, x: str, y: str) -> Response:
    """One vector tile; 204 when the area is empty, 304 when the client's copy is current.

    Rows come through the caller's row-level security, so a tile never shows another region.
    """
    layer = get_layer(layer_id)
    require_role(layer.roles)
    address = TileAddress.parse(z, x, y)
    filters = parse_filters(layer, request.args, ignore=RESERVED)
    crs = parse_crs(request.args.get("crs"))
    with request_connection() as conn:
        data = get_tile(conn, layer, address, filters, crs)
    if not data:
        return Response(status=204, headers={"Cache-Control": _cache_control(layer)})
    response = Response(data, mimetype=MVT_TYPE, headers={"Cache-Control": _cache_control(layer)})
    response.set_etag(etag(data))
    return response.make_conditional(request)


@bp.get("/tiles/<layer_id>.json")
@requires(*ALL_ROLES)
def tilejson(layer_id: str) -> Response:
    """TileJSON 3.0 for one layer, so MapLibre, QGIS and others find its tiles and fields."""
    layer = get_layer(layer_id)
    require_role(layer.roles)
    base = url_for("tiles.tile", layer_id=layer.id, z=0, x=0, y=0, _external=True)
    template = base.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")
    return jsonify({
        "tilejson": "3.0.0", "name": layer.title_zh, "description": layer.title_en,
        "tiles": [template], "minzoom": layer.minzoom, "maxzoom": min(layer.maxzoom, MAX_ZOOM),
        "bounds": [-180, -85.0511, 180, 85.0511],
        "vector_layers": [{"id": layer.id, "fields": {k: f.type for k, f in layer.fields.items()},
                           "minzoom": layer.minzoom, "maxzoom": layer.maxzoom}],
    })

"""Map exports: ``GET /export/map.html`` turns the explorer's view into a self-contained HTML file."""

from __future__ import annotations

from flask import Blueprint, Response, request

from accounts.roles import ALL_ROLES
from geo.errors import BadRequest
from layers.export_spec import parse_export, parse_layer_ids
from layers.folium_export import export_map
from layers.registry import LAYERS
from layers.web import principal, request_connection, require_role, requires

bp = Blueprint("export", __name__)


def _single_values() -> dict[str, str]:
    """The query string as one value per key; a repeated key is ambiguous, so a 400."""
    repeated = [key for key, values in request.args.lists() if len(values) > 1]
    if repeated:
        raise BadRequest(f"参数重复：{', '.join(repeated)} / repeated parameter")
    return request.args.to_dict(flat=True)


@bp.get("/export/map.html")
@requires(*ALL_ROLES)  # each requested layer's own roles are checked below
def map_html() -> Response:
    """The explorer's view (same query string: map, layers, <layer>.<filter>, opacity; or bbox) as a
    downloadable HTML map that opens offline. Rows come through the caller's row-level security."""
    args = _single_values()
    who = principal()
    defaults = [layer.id for layer in LAYERS.values() if layer.visible and who.may(layer.roles)]
    layers = parse_layer_ids(args, defaults)
    for layer in layers:
        require_role(layer.roles)
    spec = parse_export(args, layers)
    with request_connection() as conn:
        export = export_map(conn, spec, region=who.region)
    return Response(export.html, mimetype="text/html", headers={
        "Content-Disposition": export.content_disposition(), "Cache-Control": "private, no-store"})

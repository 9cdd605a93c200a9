"""JSON API endpoints that are not layers: ``/api/locate`` (and, later, tasks, events, KPIs)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from geo.admin import locate, parse_lon_lat
from layers.web import database

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/locate")
def locate_point() -> Response:
    """Province, city and district containing a WGS 84 ``lon``/``lat``; 404 outside the loaded area."""
    lon, lat = parse_lon_lat(request.args.get("lon"), request.args.get("lat"))
    with database().connection() as conn:
        return jsonify(locate(conn, lon, lat))

"""JSON API endpoints that are not layers: locate, entity dossiers, cases."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from accounts.roles import PUBLIC, STAFF_ROLES
from enforcement.cases import case_extras
from enforcement.records import case_record, entity_dossier, parse_id
from geo.admin import locate, parse_lon_lat
from layers.web import principal, request_connection, requires

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/locate")
@requires(PUBLIC)
def locate_point() -> Response:
    """Province, city and district containing a WGS 84 ``lon``/``lat``; 404 outside the loaded area."""
    lon, lat = parse_lon_lat(request.args.get("lon"), request.args.get("lat"))
    with request_connection() as conn:
        return jsonify(locate(conn, lon, lat))


@bp.get("/entities/<entity_id>")
@requires(*STAFF_ROLES)
def entity(entity_id: str) -> Response:
    """An entity's dossier in the caller's jurisdiction, personal data masked per role."""
    eid = parse_id(entity_id, "entity_id")
    with request_connection() as conn:
        return jsonify(entity_dossier(conn, principal(), eid, ip=request.remote_addr))


@bp.get("/cases/<case_id>")
@requires(*STAFF_ROLES)
def case(case_id: str) -> Response:
    """One enforcement case in the caller's jurisdiction."""
    cid = parse_id(case_id, "case_id")
    with request_connection() as conn:
        record = case_record(conn, cid)
        record.update(case_extras(conn, cid, principal()))  # timeline, clock, evidence, documents
        return jsonify(record)

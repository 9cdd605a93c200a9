"""JSON API of the field (粤监管): tasks, check-ins, what is around me, evidence.

Thin adapters: parse, call ``enforcement``, return. Each route declares who may use it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from accounts import audit
from accounts.roles import ADMIN, INSPECTOR, LEGAL_REVIEWER, MANAGER, STAFF_ROLES
from enforcement import evidence, field
from enforcement.evidence import Intake
from enforcement.records import parse_id
from geo.admin import parse_lon_lat
from geo.errors import BadRequest, NotFound
from layers.web import json_object, principal, request_connection, requires

bp = Blueprint("field_api", __name__, url_prefix="/api")
SUPERVISORS = (MANAGER, ADMIN)


@bp.get("/tasks")
@requires(*STAFF_ROLES)
def tasks() -> Response:
    """An inspector's own tasks or every task in the caller's region, nearest first if located."""
    lon = lat = None
    if request.args.get("lon") or request.args.get("lat"):
        lon, lat = parse_lon_lat(request.args.get("lon"), request.args.get("lat"))
    with request_connection() as conn:
        rows = field.list_tasks(conn, principal(), lon=lon, lat=lat, status=request.args.get("status"))
    return jsonify(rows)


@bp.post("/tasks")
@requires(*SUPERVISORS)
def create_task() -> tuple[Response, int]:
    """An ad-hoc task for named inspectors: ``{entity_id, assignees, due, kind}`` → 201 ``{id}``."""
    with request_connection() as conn:
        task_id = field.create_task(conn, principal(), json_object())
    return jsonify({"id": task_id}), 201


@bp.post("/checkins")
@requires(INSPECTOR)
def checkin() -> tuple[Response, int]:
    """``{task_id, lon, lat, accuracy_m, at}`` → ``{on_site, distance_m, radius_m, reason_required}``."""
    with request_connection() as conn:
        result = field.check_in(conn, principal(), json_object())
    return jsonify(result), 201


@bp.post("/checkins/<checkin_id>/reason")
@requires(INSPECTOR)
def checkin_reason(checkin_id: str) -> tuple[Response, int]:
    """The reason for an off-site or imprecise check-in: ``{reason}``."""
    with request_connection() as conn:
        result = field.give_reason(conn, principal(), parse_id(checkin_id, "checkin_id"),
                                   json_object().get("reason"))
    return jsonify(result), 201


@bp.get("/nearby")
@requires(*STAFF_ROLES)
def nearby() -> Response:
    """Entities within ``radius`` metres (default 300) of ``lon``/``lat``, nearest first."""
    lon, lat = parse_lon_lat(request.args.get("lon"), request.args.get("lat"))
    try:
        radius = float(request.args.get("radius", "300"))
    except ValueError:
        raise BadRequest("radius 应为数字 / radius must be a number") from None
    with request_connection() as conn:
        return jsonify(field.nearby_entities(conn, lon, lat, radius))


def _intake() -> Intake:
    settings = current_app.config["ZHENGTU_SETTINGS"]
    return Intake(store=settings.evidence_dir, max_bytes=settings.evidence_max_bytes)


@bp.post("/evidence")
@requires(INSPECTOR, LEGAL_REVIEWER, ADMIN)
def upload_evidence() -> tuple[Response, int]:
    """Multipart evidence upload (contract in docs/ARCHITECTURE.md): 201 new, 200 replay."""
    upload = evidence.parse_upload(request.headers.get("Idempotency-Key"), request.form.to_dict())
    file = request.files.get("file")
    if file is None:
        raise BadRequest("缺少文件字段 file / missing file")
    with request_connection() as conn:
        body, created = evidence.record_evidence(conn, principal(), upload, file.stream, _intake())
    return jsonify(body), 201 if created else 200


@bp.get("/evidence/<evidence_id>")
@requires(*STAFF_ROLES)
def evidence_metadata(evidence_id: str) -> Response:
    """An evidence record's receipt and capture facts (RLS: only in the caller's region)."""
    with request_connection() as conn:
        record = evidence.find(conn, evidence_id=parse_id(evidence_id, "evidence_id"))
    if record is None:
        raise NotFound("证据不存在或不在您的辖区 / evidence not found")
    return jsonify(evidence.receipt(record))


@bp.get("/evidence/<evidence_id>/file")
@requires(INSPECTOR, LEGAL_REVIEWER, MANAGER, ADMIN)
def evidence_file(evidence_id: str) -> Response:
    """The stored bytes (audited: evidence may show people)."""
    eid = parse_id(evidence_id, "evidence_id")
    with request_connection() as conn:
        record = evidence.find(conn, evidence_id=eid)
        if record is None:
            raise NotFound("证据不存在或不在您的辖区 / evidence not found")
        audit.record(conn, principal(), "read_evidence", object_type="evidence", object_id=eid,
                     ip=request.remote_addr)
    path = _intake().store / record["path"]
    return send_file(path, mimetype=record["media_type"], download_name=path.name, etag=record["sha256"].strip())


@bp.get("/evidence/<evidence_id>/thumb")
@requires(INSPECTOR, LEGAL_REVIEWER, MANAGER, ADMIN)
def evidence_thumb(evidence_id: str) -> Response:
    """A photo's 320 px thumbnail (EXIF stripped), for dossiers and the phone's evidence list."""
    with request_connection() as conn:
        record = evidence.find(conn, evidence_id=parse_id(evidence_id, "evidence_id"))
    if record is None or not record["thumb_path"]:
        raise NotFound("缩略图不存在 / no thumbnail")
    return send_file(_intake().store / record["thumb_path"], mimetype="image/jpeg", max_age=86400)

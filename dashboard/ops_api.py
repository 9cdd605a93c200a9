"""JSON API of the operations centre (一网统管): event intake and loop, sensors, alerts.

Thin adapters over ``cityops``: parse, call, return. Who may do what:

- report events (``POST /api/events``): operators (the centre, also 12345 hotline bridges and
  other machine sources with an operator's API token), inspectors (grid workers and inspectors on
  patrol) and admins — each only inside their jurisdiction (403 otherwise);
- move an event along the loop: the step decides (``cityops.events.TRANSITIONS``): the desk
  (operator, admin) for 立案/派遣/核查/结案 and 返工, departments' staff (inspector) or the desk
  on their behalf for 处置/反馈;
- post sensor readings, acknowledge alerts: operators and admins;
- read: every staff role, limited to its region by row-level security.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, jsonify, request

from accounts.roles import ADMIN, INSPECTOR, OPERATOR, STAFF_ROLES
from cityops import categories, events, sensors
from enforcement.records import parse_id
from geo.errors import BadRequest, ZhengtuError
from geo.workdays import SHANGHAI
from layers.web import json_object, principal, request_connection, requires

bp = Blueprint("ops_api", __name__, url_prefix="/api")
REPORTERS = (INSPECTOR, OPERATOR, ADMIN)
DESK = (OPERATOR, ADMIN)


def _body() -> object:
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("请求体应为 JSON / body must be JSON")
    return body


def _field_error(exc: ZhengtuError) -> tuple[Response, int]:
    return jsonify({"error": exc.message, "status": exc.status,
                    "fields": getattr(exc, "fields", {})}), exc.status


@bp.post("/events")
@requires(*REPORTERS)
def post_events() -> tuple[Response, int]:
    """One report (object) → 201 new/linked, 200 replay; an array → 201 all stored or 207 mixed."""
    body = _body()
    who = principal()
    if isinstance(body, list):
        with request_connection() as conn:
            results = events.register_batch(conn, body, who.username, who.region, who.role)
        failed = sum(not r["ok"] for r in results)
        status = 207 if failed else 201
        return jsonify({"results": results, "stored": len(results) - failed, "failed": failed}), status
    try:
        with request_connection() as conn:
            result = events.register(conn, body, who.username, who.region, who.role)  # type: ignore[arg-type]
    except (events.IntakeError, events.OutsideJurisdiction) as exc:
        return _field_error(exc)
    return jsonify(result), 200 if result["replayed"] else 201


@bp.get("/events/categories")
@requires(*STAFF_ROLES)
def event_categories() -> Response:
    """The classification: code, kind, name, parent, time limit (working hours), department."""
    with request_connection() as conn:
        rows = categories.from_db(conn)
    return jsonify([c.as_dict() for c in rows.values()])


def _flag(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise BadRequest(f"{name} 应为 true 或 false / {name} must be true or false")


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} 应为整数 / {name} must be an integer") from None


@bp.get("/events")
@requires(*STAFF_ROLES)
def list_events() -> Response:
    """Events in the caller's region; filters status (comma list), since, bbox, category, district,
    overdue, limit, offset."""
    args = request.args
    status = [s for s in (args.get("status") or "").split(",") if s] or None
    with request_connection() as conn:
        rows = events.list_events(
            conn, status=status, since=events.parse_cursor(args.get("since")),
            bbox=events.parse_bbox(args.get("bbox")), category=args.get("category") or None,
            district=args.get("district") or None, overdue=_flag(args.get("overdue"), "overdue"),
            limit=_int(args.get("limit"), "limit", 500), offset=_int(args.get("offset"), "offset", 0))
    return jsonify(rows)


@bp.get("/events/changes")
@requires(*STAFF_ROLES)
def event_changes() -> Response:
    """``{events, sensors, alerts, cursor}`` changed since ``cursor`` (rows are upserts by id)."""
    cursor = request.args.get("cursor")
    with request_connection() as conn:
        rows, event_cursor = events.changes_since(conn, cursor)
        other, sensor_cursor = sensors.changes_since(conn, cursor)
    return jsonify({"events": rows, **other, "cursor": max(event_cursor, sensor_cursor)})


@bp.get("/events/<event_id>")
@requires(*STAFF_ROLES)
def get_event(event_id: str) -> Response:
    """One event with every report and every step of its loop."""
    with request_connection() as conn:
        event = events.get_event(conn, parse_id(event_id, "event_id"))
        event["next"] = events.allowed_next(event["status"], principal().role)
    return jsonify(event)


@bp.post("/events/<event_id>/transitions")
@requires(*REPORTERS)
def post_transition(event_id: str) -> tuple[Response, int]:
    """``{to, note, department?}`` → 201 the event after the step; 409 a skipped stage."""
    body = json_object()
    if not body.get("to"):
        raise BadRequest("缺少目标环节 to / to is required")
    who = principal()
    with request_connection() as conn:
        event = events.transition(conn, parse_id(event_id, "event_id"), body["to"], body.get("note"),
                                  who.username, who.role, department=body.get("department"))
    return jsonify(event), 201


@bp.get("/sensors")
@requires(*STAFF_ROLES)
def list_sensors() -> Response:
    """Sensors with state and latest reading; filters kind, state."""
    with request_connection() as conn:
        return jsonify(sensors.list_sensors(conn, request.args.get("kind") or None,
                                            request.args.get("state") or None))


@bp.post("/sensors")
@requires(*DESK)
def register_sensor() -> tuple[Response, int]:
    """``{code, kind, name, lon, lat[, crs, threshold_high, threshold_low]}`` → 201 with the sensor;
    400/403 with a message per field, 409 for a code already registered."""
    body = _body()
    try:
        with request_connection() as conn:
            return jsonify(sensors.register_sensor(conn, body, principal().region)), 201
    except (events.IntakeError, events.OutsideJurisdiction, sensors.SensorCodeTaken) as exc:
        return _field_error(exc)


@bp.get("/sensors/<sensor_id>/readings")
@requires(*STAFF_ROLES)
def sensor_readings(sensor_id: str) -> Response:
    """A sensor's readings since ``since`` (default: the last 24 hours)."""
    since = events.parse_cursor(request.args.get("since")) or datetime.now(SHANGHAI) - timedelta(hours=24)
    with request_connection() as conn:
        return jsonify(sensors.readings(conn, parse_id(sensor_id, "sensor_id"), since))


@bp.post("/sensors/<sensor_id>/readings")
@requires(*DESK)
def post_readings(sensor_id: str) -> tuple[Response, int]:
    """``[{at, value}, …]`` (or ``{readings: […]}``) → 201 with alerts raised and events opened;
    207 when some readings were rejected (each with its message)."""
    body = _body()
    readings = body.get("readings") if isinstance(body, dict) else body
    who = principal()
    with request_connection() as conn:
        result = sensors.record_readings(conn, parse_id(sensor_id, "sensor_id"), readings,
                                         who.username, who.region, who.role)
    return jsonify(result), 207 if result["rejected"] else 201


@bp.get("/alerts")
@requires(*STAFF_ROLES)
def list_alerts() -> Response:
    """Alerts, newest first; ``open=true`` for unacknowledged only."""
    with request_connection() as conn:
        return jsonify(sensors.list_alerts(conn, open_only=bool(_flag(request.args.get("open"), "open")),
                                           limit=_int(request.args.get("limit"), "limit", 200)))


@bp.post("/alerts/<alert_id>/ack")
@requires(*DESK)
def ack_alert(alert_id: str) -> Response:
    """Acknowledge an alert (409 if it already was)."""
    with request_connection() as conn:
        return jsonify(sensors.acknowledge(conn, parse_id(alert_id, "alert_id"), principal().username))

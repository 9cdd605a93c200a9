"""JSON for the operations wall (/ops): a snapshot at start, then deltas behind a cursor.

``GET /api/ops/snapshot`` → ``{cursor, events, sensors, alerts, kpi, hourly, server_time}``;
``GET /api/ops/changes?cursor=…`` → only the rows changed since the cursor, the KPI numbers and
the last two hourly buckets (a few hundred bytes when the city is calm), or ``{"resync": true}``
when the cursor is too old. Reads run as ``zhengtu_app`` under the caller's jurisdiction.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from accounts.roles import ADMIN, MANAGER, OPERATOR
from cityops import wall
from layers.web import request_connection, requires

bp = Blueprint("ops_wall", __name__, url_prefix="/api/ops")
WALL_ROLES = (OPERATOR, MANAGER, ADMIN)


def _fresh(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/snapshot")
@requires(*WALL_ROLES)
def snapshot() -> Response:
    """What the wall draws at start (bounded: the newest open/recent events, sensors, alerts)."""
    with request_connection() as conn:
        return _fresh(jsonify(wall.snapshot(conn)))


@bp.get("/changes")
@requires(*WALL_ROLES)
def changes() -> Response:
    """Rows changed since ``cursor`` plus KPIs; 400 for a malformed cursor."""
    with request_connection() as conn:
        return _fresh(jsonify(wall.changes(conn, request.args.get("cursor", ""))))

"""JSON for the operations wall (/ops): a snapshot at start, then deltas behind a cursor.

``GET /api/ops/snapshot`` → ``{cursor, events, sensors, alerts, kpi, hourly, server_time}``;
``GET /api/ops/changes?cursor=…`` → only the rows changed since the cursor, the KPI numbers and
the last two hourly buckets (a few hundred bytes when the city is calm), or ``{"resync": true}``
when the cursor is too old. Reads run as ``zhengtu_app`` under the caller's jurisdiction.
"""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg2.extensions
from flask import Blueprint, Response, jsonify, request

from accounts.roles import ADMIN, MANAGER, OPERATOR
from cityops import wall
from kpi import compute as kpis
from kpi import regions
from layers.web import principal, request_connection, requires

bp = Blueprint("ops_wall", __name__, url_prefix="/api/ops")
WALL_ROLES = (OPERATOR, MANAGER, ADMIN)


ON_TIME_KPI = "event_on_time"
RATE_TTL_S = 60.0
_rates: dict[tuple[str, str], tuple[float, dict]] = {}


def _with_kpi_rate(conn: psycopg2.extensions.connection, body: dict) -> dict:
    """Put the KPI's 按期结案率 on the wall: one definition (``kpi/sql/event_on_time.sql``) for the
    wall, ``/kpi``, the API and the exports. Last 30 days of the caller's region, recomputed at most
    once a minute per region (the wall polls every second)."""
    figures = body.get("kpi")
    if not figures:
        return body
    region_code = principal().region
    day = kpis.today()
    key = (region_code, day.isoformat())
    cached = _rates.get(key)
    if cached is None or time.monotonic() - cached[0] > RATE_TTL_S:
        kpi = kpis.get_kpi(conn, ON_TIME_KPI)
        period = kpis.Period(day - timedelta(days=wall.ON_TIME_DAYS - 1), day)
        result = kpis.compute(conn, kpi, regions.resolve(conn, None, region_code), period)
        cached = (time.monotonic(), {"on_time_rate": None if result["value"] is None else result["value"] / 100,
                                     "on_time_numerator": result["numerator"],
                                     "on_time_denominator": result["denominator"],
                                     "on_time_kpi": ON_TIME_KPI, "on_time_from": result["from"],
                                     "on_time_to": result["to"]})
        if len(_rates) > 1000:  # regions × days: never grows without bound
            _rates.clear()
        _rates[key] = cached
    figures.update(cached[1])
    return body


def _fresh(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/snapshot")
@requires(*WALL_ROLES)
def snapshot() -> Response:
    """What the wall draws at start (bounded: the newest open/recent events, sensors, alerts)."""
    with request_connection() as conn:
        return _fresh(jsonify(_with_kpi_rate(conn, wall.snapshot(conn))))


@bp.get("/changes")
@requires(*WALL_ROLES)
def changes() -> Response:
    """Rows changed since ``cursor`` plus KPIs; 400 for a malformed cursor."""
    with request_connection() as conn:
        return _fresh(jsonify(_with_kpi_rate(conn, wall.changes(conn, request.args.get("cursor", "")))))

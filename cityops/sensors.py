"""Sensors (感知设备): registry, readings as a time series, threshold alerts that open events.

A reading past a sensor's threshold while the sensor is ``normal`` raises an alert and reports a
``sensor`` event through the same intake as people's reports (``events.store_report``), so a
water-level alarm and the hotline tickets about the same flooded underpass become one event. The
sensor stays ``alarm`` (no new alert per reading) until a reading is back inside its thresholds.
Operators acknowledge alerts; acknowledging does not close the event, the loop does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg2.extensions
from psycopg2.extras import RealDictCursor

from cityops import events
from geo import workdays
from geo.errors import BadRequest, Conflict, NotFound

MAX_READINGS = 1000
OFFLINE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Kind:
    """A sensor type: unit, default thresholds, the event category an alarm opens, a normal range."""

    name_zh: str
    name_en: str
    unit: str
    threshold_high: float
    threshold_low: float | None
    category: str
    normal: tuple[float, float]


KINDS: dict[str, Kind] = {
    "water_level": Kind("积水监测", "Water level", "m", 0.15, None, "0401", (0.0, 0.05)),
    "noise": Kind("噪声监测", "Noise", "dB(A)", 70.0, None, "0406", (48.0, 62.0)),
    "air_pm25": Kind("PM2.5 监测", "PM2.5", "µg/m³", 115.0, None, "0407", (18.0, 60.0)),
    "manhole": Kind("智能井盖", "Manhole cover", "°", 15.0, None, "0601", (0.0, 2.0)),
    "smoke": Kind("烟感", "Smoke", "%obs/m", 10.0, None, "0403", (0.0, 1.5)),
    "gas": Kind("燃气监测", "Gas", "%LEL", 20.0, None, "0402", (0.0, 3.0)),
}

SENSOR_COLUMNS = """
s.id, s.code, s.kind, s.name, trim(s.district_adcode) AS district_adcode, s.grid_code, s.unit,
s.threshold_high, s.threshold_low, s.state, s.last_value, s.last_reading_at, s.updated_at,
ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
"""
ALERT_COLUMNS = """
a.id, a.sensor_id, s.code AS sensor_code, s.kind, s.name AS sensor_name, a.event_id, a.raised_at,
a.value, a.threshold, a.direction, a.acknowledged_at, a.acknowledged_by,
trim(a.district_adcode) AS district_adcode, a.updated_at, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
"""
SELECT_SENSOR = f"SELECT {SENSOR_COLUMNS} FROM sensors s WHERE s.id = %s"
LOCK_SENSOR = "SELECT id FROM sensors WHERE id = %s FOR UPDATE"
INSERT_READING = """
INSERT INTO sensor_readings (sensor_id, at, value) VALUES (%s, %s, %s)
ON CONFLICT (sensor_id, at) DO NOTHING
"""
INSERT_ALERT = """
INSERT INTO alerts (sensor_id, raised_at, value, threshold, direction, district_adcode)
VALUES (%s, %s, %s, %s, %s, %s) RETURNING id
"""
LINK_ALERT = "UPDATE alerts SET event_id = %s WHERE id = %s"
UPDATE_STATE = """
UPDATE sensors SET state = %(state)s, last_value = %(value)s, last_reading_at = %(at)s
WHERE id = %(id)s
"""
ACK = """
UPDATE alerts SET acknowledged_at = %s, acknowledged_by = %s
WHERE id = %s AND acknowledged_at IS NULL
"""
MARK_OFFLINE = """
UPDATE sensors SET state = 'offline'
WHERE state <> 'offline' AND (last_reading_at IS NULL OR last_reading_at < %s)
"""


SENSOR_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
INSERT_SENSOR = """
INSERT INTO sensors (code, kind, name, geom, district_adcode, grid_code, unit, threshold_high, threshold_low,
                     state)
VALUES (%(code)s, %(kind)s, %(name)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(district)s,
        zt_grid_code(%(district)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)), %(unit)s, %(high)s,
        %(low)s, 'offline')
ON CONFLICT (code) DO NOTHING
RETURNING id
"""


class SensorCodeTaken(Conflict):
    """A sensor with this code is already registered."""


def _threshold(raw: Any, name: str, default: float | None, errors: dict[str, str]) -> float | None:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        errors[name] = f"{name} 应为有限数值 / {name} must be a finite number"
        return None
    return float(raw)


def parse_sensor(payload: Any) -> dict:
    """Validate a sensor registration; ``IntakeError`` names every bad field."""
    if not isinstance(payload, dict):
        raise events.IntakeError({"body": "应为 JSON 对象 / body must be a JSON object"})
    errors: dict[str, str] = {}
    code, kind, name = payload.get("code"), payload.get("kind"), payload.get("name")
    if not isinstance(code, str) or not SENSOR_CODE.match(code):
        errors["code"] = "设备编号应为 2–40 位字母、数字、-、_ / code: 2–40 letters, digits, - or _"
    if kind not in KINDS:
        errors["kind"] = f"设备类型应为 {', '.join(KINDS)} 之一 / unknown kind"
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors["name"] = "名称必填，100 字以内 / name is required (≤ 100 characters)"
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    high = _threshold(payload.get("threshold_high"), "threshold_high", spec.threshold_high if spec else None,
                      errors)
    low = _threshold(payload.get("threshold_low"), "threshold_low", spec.threshold_low if spec else None, errors)
    if high is not None and low is not None and low >= high:
        errors["threshold_low"] = "下限应小于上限 / threshold_low must be below threshold_high"
    point = events.parse_point(payload, errors)  # the same coordinate rules as event intake
    if errors or point is None or spec is None:
        raise events.IntakeError(errors)
    return {"code": code, "kind": kind, "name": name.strip(), "lon": point[0], "lat": point[1],
            "unit": spec.unit, "high": high, "low": low}


def get_sensor(conn: psycopg2.extensions.connection, sensor_id: int) -> dict:
    """One sensor with its state and latest reading (404 outside the caller's jurisdiction)."""
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(SELECT_SENSOR, (sensor_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound("感知设备不存在或不在您的辖区 / sensor not found")
    return _iso(row)


def register_sensor(conn: psycopg2.extensions.connection, payload: Any, region: str) -> dict:
    """Register a sensor in the caller's jurisdiction; it stays 'offline' until its first reading."""
    sensor = parse_sensor(payload)
    district = events.locate_district(conn, sensor["lon"], sensor["lat"])
    if district is None:
        raise events.IntakeError({"lon": "坐标不在已加载的行政区内 / the point is outside the loaded area"})
    if not (region and district.startswith(region)):
        raise events.OutsideJurisdiction({"lon": f"该点位于 {district}，不在您的辖区 {region} / "
                                                 "outside your jurisdiction"})
    with conn.cursor() as cur:
        cur.execute(INSERT_SENSOR, {**sensor, "district": district})
        row = cur.fetchone()
    if row is None:
        raise SensorCodeTaken(f"设备编号 {sensor['code']} 已登记 / sensor code already registered")
    return get_sensor(conn, row[0])


class AlreadyAcknowledged(Conflict):
    """The alert was acknowledged before (by someone, at some time)."""


def _iso(row: dict) -> dict:
    out = dict(row)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
            out[key] = float(value)  # Decimal
    return out


def parse_readings(readings: Any, now: datetime) -> tuple[list[tuple[datetime, float]], list[dict]]:
    """Good readings (time, value) and a message per bad one (by index)."""
    if not isinstance(readings, list) or not readings:
        raise BadRequest("readings 应为非空数组 [{at, value}] / readings must be a non-empty array")
    if len(readings) > MAX_READINGS:
        raise BadRequest(f"一次最多 {MAX_READINGS} 条读数 / at most {MAX_READINGS} readings")
    good: list[tuple[datetime, float]] = []
    bad: list[dict] = []
    for index, item in enumerate(readings):
        fields: dict[str, str] = {}
        if not isinstance(item, dict):
            bad.append({"index": index, "fields": {"body": "每条读数应为对象 {at, value} / "
                                                           "each reading must be an object"}})
            continue
        at = events.parse_time(item.get("at"), "at", fields, now)
        raw = item.get("value")
        value = None
        if raw is None or isinstance(raw, bool):
            fields["value"] = "缺少数值 value / value is required"
        else:
            try:
                value = float(raw)
                if not math.isfinite(value):
                    raise ValueError
            except (TypeError, ValueError):
                fields["value"] = "value 应为有限数字 / value must be a finite number"
        if fields:
            bad.append({"index": index, "fields": fields})
        else:
            good.append((at, value))  # type: ignore[arg-type]
    return good, bad


def _breach(value: float, high: float | None, low: float | None) -> tuple[str, float] | None:
    if high is not None and value > high:
        return "high", high
    if low is not None and value < low:
        return "low", low
    return None


def record_readings(conn: psycopg2.extensions.connection, sensor_id: int, readings: Any,
                    user: str = "sensor", region: str = "", role: str | None = None,
                    now: datetime | None = None) -> dict:
    """Store a batch of readings; raise alerts (and their events) on threshold crossings.

    Readings older than the sensor's last reading are stored as history but do not move its
    state. Returns ``{sensor_id, stored, duplicates, rejected, state, alerts, events}``. Does not
    commit. ``region`` is the caller's jurisdiction (for the event intake); the sensor itself must
    be visible (row-level security) or 404.
    """
    now = now or datetime.now(workdays.SHANGHAI)
    good, bad = parse_readings(readings, now)
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(LOCK_SENSOR, (sensor_id,))
        if cur.fetchone() is None:
            raise NotFound("感知设备不存在或不在您的辖区 / sensor not found")
        cur.execute(SELECT_SENSOR, (sensor_id,))
        sensor = cur.fetchone()
        stored = 0
        for at, value in good:
            cur.execute(INSERT_READING, (sensor_id, at, value))
            stored += cur.rowcount
        state, last_at, last_value = sensor["state"], sensor["last_reading_at"], sensor["last_value"]
        high = float(sensor["threshold_high"]) if sensor["threshold_high"] is not None else None
        low = float(sensor["threshold_low"]) if sensor["threshold_low"] is not None else None
        raised: list[int] = []
        opened: list[int] = []
        for at, value in sorted(good):
            if last_at is not None and at <= last_at:
                continue
            crossing = _breach(value, high, low)
            if crossing and state != "alarm":
                direction, threshold = crossing
                cur.execute(INSERT_ALERT, (sensor_id, at, value, threshold, direction,
                                           sensor["district_adcode"]))
                alert_id = cur.fetchone()["id"]
                event = _open_event(conn, sensor, alert_id, at, value, threshold, user,
                                    region or sensor["district_adcode"], role)
                cur.execute(LINK_ALERT, (event["id"], alert_id))
                raised.append(alert_id)
                opened.append(event["id"])
            state = "alarm" if crossing else "normal"
            last_at, last_value = at, value
        if last_at is not None and (last_at != sensor["last_reading_at"] or state != sensor["state"]):
            cur.execute(UPDATE_STATE, {"state": state, "value": last_value, "at": last_at,
                                       "id": sensor_id})
    return {"sensor_id": sensor_id, "stored": stored, "duplicates": len(good) - stored,
            "rejected": bad, "state": state, "alerts": raised, "events": opened}


def _open_event(conn: psycopg2.extensions.connection, sensor: dict, alert_id: int, at: datetime,
                value: float, threshold: float, user: str, region: str, role: str | None) -> dict:
    kind = KINDS.get(sensor["kind"])
    category = kind.category if kind else "0401"
    word = "超过" if value > threshold else "低于"
    report = events.Report(
        category=category, lon=float(sensor["lon"]), lat=float(sensor["lat"]),
        description=(f"{sensor['name']}（{sensor['code']}）读数 {value:g} {sensor['unit']} "
                     f"{word}阈值 {threshold:g} {sensor['unit']}"),
        source="sensor", reported_at=at, external_id=f"alert:{alert_id}",
        reporter=sensor["code"], alert_id=alert_id)
    return events.store_report(conn, report, user, region, role)


def acknowledge(conn: psycopg2.extensions.connection, alert_id: int, user: str,
                at: datetime | None = None) -> dict:
    """Mark an alert acknowledged by ``user`` (404 not visible, 409 already acknowledged)."""
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(ACK, (at or datetime.now(workdays.SHANGHAI), user, alert_id))
        changed = cur.rowcount
    alert = get_alert(conn, alert_id)
    if not changed:
        raise AlreadyAcknowledged(f"该告警已由 {alert['acknowledged_by']} 于 "
                                  f"{alert['acknowledged_at'][:19]} 确认 / already acknowledged")
    return alert


def get_alert(conn: psycopg2.extensions.connection, alert_id: int) -> dict:
    """One alert with its sensor (404 when not visible)."""
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT {ALERT_COLUMNS} FROM alerts a JOIN sensors s ON s.id = a.sensor_id "
                    "WHERE a.id = %s", (alert_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound("告警不存在或不在您的辖区 / alert not found")
    return _iso(row)


def list_sensors(conn: psycopg2.extensions.connection, kind: str | None = None,
                 state: str | None = None, limit: int = 5000) -> list[dict]:
    """Sensors in the caller's jurisdiction with their latest reading."""
    if kind is not None and kind not in KINDS:
        raise BadRequest(f"未知设备类型 {kind[:20]!r}；应为 {', '.join(KINDS)} / unknown kind")
    if state is not None and state not in ("normal", "alarm", "offline"):
        raise BadRequest("state 应为 normal、alarm 或 offline / bad state")
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT {SENSOR_COLUMNS} FROM sensors s "
                    "WHERE (%(kind)s::text IS NULL OR s.kind = %(kind)s) "
                    "AND (%(state)s::text IS NULL OR s.state = %(state)s) ORDER BY s.code LIMIT %(limit)s",
                    {"kind": kind, "state": state, "limit": limit})
        return [_iso(r) for r in cur.fetchall()]


def list_alerts(conn: psycopg2.extensions.connection, open_only: bool = False,
                since: datetime | None = None, limit: int = 200) -> list[dict]:
    """Alerts in the caller's jurisdiction, newest first."""
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT {ALERT_COLUMNS} FROM alerts a JOIN sensors s ON s.id = a.sensor_id "
                    "WHERE (NOT %(open)s OR a.acknowledged_at IS NULL) "
                    "AND (%(since)s::timestamptz IS NULL OR a.updated_at > %(since)s) "
                    "ORDER BY a.raised_at DESC, a.id DESC LIMIT %(limit)s",
                    {"open": open_only, "since": since, "limit": max(1, min(int(limit), 5000))})
        return [_iso(r) for r in cur.fetchall()]


def readings(conn: psycopg2.extensions.connection, sensor_id: int, since: datetime,
             until: datetime | None = None) -> list[dict]:
    """A sensor's readings in a time range (RLS through the sensor), oldest first."""
    with conn.cursor() as cur:
        cur.execute("SELECT at, value FROM sensor_readings WHERE sensor_id = %s AND at >= %s "
                    "AND (%s::timestamptz IS NULL OR at <= %s) ORDER BY at",
                    (sensor_id, since, until, until))
        return [{"at": a.isoformat(), "value": float(v)} for a, v in cur.fetchall()]


def changes_since(conn: psycopg2.extensions.connection, cursor: str | datetime | None,
                  limit: int = 1000) -> tuple[dict[str, list[dict]], str]:
    """Sensors and alerts changed after ``cursor`` (same contract as ``events.changes_since``)."""
    since = events.parse_cursor(cursor)
    now = datetime.now(workdays.SHANGHAI)
    start = (since - events.CHANGES_OVERLAP) if since else now - events.DEFAULT_CHANGES_WINDOW
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT {SENSOR_COLUMNS} FROM sensors s WHERE s.updated_at > %s "
                    "ORDER BY s.updated_at LIMIT %s", (start, limit))
        sensors = cur.fetchall()
        cur.execute(f"SELECT {ALERT_COLUMNS} FROM alerts a JOIN sensors s ON s.id = a.sensor_id "
                    "WHERE a.updated_at > %s ORDER BY a.updated_at LIMIT %s", (start, limit))
        alerts = cur.fetchall()
    newest = max((r["updated_at"] for r in [*sensors, *alerts]), default=since or start)
    if since and newest < since:
        newest = since
    return {"sensors": [_iso(r) for r in sensors], "alerts": [_iso(r) for r in alerts]}, \
        newest.isoformat()


def mark_offline(conn: psycopg2.extensions.connection, after: timedelta = OFFLINE_AFTER,
                 now: datetime | None = None) -> int:
    """Sensors silent for longer than ``after`` become ``offline`` (a reading brings them back)."""
    with conn.cursor() as cur:
        cur.execute(MARK_OFFLINE, ((now or datetime.now(workdays.SHANGHAI)) - after,))
        return cur.rowcount

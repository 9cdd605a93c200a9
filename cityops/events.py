"""City events (城市事件): intake, linking of repeated reports, and the closed loop.

An *event* is the incident the operations centre drives to closure; every *report* of it (a 12345
hotline ticket, a grid worker, a sensor alarm, a citizen, an inspection) is kept in
``event_reports``. Intake validates each field and says what is wrong with each, locates the point
in a district (WGS 84; GCJ-02/BD-09 converted on the way in) and refuses points outside the
caller's jurisdiction.

Linking rules (constants below): a report joins an open event of the same category when one of the
event's reports lies within ``SAME_SOURCE_RADIUS_M`` and ``SAME_SOURCE_WINDOW`` and came through the
same channel (a duplicate), or within ``CROSS_SOURCE_RADIUS_M`` / ``CROSS_SOURCE_WINDOW`` from
another channel (a hotline ticket, a grid worker's photo and a water-level alarm about one flooded
underpass: people place an incident less precisely than a sensor). The event keeps one deadline and
counts its reports. Intake takes a transaction-level advisory lock per category, so two reports of
one incident arriving at once cannot both open an event.

The loop: 信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案. ``TRANSITIONS`` lists each allowed step and
the roles that may take it; anything else is a skipped stage (409). The deadline is set at 立案:
the category's time limit in office hours (``geo.workdays``) counted from that moment. 核查 may send
the event back to 处置 (返工): ``rework_count`` + 1, the deadline is kept (rework is the department's
own delay, not a new clock).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2.extras import RealDictCursor

from accounts.roles import ADMIN, INSPECTOR, OPERATOR
from cityops import categories
from geo import crs as geo_crs
from geo import workdays
from geo.errors import BadRequest, Conflict, Forbidden, NotFound, ZhengtuError

STATUSES = ("信息收集", "立案", "派遣", "处置", "反馈", "核查", "结案")
OPEN_STATUSES = STATUSES[:-1]
SOURCES = ("hotline", "grid", "sensor", "citizen", "inspection")
SOURCE_LABELS = {"hotline": "12345热线", "grid": "网格员", "sensor": "感知设备", "citizen": "市民",
                 "inspection": "巡查"}
SAME_SOURCE_RADIUS_M = 50.0
SAME_SOURCE_WINDOW = timedelta(minutes=30)
CROSS_SOURCE_RADIUS_M = 150.0
CROSS_SOURCE_WINDOW = timedelta(minutes=60)
MAX_DESCRIPTION = 2000
MAX_EXTERNAL_ID = 100
MAX_BATCH = 500
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AGE = timedelta(days=365)
CHANGES_OVERLAP = timedelta(seconds=3)
DEFAULT_CHANGES_WINDOW = timedelta(hours=24)

# Who may take each step. Departments' staff in the field are inspectors (执法人员, scoped to their
# district); the operations centre (operator) may record a department's step on its behalf.
DESK = (OPERATOR, ADMIN)
HANDLERS = (INSPECTOR, OPERATOR, ADMIN)
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("信息收集", "立案"): DESK,
    ("立案", "派遣"): DESK,
    ("派遣", "处置"): HANDLERS,
    ("处置", "反馈"): HANDLERS,
    ("反馈", "核查"): DESK,
    ("核查", "结案"): DESK,
    ("核查", "处置"): DESK,  # 返工: verification failed
}
REWORK = ("核查", "处置")


class IntakeError(BadRequest):
    """Bad fields of one report: ``fields`` maps each field to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        first = "; ".join(f"{k}: {v}" for k, v in fields.items())
        super().__init__(f"上报内容有误 / invalid report — {first}")
        self.fields = fields


class OutsideJurisdiction(Forbidden):
    """A point outside the caller's region (403), with the field it concerns."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("坐标不在您的辖区内 / the point is outside your jurisdiction")
        self.fields = fields


class TransitionConflict(Conflict):
    """A step the loop does not allow from the current stage (skipped or repeated stage)."""


class ExternalIdConflict(Conflict):
    """An external id already used by a report the caller cannot see (another jurisdiction)."""


@dataclass(frozen=True)
class Report:
    """One validated report, WGS 84."""

    category: str
    lon: float
    lat: float
    description: str
    source: str
    reported_at: datetime
    external_id: str | None = None
    reporter: str | None = None
    alert_id: int | None = None


LOCATE = """
SELECT part.adcode FROM admin_area_parts part
WHERE part.level = 'district' AND ST_Intersects(part.geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
LIMIT 1
"""
FIND_EXTERNAL = "SELECT event_id FROM event_reports WHERE external_id = %s"
LOCK_CATEGORY = "SELECT pg_advisory_xact_lock(7355610, hashtext(%s))"
# Candidate open events of the same category with a report close in space and time; the box in
# front of ST_DWithin lets the GiST index work (≈ 0.0016° ≥ 150 m at Guangdong's latitudes).
FIND_LINKED = """
SELECT e.id
FROM event_reports r JOIN city_events e ON e.id = r.event_id
WHERE e.status <> '结案' AND e.category = %(category)s
  AND r.geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 0.0025)
  AND ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                 CASE WHEN r.source = %(source)s THEN %(same_m)s ELSE %(cross_m)s END)
  AND abs(extract(epoch FROM r.reported_at - %(at)s)) <=
      CASE WHEN r.source = %(source)s THEN %(same_s)s ELSE %(cross_s)s END
ORDER BY ST_Distance(r.geom::geography,
                     ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography), e.id
LIMIT 1
"""
INSERT_EVENT = """
INSERT INTO city_events (category, description, source, status, district_adcode, reported_at, geom,
                         grid_code, external_id, status_at, department)
VALUES (%(category)s, %(description)s, %(source)s, '信息收集', %(district)s, %(at)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
        zt_grid_code(%(district)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)),
        %(external_id)s, %(at)s, NULL)
RETURNING id
"""
INSERT_REPORT = """
INSERT INTO event_reports (event_id, source, category, external_id, description, reported_at, geom,
                           district_adcode, reporter, alert_id)
VALUES (%(event)s, %(source)s, %(category)s, %(external_id)s, %(description)s, %(at)s,
        ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(district)s, %(reporter)s, %(alert_id)s)
"""
LINK_REPORT = """
UPDATE city_events SET report_count = report_count + 1,
       reported_at = least(reported_at, %(at)s)
WHERE id = %(event)s
"""
INSERT_TRANSITION = """
INSERT INTO event_transitions (event_id, from_status, to_status, username, role, note, department,
                               at, district_adcode)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
EVENT_COLUMNS = """
e.id, e.category, c.name_zh AS category_name, c.name_en AS category_name_en, c.kind AS category_kind,
e.description, e.source, e.status, trim(e.district_adcode) AS district_adcode, e.grid_code,
e.reported_at, e.deadline, e.department, e.status_at, e.closed_at, e.updated_at, e.rework_count,
e.report_count, e.external_id, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
(e.status <> '结案' AND e.deadline IS NOT NULL AND e.deadline < %(now)s) AS overdue,
(e.closed_at IS NOT NULL AND e.deadline IS NOT NULL AND e.closed_at > e.deadline) AS closed_late
"""
SELECT_EVENT = f"""
SELECT {EVENT_COLUMNS}
FROM city_events e LEFT JOIN event_categories c ON c.code = e.category
WHERE e.id = %(id)s
"""
SELECT_FOR_UPDATE = """
SELECT id, status, category, deadline, department, district_adcode, rework_count
FROM city_events WHERE id = %s FOR UPDATE
"""
SELECT_REPORTS = """
SELECT id, source, category, external_id, description, reported_at, received_at, reporter, alert_id,
       ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM event_reports WHERE event_id = %s ORDER BY reported_at, id
"""
SELECT_TRANSITIONS = """
SELECT id, from_status, to_status, username, role, note, department, at
FROM event_transitions WHERE event_id = %s ORDER BY at, id
"""
CATEGORY_LIMIT = "SELECT time_limit_hours, department FROM event_categories WHERE code = %s"


# --- validation -----------------------------------------------------------------------------

def _number(raw: Any, name: str, limit: float, errors: dict[str, str]) -> float | None:
    if raw is None or raw == "":
        errors[name] = f"缺少 {name} / {name} is required"
        return None
    if isinstance(raw, bool):
        errors[name] = f"{name} 应为数字 / {name} must be a number"
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors[name] = f"{name} 不是数字：{str(raw)[:40]!r} / {name} is not a number"
        return None
    if not math.isfinite(value) or abs(value) > limit:
        errors[name] = f"{name} 超出范围 ±{limit:g} / {name} out of range"
        return None
    return value


def parse_time(raw: Any, name: str, errors: dict[str, str], now: datetime) -> datetime | None:
    """An ISO 8601 time; a time without offset is read as Asia/Shanghai."""
    if raw is None or raw == "":
        return now
    if not isinstance(raw, str):
        errors[name] = f"{name} 应为 ISO 8601 时间字符串 / {name} must be an ISO 8601 string"
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        errors[name] = f"{name} 不是 ISO 8601 时间：{raw[:40]!r} / {name} is not ISO 8601"
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=workdays.SHANGHAI)
    if value > now + FUTURE_TOLERANCE:
        errors[name] = f"{name} 晚于当前时间 / {name} is in the future"
        return None
    if value < now - MAX_AGE:
        errors[name] = f"{name} 早于一年前 / {name} is more than a year ago"
        return None
    return value


def parse_point(payload: dict, errors: dict[str, str]) -> tuple[float, float] | None:
    """``lon``/``lat`` (and ``crs``: wgs84, gcj02 or bd09) as a WGS 84 point; problems go to ``errors``.

    Shared by every intake that takes a location (events, sensors), so they accept and refuse alike."""
    lon = _number(payload.get("lon"), "lon", 180, errors)
    lat = _number(payload.get("lat"), "lat", 90, errors)
    system = payload.get("crs") or "wgs84"
    try:
        system = geo_crs._normalise_crs(system) if isinstance(system, str) else None
    except ValueError:
        system = None
    if system is None:
        errors["crs"] = "crs 应为 wgs84、gcj02 或 bd09 / crs must be wgs84, gcj02 or bd09"
    if lon is None or lat is None or system is None:
        return None
    if system != "wgs84":
        lon, lat = (float(v) for v in geo_crs.to_wgs84(lon, lat, system))
    return lon, lat


def parse_report(payload: Any, known: dict[str, categories.Category] | None = None,
                 now: datetime | None = None) -> Report:
    """Validate one report; ``IntakeError`` names every bad field, not just the first."""
    if not isinstance(payload, dict):
        raise IntakeError({"body": "每条上报应为 JSON 对象 / each report must be a JSON object"})
    now = now or datetime.now(workdays.SHANGHAI)
    known = known if known is not None else categories.shipped()
    errors: dict[str, str] = {}
    code = payload.get("category")
    if code is None or code == "":
        errors["category"] = "缺少事件类别 category / category is required"
    elif not isinstance(code, str) or code not in known:
        errors["category"] = f"未知事件类别 {str(code)[:20]!r} / unknown category code"
    elif known[code].time_limit_hours is None:
        errors["category"] = (f"{code} {known[code].name_zh} 是大类，请选择小类 / "
                              "a top class: choose a subclass")
    point = parse_point(payload, errors)
    description = payload.get("description")
    if not isinstance(description, str) or not description.strip():
        errors["description"] = "缺少事件描述 description / description is required"
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"描述超过 {MAX_DESCRIPTION} 字 / description too long"
    source = payload.get("source")
    if source is None or source == "":
        errors["source"] = "缺少来源 source / source is required"
    elif source not in SOURCES:
        errors["source"] = f"来源应为 {'、'.join(SOURCES)} 之一 / source must be one of {', '.join(SOURCES)}"
    at = parse_time(payload.get("reported_at"), "reported_at", errors, now)
    external = payload.get("external_id")
    if external is not None and (not isinstance(external, str) or not external.strip()
                                 or len(external) > MAX_EXTERNAL_ID):
        errors["external_id"] = (f"external_id 应为 1–{MAX_EXTERNAL_ID} 个字符的字符串 / "
                                 "external_id must be a short string")
    reporter = payload.get("reporter")
    if reporter is not None and (not isinstance(reporter, str) or len(reporter) > 100):
        errors["reporter"] = "reporter 应为 100 字以内的字符串 / reporter must be a short string"
    if errors:
        raise IntakeError(errors)
    assert point is not None and at is not None
    lon, lat = point
    return Report(category=code, lon=lon, lat=lat, description=description.strip(), source=source,
                  reported_at=at, external_id=external.strip() if external else None,
                  reporter=reporter)


# --- intake -----------------------------------------------------------------------------------

def locate_district(conn: psycopg2.extensions.connection, lon: float, lat: float) -> str | None:
    """The district adcode containing a WGS 84 point, or None outside the loaded area."""
    with conn.cursor() as cur:
        cur.execute(LOCATE, (lon, lat))
        row = cur.fetchone()
    return row[0].strip() if row else None


def _in_region(adcode: str, region: str) -> bool:
    return bool(region) and adcode.startswith(region)


def store_report(conn: psycopg2.extensions.connection, report: Report, user: str, region: str,
                 role: str | None = None) -> dict:
    """Store a validated report: same external id → that event; close report → linked; else new."""
    district = locate_district(conn, report.lon, report.lat)
    if district is None:
        raise IntakeError({"lon": "坐标不在已加载的行政区内 / the point is outside the loaded area",
                           "lat": "坐标不在已加载的行政区内 / the point is outside the loaded area"})
    if not _in_region(district, region):
        raise OutsideJurisdiction({"lon": f"该点位于 {district}，不在您的辖区 {region} / "
                                          "outside your jurisdiction"})
    with conn.cursor() as cur:
        cur.execute(LOCK_CATEGORY, (report.category,))
        if report.external_id:
            cur.execute(FIND_EXTERNAL, (report.external_id,))
            row = cur.fetchone()
            if row:
                return {**_summary(conn, row[0]), "merged": True, "replayed": True}
        params = {"category": report.category, "lon": report.lon, "lat": report.lat,
                  "source": report.source, "at": report.reported_at,
                  "same_m": SAME_SOURCE_RADIUS_M, "cross_m": CROSS_SOURCE_RADIUS_M,
                  "same_s": SAME_SOURCE_WINDOW.total_seconds(),
                  "cross_s": CROSS_SOURCE_WINDOW.total_seconds(),
                  "description": report.description, "district": district,
                  "external_id": report.external_id, "reporter": report.reporter or user,
                  "alert_id": report.alert_id}
        cur.execute(FIND_LINKED, params)
        row = cur.fetchone()
        merged = row is not None
        if merged:
            params["event"] = row[0]
            cur.execute(LINK_REPORT, params)
        else:
            cur.execute(INSERT_EVENT, params)
            params["event"] = cur.fetchone()[0]
            cur.execute(INSERT_TRANSITION, (params["event"], None, "信息收集", user, role,
                                            f"{SOURCE_LABELS[report.source]}上报", None,
                                            report.reported_at, district))
        try:
            cur.execute("SAVEPOINT zt_report")
            cur.execute(INSERT_REPORT, params)
            cur.execute("RELEASE SAVEPOINT zt_report")
        except psycopg2.errors.UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT zt_report")
            raise ExternalIdConflict("external_id 已被其他辖区的上报使用 / external_id already used "
                                     "outside your jurisdiction") from None
    return {**_summary(conn, params["event"]), "merged": merged, "replayed": False}


def register(conn: psycopg2.extensions.connection, payload: dict, user: str, region: str,
             role: str | None = None, now: datetime | None = None) -> dict:
    """Validate and store one report; returns ``{id, status, district_adcode, grid_code, deadline,
    merged}`` (``replayed`` when the external id was seen before). Does not commit."""
    report = parse_report(payload, categories.from_db(conn) or None, now)
    return store_report(conn, report, user, region, role)


def register_batch(conn: psycopg2.extensions.connection, payloads: list, user: str, region: str,
                   role: str | None = None, now: datetime | None = None) -> list[dict]:
    """Each item in its own savepoint: good ones stored, bad ones reported with their fields.

    Returns one result per item, in order: ``{index, ok: True, status_code, ...summary}`` or
    ``{index, ok: False, status_code, error, fields}``.
    """
    if len(payloads) > MAX_BATCH:
        raise BadRequest(f"一次最多 {MAX_BATCH} 条 / at most {MAX_BATCH} reports per batch")
    known = categories.from_db(conn) or None
    results: list[dict] = []
    with conn.cursor() as cur:
        for index, payload in enumerate(payloads):
            cur.execute("SAVEPOINT zt_batch_item")
            try:
                summary = store_report(conn, parse_report(payload, known, now), user, region, role)
            except ZhengtuError as exc:
                cur.execute("ROLLBACK TO SAVEPOINT zt_batch_item")
                results.append({"index": index, "ok": False, "status_code": exc.status,
                                "error": exc.message, "fields": getattr(exc, "fields", {})})
                continue
            cur.execute("RELEASE SAVEPOINT zt_batch_item")
            results.append({"index": index, "ok": True,
                            "status_code": 200 if summary["replayed"] else 201, **summary})
    return results


def _summary(conn: psycopg2.extensions.connection, event_id: int) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT id, status, trim(district_adcode), grid_code, deadline, report_count "
                    "FROM city_events WHERE id = %s", (event_id,))
        row = cur.fetchone()
    return {"id": row[0], "status": row[1], "district_adcode": row[2], "grid_code": row[3],
            "deadline": row[4].isoformat() if row[4] else None, "report_count": row[5]}


# --- the closed loop --------------------------------------------------------------------------

def allowed_next(status: str, role: str | None = None) -> list[str]:
    """The stages reachable from ``status`` (for ``role``, if given): what the desk offers."""
    return [to for (frm, to), roles in TRANSITIONS.items()
            if frm == status and (role is None or role in roles)]


def transition(conn: psycopg2.extensions.connection, event_id: int, to: str, note: str | None,
               user: str, role: str, department: str | None = None,
               at: datetime | None = None) -> dict:
    """Move an event one step along the loop and record who, when and why. Does not commit.

    404 when the event is not visible (RLS), 400 for an unknown stage, 409 for a skipped or
    repeated stage, 403 when the role may not take this step.
    """
    if to not in STATUSES:
        raise BadRequest(f"未知环节 {str(to)[:20]!r}；应为 {'、'.join(STATUSES)} / unknown stage")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_DESCRIPTION):
        raise BadRequest("note 应为 2000 字以内的字符串 / note must be a string")
    if department is not None and (not isinstance(department, str) or not department.strip()
                                   or len(department) > 100):
        raise BadRequest("department 应为 100 字以内的字符串 / department must be a short string")
    at = at or datetime.now(workdays.SHANGHAI)
    with conn.cursor() as cur:
        cur.execute(SELECT_FOR_UPDATE, (event_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound("事件不存在或不在您的辖区 / event not found")
        _, current, category, deadline, dept, district, rework = row
        roles = TRANSITIONS.get((current, to))
        if roles is None:
            nxt = "、".join(allowed_next(current)) or "无（已结案）"
            raise TransitionConflict(f"不能从「{current}」直接到「{to}」，下一环节应为：{nxt} / "
                                     f"cannot go from {current} to {to}")
        if role not in roles:
            raise Forbidden(f"您的角色不能执行「{current}→{to}」 / your role may not take this step")
        if (current, to) == REWORK and not (note or "").strip():
            raise BadRequest("返工须说明核查未通过的原因 note / rework needs a note")
        updates: dict[str, Any] = {"status": to, "status_at": at}
        if to == "立案":
            cur.execute(CATEGORY_LIMIT, (category,))
            limit = cur.fetchone()
            hours = float(limit[0]) if limit and limit[0] is not None else 24.0
            updates["deadline"] = workdays.from_db(conn).add_work_hours(at, hours)
            updates["department"] = department or dept or (limit[1] if limit else None)
        elif to == "派遣":
            cur.execute(CATEGORY_LIMIT, (category,))
            limit = cur.fetchone()
            updates["department"] = department or dept or (limit[1] if limit else None)
        elif department:
            updates["department"] = department
        if to == "结案":
            updates["closed_at"] = at
        if (current, to) == REWORK:
            updates["rework_count"] = rework + 1
        assignments = ", ".join(f"{k} = %({k})s" for k in updates)  # keys are the constants above
        cur.execute(f"UPDATE city_events SET {assignments} WHERE id = %(id)s",
                    {**updates, "id": event_id})
        cur.execute(INSERT_TRANSITION, (event_id, current, to, user, role, note,
                                        updates.get("department", dept), at, district))
    return get_event(conn, event_id, with_history=False)


# --- reading ----------------------------------------------------------------------------------

def _row(record: dict) -> dict:
    out = dict(record)
    for key in ("reported_at", "deadline", "status_at", "closed_at", "updated_at", "received_at", "at"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    return out


def get_event(conn: psycopg2.extensions.connection, event_id: int, with_history: bool = True,
              now: datetime | None = None) -> dict:
    """One event with its reports and its transitions (404 when not visible)."""
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(SELECT_EVENT, {"id": event_id, "now": now or datetime.now(workdays.SHANGHAI)})
        row = cur.fetchone()
        if row is None:
            raise NotFound("事件不存在或不在您的辖区 / event not found")
        event = _row(row)
        if with_history:
            cur.execute(SELECT_REPORTS, (event_id,))
            event["reports"] = [_row(r) for r in cur.fetchall()]
            cur.execute(SELECT_TRANSITIONS, (event_id,))
            event["transitions"] = [_row(r) for r in cur.fetchall()]
    return event


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` (WGS 84) or BadRequest."""
    if not raw:
        return None
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        raise BadRequest("bbox 应为 minlon,minlat,maxlon,maxlat / bad bbox") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values) or values[0] >= values[2] \
            or values[1] >= values[3]:
        raise BadRequest("bbox 应为 minlon,minlat,maxlon,maxlat / bad bbox")
    return values  # type: ignore[return-value]


def list_events(conn: psycopg2.extensions.connection, *, status: list[str] | None = None,
                since: datetime | None = None, bbox: tuple[float, float, float, float] | None = None,
                category: str | None = None, district: str | None = None,
                overdue: bool | None = None, limit: int = 500, offset: int = 0,
                now: datetime | None = None) -> list[dict]:
    """Events in the caller's jurisdiction (RLS), newest report first, filtered."""
    where = ["true"]
    params: dict[str, Any] = {"now": now or datetime.now(workdays.SHANGHAI),
                              "limit": max(1, min(int(limit), 5000)), "offset": max(0, int(offset))}
    if status:
        bad = [s for s in status if s not in STATUSES]
        if bad:
            raise BadRequest(f"未知状态 {bad[0][:20]!r} / unknown status")
        where.append("e.status = ANY(%(status)s)")
        params["status"] = list(status)
    if since is not None:
        where.append("e.updated_at > %(since)s")
        params["since"] = since
    if bbox is not None:
        where.append("e.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)")
        params.update(dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True)))
    if category:
        where.append("(e.category = %(category)s OR left(e.category, 2) = %(category)s)")
        params["category"] = category
    if district:
        where.append("left(e.district_adcode, length(%(district)s)) = %(district)s")
        params["district"] = district
    if overdue is not None:
        where.append("coalesce(e.status <> '结案' AND e.deadline < %(now)s, false) = %(overdue)s")
        params["overdue"] = overdue
    query = (f"SELECT {EVENT_COLUMNS} FROM city_events e "
             "LEFT JOIN event_categories c ON c.code = e.category "
             f"WHERE {' AND '.join(where)} ORDER BY e.reported_at DESC, e.id DESC "
             "LIMIT %(limit)s OFFSET %(offset)s")
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(query, params)
        return [_row(r) for r in cur.fetchall()]


def parse_cursor(cursor: str | datetime | None) -> datetime | None:
    """A cursor from ``changes_since`` (ISO 8601) or None; BadRequest otherwise."""
    if cursor is None or cursor == "":
        return None
    if isinstance(cursor, datetime):
        return cursor
    try:
        # an unencoded "+08:00" in a query string arrives as " 08:00"
        text = re.sub(r" (\d{2}:\d{2})$", r"+\1", str(cursor).strip())
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("cursor 应为上次返回的 ISO 8601 时间 / bad cursor") from None
    return value if value.tzinfo else value.replace(tzinfo=workdays.SHANGHAI)


CHANGES = f"""
SELECT {EVENT_COLUMNS}
FROM city_events e LEFT JOIN event_categories c ON c.code = e.category
WHERE e.updated_at > %(since)s
ORDER BY e.updated_at, e.id
LIMIT %(limit)s
"""


def changes_since(conn: psycopg2.extensions.connection, cursor: str | datetime | None,
                  limit: int = 1000) -> tuple[list[dict], str]:
    """Events changed after ``cursor``, oldest change first, and the cursor to ask with next.

    Rows are upserts keyed by ``id``. The query reaches ``CHANGES_OVERLAP`` behind the cursor so a
    transaction that stamped its rows just before an earlier poll but committed after it is not
    missed; a row may therefore come twice, which an upsert absorbs. No cursor: the last 24 hours.
    When ``limit`` rows come back, ask again with the new cursor for the rest.
    """
    since = parse_cursor(cursor)
    now = datetime.now(workdays.SHANGHAI)
    start = (since - CHANGES_OVERLAP) if since else now - DEFAULT_CHANGES_WINDOW
    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(CHANGES, {"since": start, "limit": limit, "now": now})
        rows = cur.fetchall()
    newest = max((r["updated_at"] for r in rows), default=since or start)
    if since and newest < since:
        newest = since
    return [_row(r) for r in rows], newest.isoformat()

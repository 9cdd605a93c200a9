"""The inspector's day: tasks (ad-hoc and drawn), on-site check-ins, what is around me.

Everything runs under the caller's row-level security; an entity or task outside the region does
not exist for them. Times on records are the server's; the phone's time is kept beside it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import psycopg2.extensions

from accounts.roles import INSPECTOR, Principal
from enforcement.chain import append_link
from geo.errors import BadRequest, Forbidden, NotFound

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADHOC_KINDS = ("complaint", "campaign", "routine", "random")
SITE_RADIUS_M = 100.0  # an entity's site: its point plus this radius
ACCURACY_LIMIT_M = 100.0  # a fix vaguer than this cannot prove presence

TASKS_SQL = """
SELECT t.id, t.entity_id, e.name AS entity_name, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
       t.due_date, t.status, t.kind, t.assigned_users AS assignees, e.address,
       (SELECT coalesce(array_agg(o.name ORDER BY o.id), '{}') FROM officers o
        WHERE o.id = ANY (t.assignees)) AS officers,
       CASE WHEN %(lon)s::float8 IS NULL THEN NULL ELSE ST_Distance(e.geom::geography,
            ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography) END AS distance_m
FROM inspection_tasks t JOIN entities e ON e.id = t.entity_id
WHERE (%(mine)s IS NULL OR %(mine)s = ANY (t.assigned_users))
  AND (%(status)s::text IS NULL OR t.status = %(status)s)
ORDER BY distance_m NULLS LAST, t.due_date, t.id
LIMIT 500
"""
ASSIGNEES_SQL = """
SELECT username, role, region, disabled FROM users WHERE username = ANY(%s)
"""
INSERT_TASK = """
INSERT INTO inspection_tasks (entity_id, kind, due_date, assigned_users, created_by, note,
                              district_adcode)
VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id
"""
TASK_FOR_CHECKIN = """
SELECT t.id, t.district_adcode, t.assigned_users,
       ST_Distance(e.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography)
FROM inspection_tasks t JOIN entities e ON e.id = t.entity_id WHERE t.id = %(task)s
"""
INSERT_CHECKIN = """
INSERT INTO checkins (task_id, username, geom, accuracy_m, phone_time, distance_m, radius_m,
                      accuracy_ok, on_site, district_adcode)
VALUES (%(task)s, %(user)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(acc)s, %(at)s,
        %(dist)s, %(radius)s, %(acc_ok)s, %(on_site)s, %(district)s)
RETURNING id, server_time
"""


def parse_date(raw: object, field: str) -> date:
    """A YYYY-MM-DD date from user input, or a 400 naming the field."""
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise BadRequest(f"{field} 应为日期 YYYY-MM-DD：{raw!r} / {field} must be a date") from None


def parse_time(raw: object, field: str) -> datetime:
    """An ISO 8601 time with offset (the phone's clock), or a 400."""
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise BadRequest(f"{field} 应为带时区的 ISO 8601 时间：{raw!r} / invalid time") from None
    if value.tzinfo is None:
        raise BadRequest(f"{field} 缺少时区偏移（如 +08:00）/ {field} needs a UTC offset")
    return value


def list_tasks(conn: psycopg2.extensions.connection, who: Principal, *, lon: float | None = None,
               lat: float | None = None, status: str | None = None) -> list[dict]:
    """An inspector's own tasks, or every task in a supervisor's region; nearest first if located."""
    mine = who.username if who.role == INSPECTOR else None
    with conn.cursor() as cur:
        cur.execute(TASKS_SQL, {"lon": lon, "lat": lat, "mine": mine, "status": status})
        cols = [c.name for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for row in rows:
        row["due_date"] = row["due_date"].isoformat()
    return rows


def _check_assignees(conn: psycopg2.extensions.connection, names: list[str], district: str) -> None:
    with conn.cursor() as cur:
        cur.execute(ASSIGNEES_SQL, (names,))
        found = {r[0]: r[1:] for r in cur.fetchall()}
    problems = []
    for name in names:
        role, region, disabled = found.get(name, (None, None, None))
        if role is None:
            problems.append(f"{name}：无此用户")
        elif disabled or role != INSPECTOR:
            problems.append(f"{name}：不是在岗执法人员")
        elif not district.startswith(region):
            problems.append(f"{name}：辖区 {region} 不含该对象所在区县 {district}")
    if problems:
        raise BadRequest("执法人员无效 / invalid assignees：" + "；".join(problems))


def create_task(conn: psycopg2.extensions.connection, who: Principal, body: dict) -> int:
    """An ad-hoc task (complaint, campaign…) for named inspectors of the entity's district."""
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象 / body must be a JSON object")
    missing = [f for f in ("entity_id", "assignees", "due", "kind") if body.get(f) in (None, "", [])]
    if missing:
        raise BadRequest(f"缺少字段：{', '.join(missing)} / missing fields")
    if body["kind"] not in ADHOC_KINDS:
        raise BadRequest(f"kind 应为 {'、'.join(ADHOC_KINDS)} 之一 / invalid kind")
    names = body["assignees"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadRequest("assignees 应为用户名列表 / assignees must be a list of user names")
    due = parse_date(body["due"], "due")
    if due < datetime.now(SHANGHAI).date():
        raise BadRequest("期限不能早于今天 / due date is in the past")
    with conn.cursor() as cur:
        cur.execute("SELECT district_adcode FROM entities WHERE id = %s", (int(body["entity_id"]),))
        row = cur.fetchone()
    if row is None:
        raise NotFound("监管对象不存在或不在您的辖区 / entity not found")
    _check_assignees(conn, names, row[0])
    with conn.cursor() as cur:
        cur.execute(INSERT_TASK, (int(body["entity_id"]), body["kind"], due, names, who.username,
                                  body.get("note"), row[0]))
        task_id = int(cur.fetchone()[0])
    append_link(conn, f"task:{task_id}", "task_created", task_id,
                task_payload(task_id, int(body["entity_id"]), body["kind"], due, names, who.username),
                row[0])
    return task_id


def task_payload(task_id: int, entity_id: int, kind: str, due: date, users: list[str],
                 created_by: str | None) -> dict:
    """What a task's first link commits to."""
    return {"task_id": task_id, "entity_id": entity_id, "kind": kind, "due": due,
            "assignees": sorted(users), "created_by": created_by}


def checkin_payload(row: dict) -> dict:
    """What a check-in link commits to (recomputed by verify from the stored row)."""
    keys = ("id", "task_id", "username", "lon", "lat", "accuracy_m", "phone_time", "server_time",
            "distance_m", "on_site")
    return {k: row[k] for k in keys}


def _number(body: dict, field: str, low: float, high: float) -> float:
    try:
        value = float(body[field])
    except (KeyError, TypeError, ValueError):
        raise BadRequest(f"{field} 缺失或不是数字 / {field} missing or not a number") from None
    if not low <= value <= high:
        raise BadRequest(f"{field} 超出范围 {low:g}–{high:g}：{value} / {field} out of range")
    return value


def check_in(conn: psycopg2.extensions.connection, who: Principal, body: dict) -> dict:
    """Record a GPS fix against a task's entity; decide on-site, allowing for the fix's accuracy.

    On site means the fix's circle of uncertainty reaches the site circle (distance ≤ radius +
    accuracy) and the fix is precise enough to prove anything (accuracy ≤ the limit); a vaguer fix is
    recorded as such and needs a reason, like an off-site one.
    """
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象 / body must be a JSON object")
    lon, lat = _number(body, "lon", -180, 180), _number(body, "lat", -90, 90)
    accuracy = _number(body, "accuracy_m", 0, 100_000)
    task_id = int(_number(body, "task_id", 1, 2**62))
    phone_time = parse_time(body.get("at"), "at") if body.get("at") else None
    with conn.cursor() as cur:
        cur.execute(TASK_FOR_CHECKIN, {"lon": lon, "lat": lat, "task": task_id})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在或不在您的辖区 / task not found")
    _, district, assigned, distance = row
    if who.role == INSPECTOR and who.username not in assigned:
        raise Forbidden("这不是分配给您的任务 / not your task")
    accuracy_ok = accuracy <= ACCURACY_LIMIT_M
    on_site = accuracy_ok and distance <= SITE_RADIUS_M + accuracy
    params = {"task": task_id, "user": who.username, "lon": lon, "lat": lat, "acc": accuracy,
              "at": phone_time, "dist": distance, "radius": SITE_RADIUS_M, "acc_ok": accuracy_ok,
              "on_site": on_site, "district": district}
    with conn.cursor() as cur:
        cur.execute(INSERT_CHECKIN, params)
        checkin_id, server_time = cur.fetchone()
        if on_site:
            cur.execute("UPDATE inspection_tasks SET status = 'in_progress' WHERE id = %s "
                        "AND status = 'open'", (task_id,))
    payload = checkin_payload({"id": checkin_id, "task_id": task_id, "username": who.username,
                               "lon": lon, "lat": lat, "accuracy_m": accuracy, "phone_time": phone_time,
                               "server_time": server_time, "distance_m": distance, "on_site": on_site})
    link = append_link(conn, f"task:{task_id}", "checkin", checkin_id, payload, district)
    return {"id": checkin_id, "on_site": on_site, "distance_m": round(distance, 1),
            "radius_m": SITE_RADIUS_M, "accuracy_ok": accuracy_ok, "reason_required": not on_site,
            "server_time": server_time.isoformat(), "chain": {"index": link.index, "hash": link.hash}}


def give_reason(conn: psycopg2.extensions.connection, who: Principal, checkin_id: int,
                reason: object) -> dict:
    """Attach the required reason to an off-site (or imprecise) check-in, once."""
    text = str(reason or "").strip()
    if len(text) < 2 or len(text) > 500:
        raise BadRequest("请填写 2–500 字的原因 / give a reason of 2–500 characters")
    with conn.cursor() as cur:
        cur.execute("SELECT c.task_id, c.on_site, c.district_adcode, c.username, r.checkin_id "
                    "FROM checkins c LEFT JOIN checkin_reasons r ON r.checkin_id = c.id "
                    "WHERE c.id = %s", (checkin_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound("签到记录不存在 / check-in not found")
        task_id, on_site, district, username, existing = row
        if username != who.username:
            raise Forbidden("只能为本人的签到填写原因 / not your check-in")
        if on_site or existing:
            raise BadRequest("该签到无需或已有原因 / no reason needed or already given")
        cur.execute("INSERT INTO checkin_reasons (checkin_id, reason, username, district_adcode) "
                    "VALUES (%s, %s, %s, %s) RETURNING at", (checkin_id, text, who.username, district))
        at = cur.fetchone()[0]
    link = append_link(conn, f"task:{task_id}", "reason", checkin_id,
                       {"checkin_id": checkin_id, "reason": text, "at": at}, district)
    return {"checkin_id": checkin_id, "reason": text, "chain": {"index": link.index, "hash": link.hash}}


NEARBY_SQL = """
SELECT e.id, e.name, e.category, c.name_zh AS category_name, e.risk_class, e.address,
       ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
       ST_Distance(e.geom::geography, p.g::geography) AS distance_m
FROM entities e JOIN entity_categories c ON c.code = e.category,
     (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g) p
WHERE e.geom && ST_Expand(p.g, %(deg)s)
  AND ST_DWithin(e.geom::geography, p.g::geography, %(radius)s)
ORDER BY e.geom <-> p.g
LIMIT %(limit)s
"""


def nearby_entities(conn: psycopg2.extensions.connection, lon: float, lat: float, radius_m: float,
                    limit: int = 100) -> list[dict]:
    """Entities within ``radius_m`` of a point, nearest first.

    The ``&&`` box (radius in degrees, widened for latitude) lets the GiST index do the work before
    the exact geodesic test; ``<->`` orders by planar distance, which at these radii ranks the same.
    """
    if not 10 <= radius_m <= 5000:
        raise BadRequest("半径应在 10–5000 米之间 / radius must be 10–5000 m")
    deg = radius_m / 111_000 / max(0.2, math.cos(math.radians(lat)))
    with conn.cursor() as cur:
        cur.execute(NEARBY_SQL, {"lon": lon, "lat": lat, "deg": deg, "radius": radius_m, "limit": limit})
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


INSPECTORS_FOR = """
SELECT u.username, u.display_name, u.region FROM users u, entities e
WHERE e.id = %s AND u.role = 'inspector' AND NOT u.disabled
  AND left(e.district_adcode, length(u.region)) = u.region
ORDER BY length(u.region) DESC, u.username
"""


def inspectors_for(conn: psycopg2.extensions.connection, entity_id: int) -> list[dict]:
    """Active inspectors whose region covers the entity's district (none if the entity is hidden)."""
    with conn.cursor() as cur:
        cur.execute(INSPECTORS_FOR, (entity_id,))
        return [{"username": u, "display_name": d, "region": r} for u, d, r in cur.fetchall()]

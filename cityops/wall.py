"""Read queries of the operations wall (/ops): one snapshot, then small deltas behind a cursor.

The wall polls every second, so each poll must carry only what changed. A cursor holds one
watermark per stream (events, sensors, alerts): the largest ``updated_at`` the caller has seen, in
microseconds since the epoch. ``updated_at`` is stamped inside the writing transaction, which can
commit after another transaction with a later stamp; a watermark taken blindly from the newest row
would skip the slower one. Each read therefore looks back ``OVERLAP`` before the watermark and the
page keys rows by id and version (a row seen twice is skipped). When nothing newer arrives the
watermark still advances to ``now - OVERLAP``, so a row is re-sent for a few seconds at most and a
quiet city costs an empty delta. A commit may lag its stamp by up to ``OVERLAP`` (the stamps are
``clock_timestamp()`` set by trigger, cityops/migrations/0220). Reads run under the caller's
row-level security, so jurisdiction is the database's business, not this module's.

SQL is kept in named constants below; nothing is assembled from user text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2.extensions

from geo.errors import BadRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSED = "结案"
STATUSES = ("信息收集", "立案", "派遣", "处置", "反馈", "核查", "结案")
SOURCES = ("hotline", "grid", "sensor", "citizen", "inspection")
OVERLAP = timedelta(seconds=2)
RESYNC_AFTER = timedelta(minutes=15)  # a cursor older than this gets "resync" (fetch a snapshot)
SNAPSHOT_EVENTS = 1500
SNAPSHOT_SENSORS = 3000
SNAPSHOT_ALERTS = 30
DELTA_LIMIT = 500
HOURS = 24
ON_TIME_DAYS = 30

EVENT_COLUMNS = """
    e.id, e.category, coalesce(c.name_zh, e.category) AS category_name, e.description, e.source,
    e.status, e.district_adcode, coalesce(a.name, e.district_adcode) AS district_name,
    e.reported_at, e.deadline, e.updated_at,
    (e.deadline < now() AND e.status <> '结案') AS overdue,
    round(ST_X(e.geom)::numeric, 6)::float AS lon, round(ST_Y(e.geom)::numeric, 6)::float AS lat
FROM city_events e
LEFT JOIN event_categories c ON c.code = e.category
LEFT JOIN admin_areas a ON a.level = 'district' AND a.adcode = e.district_adcode
"""
SNAPSHOT_EVENTS_SQL = "SELECT" + EVENT_COLUMNS + """
WHERE e.status <> '结案' OR e.updated_at > now() - interval '24 hours'
ORDER BY e.updated_at DESC, e.id DESC LIMIT %(limit)s
"""
CHANGED_EVENTS_SQL = "SELECT" + EVENT_COLUMNS + """
WHERE e.updated_at > %(since)s
ORDER BY e.updated_at, e.id LIMIT %(limit)s
"""
SENSOR_COLUMNS = """
    s.id, s.code, s.kind, s.name, s.state, s.last_value, s.unit, s.last_reading_at, s.updated_at,
    round(ST_X(s.geom)::numeric, 6)::float AS lon, round(ST_Y(s.geom)::numeric, 6)::float AS lat
FROM sensors s
"""
SNAPSHOT_SENSORS_SQL = "SELECT" + SENSOR_COLUMNS + "ORDER BY s.updated_at DESC, s.id LIMIT %(limit)s"
CHANGED_SENSORS_SQL = "SELECT" + SENSOR_COLUMNS + """
WHERE s.updated_at > %(since)s ORDER BY s.updated_at, s.id LIMIT %(limit)s
"""
ALERT_COLUMNS = """
    al.id, al.sensor_id, al.event_id, al.raised_at, al.value, al.threshold, al.acknowledged_at,
    al.acknowledged_by, al.district_adcode, al.updated_at, s.name AS sensor_name, s.kind AS sensor_kind,
    s.unit
FROM alerts al LEFT JOIN sensors s ON s.id = al.sensor_id
"""
SNAPSHOT_ALERTS_SQL = "SELECT" + ALERT_COLUMNS + "ORDER BY al.raised_at DESC, al.id DESC LIMIT %(limit)s"
CHANGED_ALERTS_SQL = "SELECT" + ALERT_COLUMNS + """
WHERE al.updated_at > %(since)s ORDER BY al.updated_at, al.id LIMIT %(limit)s
"""
KPI_SQL = """
SELECT count(*) FILTER (WHERE reported_at >= %(day_start)s) AS today,
       count(*) FILTER (WHERE status <> '结案') AS open,
       count(*) FILTER (WHERE status <> '结案' AND deadline < now()) AS overdue,
       count(*) FILTER (WHERE status = '结案' AND closed_at >= %(rate_from)s) AS closed,
       count(*) FILTER (WHERE status = '结案' AND closed_at >= %(rate_from)s
                        AND closed_at <= deadline) AS closed_on_time
FROM city_events
WHERE status <> '结案' OR reported_at >= %(day_start)s OR closed_at >= %(rate_from)s
"""
STATUS_SQL = "SELECT status, count(*) FROM city_events WHERE status <> '结案' GROUP BY status"
ALERTS_OPEN_SQL = "SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL"
HOURLY_SQL = """
SELECT date_trunc('hour', reported_at AT TIME ZONE 'Asia/Shanghai') AS hour, source, count(*)
FROM city_events WHERE reported_at >= %(from)s GROUP BY 1, 2
"""
SCENES_SQL = """
SELECT adcode, name, level, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
FROM (SELECT adcode, name, level, ST_Extent(geom)::box2d AS b FROM admin_areas
      WHERE adcode = %(city)s OR (level = 'district' AND parent_adcode = %(city)s)
      GROUP BY adcode, name, level) s
ORDER BY level <> 'city', adcode
"""
DISTRICT_SCENE_SQL = """
SELECT adcode, name, level, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
FROM (SELECT adcode, name, level, ST_Extent(geom)::box2d AS b FROM admin_areas
      WHERE adcode = %(code)s GROUP BY adcode, name, level) s
"""
CURSOR_PATTERN = re.compile(r"^e(\d{1,20})\.s(\d{1,20})\.a(\d{1,20})\.t(\d{1,20})$")
STREAMS = ("e", "s", "a", "t")


# ---------- cursor ----------

def _us(ts: datetime) -> int:
    return int(ts.timestamp() * 1_000_000)


def _ts(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def make_cursor(marks: dict[str, int]) -> str:
    """``e<µs>.s<µs>.a<µs>.t<µs>``: the newest ``updated_at`` seen per stream, and when it was issued."""
    return ".".join(f"{k}{int(marks.get(k, 0))}" for k in STREAMS)


def parse_cursor(cursor: str | None) -> dict[str, int]:
    """The watermarks of a cursor string; BadRequest for anything else."""
    match = CURSOR_PATTERN.match(cursor or "")
    if not match:
        raise BadRequest("参数 cursor 无效（应为快照或上次增量返回的 cursor）/ invalid cursor")
    return dict(zip(STREAMS, (int(v) for v in match.groups()), strict=True))


# ---------- rows as JSON ----------

def _iso(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds") if value else None


def _rows(cur: psycopg2.extensions.cursor) -> list[dict]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _event(row: dict) -> dict:
    return {"id": row["id"], "category": row["category"], "category_name": row["category_name"],
            "description": row["description"], "source": row["source"], "status": row["status"],
            "district_adcode": (row["district_adcode"] or "").strip(),
            "district_name": row["district_name"], "reported_at": _iso(row["reported_at"]),
            "deadline": _iso(row["deadline"]), "overdue": bool(row["overdue"]),
            "lon": row["lon"], "lat": row["lat"], "v": _us(row["updated_at"])}


def _sensor(row: dict) -> dict:
    value = row["last_value"]
    return {"id": row["id"], "code": row["code"], "kind": row["kind"], "name": row["name"],
            "state": row["state"], "value": None if value is None else float(value), "unit": row["unit"],
            "at": _iso(row["last_reading_at"]), "lon": row["lon"], "lat": row["lat"],
            "v": _us(row["updated_at"])}


def _alert(row: dict) -> dict:
    def num(v: object) -> float | None:
        return None if v is None else float(v)  # type: ignore[arg-type]
    return {"id": row["id"], "sensor_id": row["sensor_id"], "event_id": row["event_id"],
            "sensor_name": row["sensor_name"], "sensor_kind": row["sensor_kind"], "unit": row["unit"],
            "raised_at": _iso(row["raised_at"]), "value": num(row["value"]),
            "threshold": num(row["threshold"]), "acknowledged": row["acknowledged_at"] is not None,
            "district_adcode": (row["district_adcode"] or "").strip(), "v": _us(row["updated_at"])}


# ---------- KPIs and series ----------

def day_start(now: datetime | None = None) -> datetime:
    """Midnight today in Asia/Shanghai (the wall's "today")."""
    local = (now or datetime.now(UTC)).astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def kpis(conn: psycopg2.extensions.connection, now: datetime | None = None) -> dict:
    """Today's events, open, overdue, on-time closure rate (30 days), open by status, open alerts."""
    start = day_start(now)
    with conn.cursor() as cur:
        cur.execute(KPI_SQL, {"day_start": start, "rate_from": start - timedelta(days=ON_TIME_DAYS - 1)})
        today, open_, overdue, closed, on_time = cur.fetchone()
        cur.execute(STATUS_SQL)
        by_status = {status: n for status, n in cur.fetchall()}
        cur.execute(ALERTS_OPEN_SQL)
        alerts_open = cur.fetchone()[0]
    return {"today": today, "open": open_, "overdue": overdue, "closed": closed,
            "closed_on_time": on_time, "on_time_rate": round(on_time / closed, 4) if closed else None,
            "by_status": {s: by_status.get(s, 0) for s in STATUSES if s != CLOSED},
            "alerts_open": alerts_open}


def hourly(conn: psycopg2.extensions.connection, hours: int = HOURS, now: datetime | None = None) -> dict:
    """Events per hour (Asia/Shanghai) and source for the last ``hours`` hours, oldest first."""
    local = (now or datetime.now(UTC)).astimezone(SHANGHAI).replace(minute=0, second=0, microsecond=0)
    first = local - timedelta(hours=hours - 1)
    labels = [(first + timedelta(hours=i)).strftime("%Y-%m-%d %H:00") for i in range(hours)]
    counts = {s: [0] * hours for s in SOURCES}
    with conn.cursor() as cur:
        cur.execute(HOURLY_SQL, {"from": first})
        for hour, source, n in cur.fetchall():
            key = hour.strftime("%Y-%m-%d %H:00")
            if key in labels and source in counts:
                counts[source][labels.index(key)] = n
    return {"hours": labels, "counts": counts}


# ---------- snapshot and changes ----------

def _query(conn: psycopg2.extensions.connection, sql: str, params: dict) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return _rows(cur)


def _db_now(conn: psycopg2.extensions.connection) -> datetime:
    with conn.cursor() as cur:
        cur.execute("SELECT clock_timestamp()")
        return cur.fetchone()[0]


def snapshot(conn: psycopg2.extensions.connection) -> dict:
    """Everything the wall draws at start: recent/open events, sensors, alerts, KPIs, 24 h series."""
    now = _db_now(conn)
    events = _query(conn, SNAPSHOT_EVENTS_SQL, {"limit": SNAPSHOT_EVENTS})
    sensors = _query(conn, SNAPSHOT_SENSORS_SQL, {"limit": SNAPSHOT_SENSORS})
    alerts = _query(conn, SNAPSHOT_ALERTS_SQL, {"limit": SNAPSHOT_ALERTS})
    floor = _us(now - OVERLAP)
    marks = {"e": max([floor, *(_us(r["updated_at"]) for r in events)]),
             "s": max([floor, *(_us(r["updated_at"]) for r in sensors)]),
             "a": max([floor, *(_us(r["updated_at"]) for r in alerts)]), "t": _us(now)}
    return {"cursor": make_cursor(marks), "server_time": _iso(now),
            "events": [_event(r) for r in reversed(events)],
            "sensors": [_sensor(r) for r in sensors], "alerts": [_alert(r) for r in reversed(alerts)],
            "kpi": kpis(conn, now), "hourly": hourly(conn, now=now)}


def changes(conn: psycopg2.extensions.connection, cursor: str, limit: int = DELTA_LIMIT) -> dict:
    """What changed since ``cursor``: events, sensors, alerts (oldest first), KPIs, the last 2 hours.

    ``more`` says a stream hit ``limit`` (poll again at once); ``resync`` says the cursor is too
    old to catch up by deltas (fetch a snapshot).
    """
    marks = parse_cursor(cursor)
    now = _db_now(conn)
    if marks["t"] < _us(now - RESYNC_AFTER):
        return {"resync": True, "server_time": _iso(now)}
    out: dict = {"server_time": _iso(now), "more": False}
    for key, sql, shape, name in (("e", CHANGED_EVENTS_SQL, _event, "events"),
                                  ("s", CHANGED_SENSORS_SQL, _sensor, "sensors"),
                                  ("a", CHANGED_ALERTS_SQL, _alert, "alerts")):
        rows = _query(conn, sql, {"since": _ts(marks[key]) - OVERLAP, "limit": limit})
        newest = max((_us(r["updated_at"]) for r in rows), default=marks[key])
        if len(rows) == limit:
            if newest <= marks[key]:  # a burst wider than the overlap window: start afresh
                return {"resync": True, "server_time": _iso(now)}
            out["more"] = True
        marks[key] = max(marks[key], newest, _us(now - OVERLAP))
        out[name] = [shape(r) for r in rows]
    marks["t"] = _us(now)
    out["cursor"] = make_cursor(marks)
    out["kpi"] = kpis(conn, now)
    out["hourly"] = hourly(conn, hours=2, now=now)
    return out


def scenes(conn: psycopg2.extensions.connection, region: str, city: str | None = None) -> list[dict]:
    """The rotation: the city, then each of its districts (bounds from admin_areas).

    A district-level caller gets only their district; a province-level caller the chosen city
    (``city``, default Guangzhou 4401).
    """
    with conn.cursor() as cur:
        if len(region) >= 6:
            cur.execute(DISTRICT_SCENE_SQL, {"code": region[:6]})
        else:
            chosen = region[:4] if len(region) >= 4 else (city if city and city.startswith(region) else "4401")
            cur.execute(SCENES_SQL, {"city": chosen.ljust(6, "0")})
        rows = cur.fetchall()
    return [{"adcode": code.strip(), "name": name, "level": level,
             "bounds": [float(x0), float(y0), float(x1), float(y1)]}
            for code, name, level, x0, y0, x1, y1 in rows]

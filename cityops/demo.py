"""Demo data for the operations centre: unit grids, sensors with 24 h of readings, alerts, events.

Everything goes through the same functions as real traffic (``events.register``/``transition``,
``sensors.record_readings``), so the demo's reports, steps, deadlines, alerts and merges are what
the product would have produced. Times are relative to *now* (the wall shows "today"); ids and
places are reproducible from the seed. Most events and all sensors are in Guangzhou (4401), the demo
city whose grid is generated; the rest are spread over the other loaded districts.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import psycopg2.extensions

from cityops import categories, events, grids, sensors
from geo import workdays
from geo.meta import get_meta, set_meta

DEMO_CITY = "4401"
VERSION = 1
SENSOR_COUNT = 200
SENSOR_MIX = {"water_level": 0.25, "noise": 0.2, "air_pm25": 0.15, "manhole": 0.2, "smoke": 0.12,
              "gas": 0.08}
READING_EVERY = timedelta(minutes=10)
HISTORY = timedelta(hours=24)
ALARM_SENSORS = 8
DEMO_USER = "demo"
TRUNCATE = ("TRUNCATE sensor_readings, alerts, sensors, event_transitions, event_reports, city_events "
            "RESTART IDENTITY CASCADE")
SOURCE_SHARES = {"hotline": 0.4, "grid": 0.3, "citizen": 0.15, "inspection": 0.15}
# Where an event is in the loop, by age: older events are further along.
STAGE_SHARES = [0.12, 0.12, 0.14, 0.16, 0.1, 0.08, 0.28]
SPOTS = """
SELECT trim(district_adcode), ST_X(geom), ST_Y(geom) FROM entities
WHERE (%(city)s::text IS NULL OR left(district_adcode, 4) = %(city)s)
ORDER BY id LIMIT 200000
"""
INSERT_SENSOR = """
INSERT INTO sensors (code, kind, name, geom, district_adcode, grid_code, unit, threshold_high,
                     threshold_low, state)
VALUES (%(code)s, %(kind)s, %(name)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(district)s,
        zt_grid_code(%(district)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)), %(unit)s,
        %(high)s, %(low)s, 'normal')
RETURNING id
"""


def _spots(cur: psycopg2.extensions.cursor, city: str | None) -> list[tuple[str, float, float]]:
    cur.execute(SPOTS, {"city": city})
    return [(d, float(x), float(y)) for d, x, y in cur.fetchall()]


def ensure_grids(conn: psycopg2.extensions.connection, entities_reloaded: bool) -> dict:
    """Generate the demo city's grid once; after an entity reload only re-assign cells."""
    if grids.grid_spec(conn, DEMO_CITY) is None:
        return grids.generate_grids(conn, DEMO_CITY)
    if entities_reloaded:
        with conn, conn.cursor() as cur:
            return grids.assign_cells(cur, DEMO_CITY)
    return {"skipped": True}


def ensure_demo(conn: psycopg2.extensions.connection, seed: int, events_total: int,
                force: bool = False) -> dict:
    """Grids, then sensors/readings/alerts/events unless the same demo is already there."""
    out = {"grids": ensure_grids(conn, force)}
    wanted = {"version": VERSION, "seed": int(seed), "events": int(events_total)}
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM city_events")
        have_events = cur.fetchone()[0]
    conn.commit()
    if not force and have_events and get_meta(conn, "ops_demo") == wanted:
        return {**out, "skipped": True}
    out.update(generate(conn, seed, events_total))
    with conn:
        set_meta(conn, "ops_demo", wanted)
    return {**out, "skipped": False}


def generate(conn: psycopg2.extensions.connection, seed: int, events_total: int,
             now: datetime | None = None) -> dict:
    """Replace the operations demo rows (one transaction)."""
    now = now or datetime.now(workdays.SHANGHAI)
    rng = np.random.default_rng(seed + 8)
    known = categories.from_db(conn)
    leaves = [c for c in known.values() if c.time_limit_hours is not None]
    with conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('zhengtu.bulk', 'on', true), "
                    "set_config('zhengtu.user', %s, true)", (DEMO_USER,))
        cur.execute(TRUNCATE)
        city_spots = _spots(cur, DEMO_CITY)
        all_spots = _spots(cur, None)
        if not all_spots:
            return {"sensors": 0, "events": 0}
        sensor_ids = _sensors(cur, rng, city_spots or all_spots)
        history = _readings(conn, rng, sensor_ids, now)
        made = _events(conn, rng, leaves, city_spots or all_spots, all_spots, events_total, now)
        cur.execute("SELECT id FROM alerts ORDER BY id")
        alert_ids = [a for (a,) in cur.fetchall()]
        for alert_id in alert_ids[: len(alert_ids) // 2]:
            sensors.acknowledge(conn, alert_id, "t_operator_demo", at=now - timedelta(minutes=20))
        cur.execute("INSERT INTO audit_log (username, action, object_type, detail) "
                    "VALUES (%s, 'bulk_load', 'city_events', %s::jsonb)",
                    (f"cli:{DEMO_USER}", json.dumps({"events": made, "sensors": len(sensor_ids),
                                                      "readings": history})))
    return {"sensors": len(sensor_ids), "readings": history, "events": made, "alerts": len(alert_ids)}


def _sensors(cur: psycopg2.extensions.cursor, rng: np.random.Generator,
             spots: list[tuple[str, float, float]]) -> list[tuple[int, str]]:
    kinds = rng.choice(list(SENSOR_MIX), SENSOR_COUNT, p=list(SENSOR_MIX.values()))
    picks = rng.choice(len(spots), SENSOR_COUNT, replace=len(spots) < SENSOR_COUNT)
    jitter = rng.normal(0, 0.0006, (2, SENSOR_COUNT))
    out: list[tuple[int, str]] = []
    for n, (kind, pick) in enumerate(zip(kinds, picks, strict=True), start=1):
        district, lon, lat = spots[int(pick)]
        spec = sensors.KINDS[str(kind)]
        moved = (float(lon + jitter[0, n - 1]), float(lat + jitter[1, n - 1]))
        cur.execute(events.LOCATE, moved)
        found = cur.fetchone()
        if found and found[0].strip() == district:  # else keep the spot itself (inside its district)
            lon, lat = moved
        cur.execute(INSERT_SENSOR, {
            "code": f"GZ-{str(kind).upper()[:3]}-{n:04d}", "kind": str(kind),
            "name": f"{spec.name_zh}{n:03d}号", "lon": float(lon),
            "lat": float(lat), "district": district, "unit": spec.unit,
            "high": spec.threshold_high, "low": spec.threshold_low})
        out.append((cur.fetchone()[0], str(kind)))
    return out


def series(rng: np.random.Generator, kind: str, n: int, alarm_at: int | None = None) -> np.ndarray:
    """A plausible daily curve for a sensor kind; ``alarm_at`` starts an episode past the threshold."""
    spec = sensors.KINDS[kind]
    low, high = spec.normal
    phase = np.linspace(0, 2 * np.pi, n)
    values = low + (high - low) * (0.5 + 0.35 * np.sin(phase - 1.3) + rng.normal(0, 0.08, n))
    values = np.clip(values, low * 0.9 if low > 0 else 0, high * 1.05)
    if alarm_at is not None:
        span = min(n - alarm_at, int(rng.integers(2, 7)))
        values[alarm_at:alarm_at + span] = spec.threshold_high * rng.uniform(1.1, 1.6, span)
    return np.round(values, 2)


def _readings(conn: psycopg2.extensions.connection, rng: np.random.Generator,
              sensor_ids: list[tuple[int, str]], now: datetime) -> int:
    steps = int(HISTORY / READING_EVERY)
    start = now - HISTORY
    times = [start + READING_EVERY * (i + 1) for i in range(steps)]
    alarming = set(rng.choice(len(sensor_ids), min(ALARM_SENSORS, len(sensor_ids)), replace=False))
    total = 0
    for index, (sensor_id, kind) in enumerate(sensor_ids):
        alarm_at = int(rng.integers(steps // 3, steps - 1)) if index in alarming else None
        if alarm_at is not None and index % 3 == 0:  # some are still in alarm now
            alarm_at = steps - 2
        values = series(rng, kind, steps, alarm_at)
        if rng.random() < 0.03:  # a few sensors went silent hours ago
            cut = int(rng.integers(steps // 2, steps - 6))
            times_i, values = times[:cut], values[:cut]
        else:
            times_i = times
        result = sensors.record_readings(
            conn, sensor_id, [{"at": t.isoformat(), "value": float(v)} for t, v in
                              zip(times_i, values, strict=True)],
            user=DEMO_USER, region="44", role="admin", now=now)
        total += result["stored"]
    sensors.mark_offline(conn, now=now)
    return total


def _events(conn: psycopg2.extensions.connection, rng: np.random.Generator,
            leaves: list[categories.Category], city_spots: list, all_spots: list, total: int,
            now: datetime) -> int:
    made = 0
    for n in range(total):
        spots = city_spots if rng.random() < 0.7 else all_spots
        district, lon, lat = spots[int(rng.integers(len(spots)))]
        category = leaves[int(rng.integers(len(leaves)))]
        source = str(rng.choice(list(SOURCE_SHARES), p=list(SOURCE_SHARES.values())))
        if rng.random() < 0.6:  # a month of history, and a denser last few days
            age = timedelta(days=float(rng.uniform(0, 30)))
        else:
            age = min(timedelta(minutes=float(rng.gamma(1.6, 60 * 24 * 1.2))), timedelta(days=10))
        reported = now - age
        stage = int(rng.choice(len(STAGE_SHARES), p=STAGE_SHARES))
        if reported > now - timedelta(hours=2):
            stage = min(stage, 2)
        payload = {"category": category.code, "lon": float(lon + rng.normal(0, 0.0004)),
                   "lat": float(lat + rng.normal(0, 0.0004)), "source": source,
                   "description": f"{events.SOURCE_LABELS[source]}反映：{category.name_zh}",
                   "reported_at": reported.isoformat(), "external_id": f"DEMO-{n + 1:06d}"}
        try:
            summary = events.register(conn, payload, DEMO_USER, "44", "admin", now=now)
        except events.IntakeError:
            continue
        made += 1
        _walk(conn, rng, summary["id"], stage, reported, now)
        if rng.random() < 0.08:  # a second channel reports the same incident
            other = "grid" if source != "grid" else "hotline"
            events.register(conn, {**payload, "source": other, "external_id": None,
                                   "lon": payload["lon"] + 0.0003,
                                   "reported_at": (reported + timedelta(minutes=12)).isoformat(),
                                   "description": f"{events.SOURCE_LABELS[other]}反映：{category.name_zh}"},
                            DEMO_USER, "44", "admin", now=now)
    return made


def _walk(conn: psycopg2.extensions.connection, rng: np.random.Generator, event_id: int, stage: int,
          reported: datetime, now: datetime) -> None:
    """Take an event ``stage`` steps along the loop at plausible moments between report and now."""
    path = list(events.STATUSES[1:stage + 1])
    if stage >= 6 and rng.random() < 0.15:  # one failed verification on the way
        path = ["立案", "派遣", "处置", "反馈", "核查", "处置", "反馈", "核查", "结案"]
    span = (now - reported).total_seconds()
    marks = np.sort(rng.uniform(0.05, 0.95, len(path))) * span
    for step, (to, offset) in enumerate(zip(path, marks, strict=True)):
        rework = to == "处置" and step > 4  # 核查 → 处置 is the desk's decision
        role = "inspector" if to in ("处置", "反馈") and not rework and rng.random() < 0.5 else "operator"
        note = "核查未通过，需返工" if rework else None
        events.transition(conn, event_id, to, note, DEMO_USER if role == "operator" else "网格员",
                          role, at=reported + timedelta(seconds=float(offset)))

"""Targets per KPI, region and period, progress against them and a linear forecast to the period end.

Which target applies: the most specific region first (the region itself, then each enclosing region
up to the province), then a user-defined target before a shipped one (2020 work plan), then one
whose period covers the asked period before a standing (period-less) one.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import psycopg2.extensions

from geo.errors import BadRequest
from kpi.compute import Period, value_of
from kpi.definitions import Kpi
from kpi.regions import Region

TARGETS_SQL = """
SELECT id, kpi_id, region, period_from, period_to, target, source, note, created_by
FROM kpi_targets
WHERE kpi_id = %(kpi)s AND region = ANY(%(regions)s)
  AND (period_from IS NULL OR (period_from <= %(from)s AND period_to >= %(to)s))
ORDER BY length(region) DESC, (source = 'user') DESC, (period_from IS NOT NULL) DESC, created_at DESC
LIMIT 1
"""
LIST_SQL = """
SELECT id, kpi_id, region, period_from::text, period_to::text, target, source, note, created_by
FROM kpi_targets WHERE kpi_id = %s ORDER BY region, period_from NULLS FIRST, source
"""
UPSERT_SQL = """
INSERT INTO kpi_targets (kpi_id, region, period_from, period_to, target, source, note)
VALUES (%(kpi)s, %(region)s, %(from)s, %(to)s, %(target)s, 'user', %(note)s)
ON CONFLICT (kpi_id, region, coalesce(period_from, '-infinity'), coalesce(period_to, 'infinity'), source)
DO UPDATE SET target = EXCLUDED.target, note = EXCLUDED.note, created_at = now()
RETURNING id
"""
COLUMNS = ("id", "kpi_id", "region", "from", "to", "target", "source", "note", "created_by")


def enclosing(region: Region) -> list[str]:
    """The region's own code and every enclosing adcode prefix (grid → district → city → province)."""
    codes = [region.grid] if region.grid else []
    codes += [region.prefix[:n] for n in (6, 4, 2) if len(region.prefix) >= n]
    return codes


def target_for(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: Period) -> dict | None:
    """The applicable target (see module docstring) or None."""
    with conn.cursor() as cur:
        cur.execute(TARGETS_SQL, {"kpi": kpi.id, "regions": enclosing(region), "from": period.start,
                                  "to": period.end})
        row = cur.fetchone()
    if row is None:
        return None
    out = dict(zip(COLUMNS, row, strict=True))
    out["from"] = out["from"].isoformat() if out["from"] else None
    out["to"] = out["to"].isoformat() if out["to"] else None
    return out


def list_targets(conn: psycopg2.extensions.connection, kpi: Kpi) -> list[dict]:
    """Every target of a KPI the caller may see."""
    with conn.cursor() as cur:
        cur.execute(LIST_SQL, (kpi.id,))
        return [dict(zip(COLUMNS, row, strict=True)) for row in cur.fetchall()]


def parse_target(kpi: Kpi, body: dict) -> dict:
    """Validate ``{target, from?, to?, note?}`` (``region`` is resolved by the caller)."""
    from kpi.compute import parse_period

    raw = body.get("target")
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadRequest("target 应为数字 / target must be a number")
    try:
        target = float(raw)
    except ValueError:
        raise BadRequest(f"target 应为数字：{raw!r} / target must be a number") from None
    if not np.isfinite(target) or target < 0 or (kpi.kind == "ratio" and target > 100):
        raise BadRequest("target 超出范围（比率为 0–100）/ target out of range")
    start, end = body.get("from"), body.get("to")
    period = parse_period(start, end) if (start or end) else None
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise BadRequest("note 应为不超过 500 字的文本 / note must be text up to 500 characters")
    return {"target": target, "from": period.start if period else None, "to": period.end if period else None,
            "note": note}


def set_target(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, body: dict) -> int:
    """Create or replace the caller's target for this KPI, region and period; returns its id."""
    values = parse_target(kpi, body)
    with conn.cursor() as cur:
        cur.execute(UPSERT_SQL, {"kpi": kpi.id, "region": region.code, **values})
        return cur.fetchone()[0]


def forecast(kpi: Kpi, daily: list[dict], period: Period, as_of: date) -> dict:
    """Linear forecast of the period-end value from the cumulative daily sums up to ``as_of``.

    The cumulative numerator and denominator are each fitted with a straight line over the elapsed
    days (least squares) and extended to the last day; a finished period forecasts its actual value.
    """
    elapsed = [row for row in daily if date.fromisoformat(row["day"]) <= as_of]
    if not elapsed:
        return {"value": None, "method": "linear", "days_elapsed": 0, "days_total": period.days}
    if len(elapsed) == len(daily):
        last = daily[-1]
        return {"value": last["cum_value"], "method": "actual", "days_elapsed": len(daily),
                "days_total": period.days}
    x = np.arange(1, len(elapsed) + 1, dtype=float)

    def extend(column: str) -> float | None:
        ys = [row[column] for row in elapsed]
        if ys[0] is None:
            return None
        ys_arr = np.array(ys, dtype=float)
        if len(x) < 2:
            return float(ys_arr[-1] / x[-1] * period.days)
        slope, intercept = np.polyfit(x, ys_arr, 1)
        return max(float(slope * period.days + intercept), float(ys_arr[-1]))

    num, den = extend("cum_numerator"), extend("cum_denominator")
    return {"value": value_of(kpi, num, den), "method": "linear", "days_elapsed": len(elapsed),
            "days_total": period.days}


def progress(kpi: Kpi, value: float | None, target: dict | None, predicted: float | None) -> dict | None:
    """How the value and the forecast stand against the target (in the KPI's good direction)."""
    if target is None:
        return None
    goal = float(target["target"])

    def meets(v: float | None) -> bool | None:
        if v is None:
            return None
        return v >= goal if kpi.direction == "up" else v <= goal

    share = None
    if value is not None and goal:
        share = round(100.0 * value / goal, 1) if kpi.direction == "up" else round(100.0 * goal / value, 1) \
            if value else None
    return {"target": goal, "gap": None if value is None else round(value - goal, 2), "met": meets(value),
            "forecast_met": meets(predicted), "attainment": share}

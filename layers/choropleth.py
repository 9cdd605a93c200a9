"""Indicators by district for the choropleth: values in PostgreSQL, classes by quantiles.

Values are computed under the caller's row-level security; districts outside their region have no
data (shown blank), never zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg2.extensions

from geo.errors import BadRequest

CLASS_COLOURS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]


@dataclass(frozen=True)
class Indicator:
    """One mappable indicator: a SQL returning (district adcode, value) for visible districts."""

    id: str
    label_zh: str
    label_en: str
    unit: str
    sql: str


DISTRICTS = "SELECT adcode, area_km2 FROM admin_areas WHERE level = 'district' AND zt_in_region(adcode)"
INDICATORS = {i.id: i for i in (
    Indicator("entity_count", "监管对象数量", "Entities", "个", f"""
        SELECT d.adcode, count(e.id)::float FROM ({DISTRICTS}) d
        LEFT JOIN entities e ON e.district_adcode = d.adcode GROUP BY d.adcode"""),
    Indicator("entity_density", "监管对象密度", "Entity density", "个/km²", f"""
        SELECT d.adcode, count(e.id) / greatest(d.area_km2, 0.01) FROM ({DISTRICTS}) d
        LEFT JOIN entities e ON e.district_adcode = d.adcode GROUP BY d.adcode, d.area_km2"""),
    Indicator("high_risk_share", "高风险（D级）占比", "High-risk share", "%", f"""
        SELECT d.adcode, 100.0 * avg((e.risk_class = 'D')::int) FROM ({DISTRICTS}) d
        LEFT JOIN entities e ON e.district_adcode = d.adcode GROUP BY d.adcode
        HAVING count(e.id) > 0"""),
    Indicator("open_cases", "未结案件数", "Open cases", "件", f"""
        SELECT d.adcode, count(c.id)::float FROM ({DISTRICTS}) d
        LEFT JOIN cases c ON c.district_adcode = d.adcode AND c.stage <> '结案' GROUP BY d.adcode"""),
    Indicator("events", "城市事件数", "City events", "件", f"""
        SELECT d.adcode, count(v.id)::float FROM ({DISTRICTS}) d
        LEFT JOIN city_events v ON v.district_adcode = d.adcode GROUP BY d.adcode"""),
)}


def classify(values: list[float], k: int = 5) -> list[float]:
    """Upper class breaks by quantiles (fewer classes when values repeat)."""
    if not values:
        return []
    breaks = sorted(set(np.quantile(values, np.linspace(0, 1, k + 1)[1:]).round(6).tolist()))
    return breaks


def choropleth(conn: psycopg2.extensions.connection, indicator_id: str) -> dict:
    """Values per district, class breaks, a colour per district and legend entries."""
    indicator = INDICATORS.get(indicator_id)
    if indicator is None:
        raise BadRequest(f"未知指标 {indicator_id!r}；可用：{', '.join(INDICATORS)} / unknown indicator")
    with conn.cursor() as cur:
        cur.execute(indicator.sql)
        values = {code.strip(): float(v) for code, v in cur.fetchall() if v is not None}
    breaks = classify(list(values.values()))
    colours = CLASS_COLOURS[-len(breaks):] if breaks else []
    def colour(v: float) -> str:
        return next(c for b, c in zip(breaks, colours, strict=True) if v <= b)
    lower = [min(values.values())] + breaks[:-1] if breaks else []
    legend = [{"from": lo, "to": hi, "color": c} for lo, hi, c in zip(lower, breaks, colours, strict=True)]
    return {"indicator": indicator.id, "label": indicator.label_zh, "unit": indicator.unit,
            "values": values, "colors": {a: colour(v) for a, v in values.items()}, "legend": legend}

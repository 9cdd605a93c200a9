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
    """One mappable indicator: a SQL returning (area code, value) for visible districts or grids.

    A district indicator colours the admin-area polygons by adcode; a grid indicator colours the
    unit-grid tiles by ``field``, a count the grid layer's tiles already carry (too many cells to
    send a colour per code), so only its class breaks travel.
    """

    id: str
    label_zh: str
    label_en: str
    unit: str
    sql: str
    level: str = "district"
    field: str | None = None


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
    Indicator("grid_entities", "监管对象数量（单元网格）", "Entities per unit grid", "个", """
        SELECT grid_code, count(*)::float FROM entities WHERE grid_code IS NOT NULL GROUP BY grid_code""",
              level="grid", field="entities"),
    Indicator("grid_events", "城市事件数（单元网格）", "City events per unit grid", "件", """
        SELECT grid_code, count(*)::float FROM city_events WHERE grid_code IS NOT NULL GROUP BY grid_code""",
              level="grid", field="events"),
    Indicator("grid_open_events", "未结事件数（单元网格）", "Open events per unit grid", "件", """
        SELECT grid_code, count(*)::float FROM city_events
        WHERE grid_code IS NOT NULL AND status <> '结案' GROUP BY grid_code""", level="grid", field="open_events"),
)}
GRID_LAYER = "unit_grids"


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
    result = {"indicator": indicator.id, "label": indicator.label_zh, "unit": indicator.unit,
              "level": indicator.level, "legend": legend}
    if indicator.level == "grid":
        # MapLibre ``step``: a class starts just above the previous upper break; 0 stays clear.
        starts = lower[:1] + [b + 1e-9 for b in breaks[:-1]]
        return {**result, "layer": GRID_LAYER, "field": indicator.field, "cells": len(values),
                "steps": [[s, c] for s, c in zip(starts, colours, strict=True)]}
    return {**result, "values": values, "colors": {a: colour(v) for a, v in values.items()}}

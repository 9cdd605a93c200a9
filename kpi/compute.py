"""Computing a KPI: sums of per-record facts, grouped in PostgreSQL, for a region and a period.

One query shape serves the total, the children, the daily series and the records behind a figure,
so the numbers everywhere come from the same facts. Queries run on the caller's connection
(row-level security: another jurisdiction's rows do not exist for them).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg2.extensions
from psycopg2 import sql

from geo.errors import BadRequest, NotFound
from geo.workdays import SHANGHAI
from kpi import regions
from kpi.definitions import BY_ID, Kpi, available
from kpi.regions import UNGRIDDED, Region

MAX_DAYS = 731
# Which key a query groups by; fixed snippets, never user text.
GRID_EXPR = "f.grid_code"  # facts carry the unit grid of their entity/event (cityops.grids assigns it)
KEYS = {"total": "NULL::text", "city": "left(f.district_adcode, 4)", "district": "f.district_adcode::text",
        "grid": GRID_EXPR, "day": "f.day::text"}
AGG_SQL = """
WITH f AS ({facts})
SELECT {key} AS key, sum(f.num)::float8, sum(f.den)::float8, count(*)
FROM f
WHERE f.district_adcode BETWEEN %(low)s AND %(high)s AND left(f.district_adcode, %(plen)s) = %(prefix)s
  {grid_filter} {category_filter}
GROUP BY 1
"""
RECORDS_SQL = """
WITH f AS ({facts})
SELECT f.record_kind, f.record_id, f.entity_id, f.label, f.day::text, f.num, f.den, f.district_adcode::text,
       {grid} AS grid
FROM f
WHERE f.district_adcode BETWEEN %(low)s AND %(high)s AND left(f.district_adcode, %(plen)s) = %(prefix)s
  {grid_filter} {category_filter}
ORDER BY f.day DESC, f.record_id DESC
LIMIT %(limit)s
"""
STAGES_SQL = """
SELECT c.stage, count(*) FROM cases c JOIN entities e ON e.id = c.entity_id
WHERE c.opened_on BETWEEN %(from)s AND %(to)s AND left(c.district_adcode, %(plen)s) = %(prefix)s
  {category_filter}
GROUP BY 1
"""
CASE_STAGES = ("立案", "调查取证", "法制审核", "决定", "执行", "结案")
CATEGORIES_SQL = "SELECT code, name_zh FROM entity_categories ORDER BY code"
EVENT_CATEGORIES_SQL = "SELECT code, code || ' ' || name_zh FROM event_categories ORDER BY code"
RISK_CLASSES = {"A": "A 级（低风险）", "B": "B 级", "C": "C 级", "D": "D 级（高风险）"}
SENSOR_KINDS = {"water_level": "水位", "noise": "噪声", "air_pm25": "PM2.5", "manhole": "井盖",
                "smoke": "烟感", "gas": "燃气"}


@dataclass(frozen=True)
class Period:
    """Inclusive Asia/Shanghai days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Number of days, both ends included."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def dates(self) -> list[date]:
        """Every day of the period."""
        return [self.start + timedelta(days=i) for i in range(self.days)]


def today() -> date:
    """Today in Asia/Shanghai."""
    return datetime.now(SHANGHAI).date()


def parse_date(raw: str | None, name: str) -> date:
    """A YYYY-MM-DD parameter, or a 400 naming it."""
    if not raw:
        raise BadRequest(f"缺少参数 {name}（YYYY-MM-DD）/ missing parameter {name}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"参数 {name} 不是有效日期 YYYY-MM-DD：{raw!r} / {name} is not a date") from None


def parse_period(start: str | None, end: str | None) -> Period:
    """``from``/``to`` as dates (400 with a message when missing, malformed, reversed or too long)."""
    period = Period(parse_date(start, "from"), parse_date(end, "to"))
    if period.end < period.start:
        raise BadRequest("结束日期早于开始日期 / 'to' is before 'from'")
    if period.days > MAX_DAYS:
        raise BadRequest(f"统计期最长 {MAX_DAYS} 天 / period longer than {MAX_DAYS} days")
    return period


def default_period(day: date | None = None) -> Period:
    """This month (Asia/Shanghai): from the 1st to the month's last day."""
    day = day or today()
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return Period(first, nxt - timedelta(days=1))


def get_kpi(conn: psycopg2.extensions.connection, kpi_id: str) -> Kpi:
    """A KPI by id, 404 when unknown or when its tables are not installed."""
    kpi = BY_ID.get(kpi_id)
    if kpi is None or kpi not in available(conn):
        names = ", ".join(k.id for k in available(conn))
        raise NotFound(f"未知指标 {kpi_id!r}；可用：{names} / unknown KPI")
    return kpi


def check_category(conn: psycopg2.extensions.connection, kpi: Kpi, category: str | None) -> str | None:
    """A category of the KPI's kind (entity category, event category, risk class, sensor kind) or None."""
    if not category:
        return None
    known = dict(categories(conn, kpi))
    if category not in known:
        raise BadRequest(f"指标 {kpi.id} 没有类别 {category!r}；可用：{', '.join(known)} / unknown category")
    return category


def categories(conn: psycopg2.extensions.connection, kpi: Kpi) -> list[tuple[str, str]]:
    """(code, Chinese label) of the categories a KPI can be filtered by."""
    if kpi.category_kind == "risk":
        return list(RISK_CLASSES.items())
    if kpi.category_kind == "sensor":
        return list(SENSOR_KINDS.items())
    if kpi.category_kind == "stage":
        return [(s, s) for s in CASE_STAGES[:-1]]
    with conn.cursor() as cur:
        cur.execute(EVENT_CATEGORIES_SQL if kpi.category_kind == "event" else CATEGORIES_SQL)
        return cur.fetchall()


def value_of(kpi: Kpi, num: float | None, den: float | None) -> float | None:
    """The KPI value from sums; None ("no data") when a ratio or mean has no denominator."""
    if kpi.kind == "count":
        return round(float(num or 0), 2)
    if not den:
        return None
    scale = 100.0 if kpi.kind == "ratio" else 1.0
    return round(scale * (num or 0) / den, 2)


def _params(region: Region, period: Period, category: str | None, as_of: date | None) -> dict:
    # The BETWEEN on the adcode range lets PostgreSQL use district indexes; left() states the rule.
    return {"from": period.start, "to": period.end, "today": as_of or today(), "plen": len(region.prefix),
            "prefix": region.prefix, "low": region.prefix.ljust(6, "0"), "high": region.prefix.ljust(6, "9"),
            "grid": region.grid, "category": category}


def _filters(region: Region, category: str | None) -> dict[str, sql.Composable]:
    return {"grid_filter": sql.SQL(f"AND {GRID_EXPR} = %(grid)s" if region.grid else ""),
            "category_filter": sql.SQL("AND left(f.category, length(%(category)s)) = %(category)s"
                                       if category else "")}


def aggregate(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: Period, by: str,
              category: str | None = None, as_of: date | None = None) -> dict[str | None, tuple]:
    """{key: (Σnum, Σden, records)} grouped ``by`` one of KEYS."""
    query = sql.SQL(AGG_SQL).format(facts=sql.SQL(kpi.sql), key=sql.SQL(KEYS[by]), **_filters(region, category))
    with conn.cursor() as cur:
        cur.execute(query, _params(region, period, category, as_of))
        return {key: (num, den, n) for key, num, den, n in cur.fetchall()}


def _entry(kpi: Kpi, sums: tuple | None) -> dict:
    num, den, n = sums or (0.0, 0.0 if kpi.kind != "count" else None, 0)
    if kpi.kind == "count":
        den = None
    return {"value": value_of(kpi, num, den), "numerator": _num(num), "denominator": _num(den), "records": n}


def _num(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else round(float(x), 4)


def _add(groups: object) -> tuple | None:
    """Σ of (num, den, n) triples (None when there are none)."""
    rows = list(groups)  # type: ignore[call-overload]
    if not rows:
        return None
    return (sum(r[0] or 0 for r in rows), None if all(r[1] is None for r in rows) else sum(r[1] or 0 for r in rows),
            sum(r[2] for r in rows))


def child_key(region: Region) -> str | None:
    """Which KEYS entry groups a region's children."""
    return {"province": "city", "city": "district", "district": "grid"}.get(region.level)


def compute(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: Period,
            category: str | None = None, as_of: date | None = None) -> dict:
    """Total and children of ``region`` for ``period``: the API's body (without target/series)."""
    kids: list[dict] = []
    key = child_key(region)
    if key and (key != "grid" or regions.has_table(conn, "unit_grids")):
        sums = aggregate(conn, kpi, region, period, key, category, as_of)
        total = _entry(kpi, _add(sums.values()))  # every fact falls in one child key: one scan, not two
        if key == "grid":  # ~100 m grids: only those with records (others add nothing)
            for code in sorted(k for k in sums if k is not None):
                kids.append({"region": code, "name": code, **_entry(kpi, sums[code])})
            if None in sums:  # records in no grid, so that the children still add up
                kids.append({"region": None, "name": UNGRIDDED, **_entry(kpi, sums[None])})
        else:
            for code, name in regions.children(conn, region):
                kids.append({"region": code, "name": name, **_entry(kpi, sums.pop(code, None))})
    else:
        total = _entry(kpi, aggregate(conn, kpi, region, period, "total", category, as_of).get(None))
    return {"id": kpi.id, "region": region.code, "region_name": region.name, "level": region.level,
            "from": period.start.isoformat(), "to": period.end.isoformat(), "category": category,
            "unit": kpi.unit, **total, "children": kids}


def series(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: Period,
           category: str | None = None, as_of: date | None = None) -> list[dict]:
    """Per day of the period: that day's sums and value, plus running (cumulative) sums and value."""
    sums = aggregate(conn, kpi, region, period, "day", category, as_of)
    out, cum_num, cum_den = [], 0.0, 0.0
    for day in period.dates():
        num, den, _n = sums.get(day.isoformat(), (0.0, 0.0, 0))
        cum_num += num or 0
        cum_den += den or 0
        d = None if kpi.kind == "count" else den
        cd = None if kpi.kind == "count" else cum_den
        out.append({"day": day.isoformat(), "numerator": _num(num or 0), "denominator": _num(d),
                    "value": value_of(kpi, num, d), "cum_numerator": _num(cum_num),
                    "cum_denominator": _num(cd), "cum_value": value_of(kpi, cum_num, cd)})
    return out


def records(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: Period,
            category: str | None = None, as_of: date | None = None, limit: int = 200) -> list[dict]:
    """The records behind a figure (newest first), each with its part of the numerator/denominator."""
    query = sql.SQL(RECORDS_SQL).format(facts=sql.SQL(kpi.sql), grid=sql.SQL(GRID_EXPR),
                                        **_filters(region, category))
    params = {**_params(region, period, category, as_of), "limit": limit}
    with conn.cursor() as cur:
        cur.execute(query, params)
        cols = ("kind", "id", "entity_id", "label", "day", "numerator", "denominator", "district", "grid")
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def rank(kpi: Kpi, rows: list[dict]) -> dict[str, int]:
    """Rank (1 = best) of each child with data in the KPI's good direction; equal values share a rank."""
    with_data = [r for r in rows if r["value"] is not None and r["region"] is not None]
    sign = -1 if kpi.direction == "up" else 1
    keys = sorted(sign * r["value"] for r in with_data)  # rank = 1 + how many are strictly better
    return {r["region"]: 1 + bisect_left(keys, sign * r["value"]) for r in with_data}


def ranking(kpi: Kpi, current: dict, previous: dict) -> list[dict]:
    """Children ranked best first, with the previous period's value and rank and the change in rank."""
    now, before = rank(kpi, current["children"]), rank(kpi, previous["children"])
    prev_by = {r["region"]: r for r in previous["children"]}
    out = []
    for row in current["children"]:
        code = row["region"]
        r_now, r_before = now.get(code), before.get(code)
        out.append({**row, "rank": r_now, "previous_value": prev_by.get(code, {}).get("value"),
                    "previous_rank": r_before,
                    "rank_change": (r_before - r_now) if r_now and r_before else None})
    return sorted(out, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["region"] or ""))


def case_stages(conn: psycopg2.extensions.connection, region: Region, period: Period,
                category: str | None = None) -> dict[str, int]:
    """Cases opened in the period by current stage (立案 … 结案)."""
    query = sql.SQL(STAGES_SQL).format(
        category_filter=sql.SQL("AND e.category = %(category)s" if category else ""))
    with conn.cursor() as cur:
        cur.execute(query, {"from": period.start, "to": period.end, "plen": len(region.prefix),
                            "prefix": region.prefix, "category": category})
        found = dict(cur.fetchall())
    return {stage: int(found.get(stage, 0)) for stage in CASE_STAGES}

"""One KPI view: the numbers the API returns, the page draws and the exports write (one source)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg2.extensions

from kpi import compute as c
from kpi import regions
from kpi import targets as tg
from kpi.definitions import Kpi
from kpi.regions import Region


@dataclass(frozen=True)
class Query:
    """A validated KPI request: which KPI, region, period and category, as of which day."""

    kpi: Kpi
    region: Region
    period: c.Period
    category: str | None = None


def parse_query(conn: psycopg2.extensions.connection, caller_region: str, kpi_id: str, region: str | None,
                start: str | None, end: str | None, category: str | None = None) -> Query:
    """Validate a request's parameters: unknown KPI 404, bad region/dates/category 400, outside 403.

    Without ``from`` and ``to`` the period is this month; the region defaults to the caller's.
    """
    kpi = c.get_kpi(conn, kpi_id)
    period = c.default_period() if not start and not end else c.parse_period(start, end)
    where = regions.resolve(conn, region, caller_region)
    return Query(kpi, where, period, c.check_category(conn, kpi, category))


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 2)


def report(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: c.Period,
           category: str | None = None, as_of: date | None = None) -> dict:
    """Value, children, target, previous period, change, ranking, daily series and forecast."""
    as_of = as_of or c.today()
    current = c.compute(conn, kpi, region, period, category, as_of)
    before_period = period.previous()
    previous = c.compute(conn, kpi, region, before_period, category, as_of)
    daily = c.series(conn, kpi, region, period, category, as_of)
    target = tg.target_for(conn, kpi, region, period)
    predicted = tg.forecast(kpi, daily, period, as_of)
    return {**current, "target": target["target"] if target else None, "target_detail": target,
            "previous": {"from": before_period.start.isoformat(), "to": before_period.end.isoformat(),
                         "value": previous["value"], "numerator": previous["numerator"],
                         "denominator": previous["denominator"]},
            "change": _change(current["value"], previous["value"]),
            "forecast": predicted,
            "progress": tg.progress(kpi, current["value"], target, predicted["value"]),
            "ranking": c.ranking(kpi, current, previous), "series": daily,
            "definition": kpi.as_dict()}


def scorecard(conn: psycopg2.extensions.connection, kpi: Kpi, region: Region, period: c.Period,
              category: str | None = None, as_of: date | None = None) -> dict:
    """The small version for a scorecard: value, previous value, change, target, daily series."""
    as_of = as_of or c.today()
    now = c._entry(kpi, c.aggregate(conn, kpi, region, period, "total", category, as_of).get(None))
    before = c._entry(kpi, c.aggregate(conn, kpi, region, period.previous(), "total", category,
                                       as_of).get(None))
    target = tg.target_for(conn, kpi, region, period)
    daily = c.series(conn, kpi, region, period, category, as_of)
    return {"id": kpi.id, "name": kpi.name_zh, "unit": kpi.unit, **now, "previous_value": before["value"],
            "change": _change(now["value"], before["value"]), "target": target["target"] if target else None,
            "series": daily, "direction": kpi.direction}

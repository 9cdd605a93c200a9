"""一公开: the public's read of published draws, their results and closed-case decisions.

No login means no region, so row-level security hides every table from a public caller. The public
reads only through the SECURITY DEFINER functions of ``migrations/0170_public.sql`` (extended by
``0199_public_case_results.sql``), which return published rows and public columns only, with the
representative's name and ID number already masked in SQL. This module validates the filters and
shapes the rows; it never queries a table directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg2.extensions

from geo.errors import BadRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISTRICT = re.compile(r"^\d{2}(\d{2}){0,2}$")
PAGE_SIZE = 50
PLANS_SQL = "SELECT * FROM zt_public_plans(%(district)s, %(from)s, %(to)s)"
RESULTS_SQL = ("SELECT * FROM zt_public_draw_results(%(q)s, %(district)s, %(from)s, %(to)s, %(plan)s, "
               "%(limit)s, %(offset)s)")
CASES_SQL = ("SELECT * FROM zt_public_cases(%(q)s, %(district)s, %(from)s, %(to)s, %(limit)s, "
             "%(offset)s)")
AREAS_SQL = """
SELECT DISTINCT ON (a.adcode) left(a.adcode, CASE a.level WHEN 'city' THEN 4 ELSE 6 END), a.name, a.level,
       c.name
FROM admin_areas a LEFT JOIN admin_areas c ON c.level = 'city' AND c.adcode = a.parent_adcode
WHERE a.level IN ('city', 'district')
ORDER BY a.adcode, a.level
"""


@dataclass(frozen=True)
class PublicQuery:
    """Validated filters of the public page and API."""

    q: str = ""
    district: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    plan: int | None = None
    page: int = 1

    def params(self) -> dict:
        """Bound parameters for the public SQL functions."""
        return {"q": self.q or None, "district": self.district, "from": self.date_from, "to": self.date_to,
                "plan": self.plan, "limit": PAGE_SIZE, "offset": (self.page - 1) * PAGE_SIZE}


def _day(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{field} 应为日期 YYYY-MM-DD：{raw!r} / {field} must be a date") from None


def _positive(raw: str | None, field: str, default: int | None) -> int | None:
    if raw in (None, ""):
        return default
    if not str(raw).isdigit() or not 1 <= int(raw) <= 10**12:
        raise BadRequest(f"{field} 应为正整数：{raw!r} / {field} must be a positive integer")
    return int(raw)


def parse_query(args: Mapping[str, str]) -> PublicQuery:
    """Filters from a query string: ``q`` (name or USCC), ``district`` (adcode prefix), ``from``/``to``,
    ``plan``, ``page``; anything malformed is a 400 naming the parameter."""
    q = (args.get("q") or "").strip()
    if len(q) > 100:
        raise BadRequest("搜索词过长（最多 100 字）/ search text too long")
    district = (args.get("district") or "").strip() or None
    if district and not DISTRICT.match(district):
        raise BadRequest(f"district 应为 2、4 或 6 位行政区划代码：{district!r} / invalid district")
    date_from, date_to = _day(args.get("from"), "from"), _day(args.get("to"), "to")
    if date_from and date_to and date_from > date_to:
        raise BadRequest("开始日期晚于结束日期 / from is after to")
    return PublicQuery(q, district, date_from, date_to, _positive(args.get("plan"), "plan", None),
                       _positive(args.get("page"), "page", 1) or 1)


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(conn: psycopg2.extensions.connection, query: str, params: dict) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        cols = [c.name for c in cur.description]
        return [{k: _jsonable(v) for k, v in zip(cols, row, strict=True)} for row in cur.fetchall()]


def _page(rows: list[dict], page: int) -> dict:
    total = rows[0]["total"] if rows else 0
    for row in rows:
        row.pop("total", None)
    return {"total": total, "page": page, "page_size": PAGE_SIZE, "rows": rows}


def public_plans(conn: psycopg2.extensions.connection, query: PublicQuery) -> list[dict]:
    """Published and drawn plans (seed hash always; the seed once drawn)."""
    return _rows(conn, PLANS_SQL, query.params())


def public_results(conn: psycopg2.extensions.connection, query: PublicQuery) -> dict:
    """Rows of drawn plans matching the filters, one page."""
    return _page(_rows(conn, RESULTS_SQL, query.params()), query.page)


def public_cases(conn: psycopg2.extensions.connection, query: PublicQuery) -> dict:
    """Closed cases matching the filters, one page."""
    return _page(_rows(conn, CASES_SQL, query.params()), query.page)


def public_overview(conn: psycopg2.extensions.connection, query: PublicQuery) -> dict:
    """Everything the public page shows for these filters (also the JSON of the API)."""
    return {"filters": {"q": query.q, "district": query.district,
                        "from": _jsonable(query.date_from), "to": _jsonable(query.date_to),
                        "plan": query.plan, "page": query.page},
            "plans": public_plans(conn, query), "results": public_results(conn, query),
            "cases": public_cases(conn, query)}


def area_options(conn: psycopg2.extensions.connection) -> list[dict]:
    """Cities and districts for the district filter (boundaries are public data)."""
    with conn.cursor() as cur:
        cur.execute(AREAS_SQL)
        return [{"code": code, "name": name if level == "city" else f"{city or ''}{name}", "level": level}
                for code, name, level, city in cur.fetchall()]

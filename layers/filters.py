"""Layer filters from query parameters: validated against the layer's declaration, then bound.

The same parser serves tiles, the OGC API and selections, so a filter means the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from psycopg2 import sql

from geo.errors import BadRequest
from layers.registry import Layer

PREFIX = re.compile(r"^\d{2}(\d{2}){0,2}$")


def _parse_value(layer: Layer, name: str, raw: str) -> object:
    spec = layer.filters[name]
    if spec.kind == "enum":
        values = [v.strip() for v in raw.split(",") if v.strip()]
        bad = [v for v in values if v not in spec.values]
        if not values or bad:
            raise BadRequest(f"筛选条件 {name} 的取值无效：{', '.join(bad) or '空'}；可选：{', '.join(spec.values)}"
                             f" / invalid value for {name}")
        return values
    if spec.kind == "prefix":
        if not PREFIX.match(raw):
            raise BadRequest(f"筛选条件 {name} 应为 2、4 或 6 位行政区划代码：{raw!r} / invalid adcode prefix")
        return raw
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"筛选条件 {name} 应为日期 YYYY-MM-DD：{raw!r} / invalid date") from None


def parse_filters(layer: Layer, args: Mapping[str, str], ignore: frozenset[str] = frozenset()) -> dict:
    """Validated filter values from query parameters; unknown parameters are a 400 naming them."""
    values: dict[str, object] = {}
    for name, raw in args.items():
        if name in ignore:
            continue
        if name not in layer.filters:
            known = ", ".join(layer.filters) or "无"
            raise BadRequest(f"图层 {layer.id} 不支持筛选字段 {name!r}；可用：{known} / unknown filter")
        values[name] = _parse_value(layer, name, raw)
    return values


def where_clause(layer: Layer, values: Mapping[str, object], alias: str = "s") -> tuple[sql.Composable, dict]:
    """SQL for the filters (column names from the registry, values as bound parameters)."""
    clauses: list[sql.Composable] = [sql.SQL("true")]
    params: dict[str, object] = {}
    for i, (name, value) in enumerate(values.items()):
        spec = layer.filters[name]
        column = sql.Identifier(alias, spec.column)
        key = f"f{i}"
        params[key] = value
        placeholder = sql.Placeholder(key)
        if spec.kind == "enum":
            clauses.append(sql.SQL("{} = ANY({})").format(column, placeholder))
        elif spec.kind == "prefix":
            clauses.append(sql.SQL("left({}, length({})) = {}").format(column, placeholder, placeholder))
        elif spec.kind == "date_from":
            clauses.append(sql.SQL("{} >= {}").format(column, placeholder))
        else:
            clauses.append(sql.SQL("{} < {}::date + 1").format(column, placeholder))
    return sql.SQL(" AND ").join(clauses), params

"""OGC API – Features, Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0) over the layer registry.

Plain functions that take the caller, a connection and validated input and return dicts; the Flask
adapter is ``layers/ogc_routes.py``. A collection is a registered layer whose roles admit the caller;
anything else is "not found", so the API never confirms that a hidden layer exists. Rows are read
through the caller's connection, so row-level security decides which features exist for them: a
feature of another region is simply not found, and counts never include it.

Pages are built inside PostgreSQL (``sql/ogc_items.sql``) and ordered by the layer's key, so
``limit``/``offset`` paging is stable. ``numberMatched`` is counted up to ``COUNT_CAP`` rows; past
that it is left out (the standard allows it) so a page over a million rows stays fast, and clients
page until there is no ``next`` link.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from urllib.parse import urlencode

import psycopg2.extensions
from psycopg2 import sql

from accounts.roles import Principal
from geo.errors import BadRequest, NotFound
from layers.filters import parse_filters, where_clause
from layers.registry import LAYERS, Layer, read_sql
from layers.tiles import column_sql

CONFORMANCE = [f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}"
               for c in ("core", "oas30", "html", "geojson")]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
# numberMatched is counted up to this many rows (about 0.2 s through row-level security), enough for
# the 200,000-entity demo so GDAL and QGIS get a count without paging; past it, it is left out.
COUNT_CAP = 250_000
RESERVED = frozenset({"f", "limit", "offset", "bbox", "datetime"})  # never taken for layer filters
# Layers without an ``id`` field are identified by these fields, joined with "-" (district-440106).
COMPOSITE_KEYS: dict[str, tuple[str, ...]] = {"admin_areas": ("level", "adcode")}
BEIJING = timezone(timedelta(hours=8))  # China has no daylight saving time
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER_ID = re.compile(r"^[0-9]{1,18}$")
WORLD = [-180.0, -90.0, 180.0, 90.0]
# The planner cannot estimate the row-level-security condition (it guesses ~0.5% of rows match), so
# for "ORDER BY key LIMIT n" it scans and sorts the whole table instead of walking the key's index
# and stopping after n rows: 220 ms instead of 30 ms for 1,000 of 200,000 entities, and growing with
# the table. Sorting is therefore discouraged for the page query only (transaction-local, reset after),
# unless a bbox narrows the search: then the spatial index and a sort of the few matches is better.
WALK_KEY_ORDER = "SELECT set_config('enable_sort', %s, true)"

Bound = date | datetime | None


@dataclass(frozen=True)
class ItemsQuery:
    """Validated parameters of ``/items``; ``args`` keeps the caller's own for the paging links."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[Bound, Bound] | None = None
    filters: dict = field(default_factory=dict)
    args: tuple[tuple[str, str], ...] = ()


# ---- collections: which layers the caller may see -------------------------------------------------

def collections_for(who: Principal) -> list[Layer]:
    """The registered layers whose roles admit ``who`` (anonymous callers: public layers only)."""
    return [layer for layer in LAYERS.values() if who.may(layer.roles)]


def find_collection(who: Principal, collection_id: str) -> Layer:
    """The layer ``collection_id`` if ``who`` may see it; NotFound alike for unknown and hidden."""
    layer = LAYERS.get(collection_id)
    if layer is None or not who.may(layer.roles):
        known = ", ".join(visible.id for visible in collections_for(who))
        raise NotFound(f"没有数据集 {collection_id!r}；可用：{known} / collection not found")
    return layer


def feature_key(layer: Layer) -> tuple[str, ...]:
    """The declared fields that identify one feature: ``id``, else the layer's composite key."""
    return ("id",) if "id" in layer.fields else COMPOSITE_KEYS[layer.id]


# ---- parsing query parameters ---------------------------------------------------------------------

def parse_items_query(layer: Layer, args: Mapping[str, str]) -> ItemsQuery:
    """Validate ``/items`` parameters; every problem is a 400 naming the parameter."""
    interval = parse_datetime(layer, args["datetime"]) if "datetime" in args else None
    return ItemsQuery(limit=parse_limit(args.get("limit")), offset=parse_offset(args.get("offset")),
                      bbox=parse_bbox(args["bbox"]) if "bbox" in args else None, interval=interval,
                      filters=parse_filters(layer, args, ignore=RESERVED), args=tuple(args.items()))


def parse_limit(raw: str | None) -> int:
    """1..MAX_LIMIT; a larger limit is lowered to the maximum, as the standard requires (not a 400)."""
    if raw is None:
        return DEFAULT_LIMIT
    digits = raw.lstrip("0")
    if not raw.isascii() or not raw.isdigit() or not digits:
        raise BadRequest(f"limit 应为 1–{MAX_LIMIT} 的整数：{raw!r} / limit must be a positive integer")
    return MAX_LIMIT if len(digits) > 6 else min(int(digits), MAX_LIMIT)


def parse_offset(raw: str | None) -> int:
    """A non-negative integer (default 0)."""
    if raw is None:
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadRequest(f"offset 应为非负整数：{raw!r} / offset must be a non-negative integer")
    return int(raw)


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """minLon,minLat,maxLon,maxLat in WGS 84 (CRS84); an antimeridian-crossing box is refused."""
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadRequest(f"bbox 应为 4 个数：最小经度,最小纬度,最大经度,最大纬度：{raw!r} / bbox must be 4 numbers")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise BadRequest(f"bbox 超出经纬度范围（经度 ±180，纬度 ±90）：{raw!r} / bbox out of range")
    if min_lon > max_lon or min_lat > max_lat:
        raise BadRequest(f"bbox 的最小值大于最大值：{raw!r} / bbox minimum exceeds maximum")
    return min_lon, min_lat, max_lon, max_lat


def parse_datetime(layer: Layer, raw: str) -> tuple[Bound, Bound]:
    """An RFC 3339 instant or interval (``a/b``, ``../b``, ``a/..``) on the layer's time field."""
    if layer.time_field is None:
        raise BadRequest(f"图层 {layer.id} 没有时间字段，不支持 datetime / layer has no time field")
    parts = raw.split("/")
    start, end = (_bound(parts[0]), _bound(parts[-1])) if len(parts) <= 2 else (None, None)
    if start is None and end is None:
        raise BadRequest(f"datetime 应为时刻或区间，如 2026-11-01 或 2026-11-01/2026-11-30：{raw!r}"
                         " / invalid datetime")
    if len(parts) == 1:
        return start, start
    if start is not None and end is not None and _moment(start, False) > _moment(end, True):
        raise BadRequest(f"datetime 的起点晚于终点：{raw!r} / interval start is after its end")
    return start, end


def _bound(raw: str) -> Bound:
    """One end: '..' or '' is open; a date (also GDAL's '2026-11-01T'); an RFC 3339 date-time.

    A date-time without an offset is read as Beijing time, the time the interface shows.
    """
    if raw in ("", ".."):
        return None
    text = raw[:-1] if raw.endswith("T") else raw
    try:
        if DATE.match(text):
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"datetime 的时间无效（应为 RFC 3339）：{raw!r} / invalid date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


def _moment(bound: Bound, end: bool) -> datetime:
    """A bound as an instant for comparison: a date starts at 00:00 and ends at 24:00 Beijing."""
    if isinstance(bound, datetime):
        return bound
    start = datetime.combine(bound, time(), BEIJING)
    return start + timedelta(days=1) if end else start


# ---- SQL ------------------------------------------------------------------------------------------

def _where(layer: Layer, query: ItemsQuery, key: Mapping[str, str] | None = None) -> tuple[sql.Composable, dict]:
    """Filters, bbox, interval and key as one WHERE condition; every value a bound parameter."""
    where, params = where_clause(layer, query.filters)
    clauses: list[sql.Composable] = [where]
    if query.bbox is not None:
        params.update(zip(("x0", "y0", "x1", "y1"), query.bbox, strict=True))
        clauses.append(sql.SQL("s.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) AND "
                               "ST_Intersects(s.geom, ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326))"))
    if query.interval is not None:
        clauses += _interval_clauses(layer, query.interval, params)
    for i, (name, value) in enumerate((key or {}).items()):
        params[f"k{i}"] = value
        clauses.append(sql.SQL("{} = {}").format(sql.Identifier("s", name), sql.Placeholder(f"k{i}")))
    return sql.SQL(" AND ").join(clauses), params


def _interval_clauses(layer: Layer, interval: tuple[Bound, Bound], params: dict) -> list[sql.Composable]:
    """A date end includes its whole (Beijing) day; a date-time end is inclusive as given."""
    column = sql.Identifier("s", str(layer.time_field))
    start, end = interval
    clauses: list[sql.Composable] = []
    if start is not None:
        params["t0"] = start
        clauses.append(sql.SQL("{} >= %(t0)s").format(column))
    if end is not None:
        params["t1"] = end
        upper = "{} <= %(t1)s" if isinstance(end, datetime) else "{} < %(t1)s::date + 1"
        clauses.append(sql.SQL(upper).format(column))
    return clauses


def _page_query(layer: Layer, where: sql.Composable) -> sql.Composable:
    keys = feature_key(layer)
    feature_id = (sql.SQL("s.id") if keys == ("id",) else sql.SQL("concat_ws('-', {})").format(
        sql.SQL(", ").join(sql.Identifier("s", k) for k in keys)))
    return sql.SQL(read_sql("ogc_items.sql")).format(
        properties=sql.SQL(", ").join(sql.SQL("{}, t.{}").format(sql.Literal(f), sql.Identifier(f))
                                      for f in layer.fields),
        page_order=sql.SQL(", ").join(sql.Identifier("t", k) for k in keys), feature_id=feature_id,
        columns=sql.SQL(", ").join(column_sql(layer, f) for f in layer.fields),
        source=sql.Identifier(layer.source), where=where,
        source_order=sql.SQL(", ").join(sql.Identifier("s", k) for k in keys))


def _fetch_page(conn: psycopg2.extensions.connection, layer: Layer, where: sql.Composable, params: dict,
                limit: int, offset: int, walk_key: bool = False) -> tuple[list[dict], int]:
    """The features and their number; ``walk_key`` walks the key's index (see ``WALK_KEY_ORDER``)."""
    with conn.cursor() as cur:
        if walk_key:
            cur.execute(WALK_KEY_ORDER, ("off",))
        cur.execute(_page_query(layer, where), {**params, "limit": limit, "offset": offset})
        features, returned = cur.fetchone()
        if walk_key:
            cur.execute(WALK_KEY_ORDER, ("on",))
    return features, returned


def _count(conn: psycopg2.extensions.connection, layer: Layer, where: sql.Composable, params: dict) -> int | None:
    """numberMatched, or None when more than COUNT_CAP rows match (then it is left out)."""
    query = sql.SQL(read_sql("ogc_count.sql")).format(source=sql.Identifier(layer.source), where=where)
    with conn.cursor() as cur:
        cur.execute(query, {**params, "cap": COUNT_CAP + 1})
        (n,) = cur.fetchone()
    return n if n <= COUNT_CAP else None


# ---- documents ------------------------------------------------------------------------------------

def link(href: str, rel: str, media_type: str, title: str) -> dict:
    """One link object as the standard spells it."""
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def landing(base: str) -> dict:
    """The landing page: where the API definition, conformance and collections are."""
    return {"title": "政图 Zhengtu OGC API – Features",
            "description": "行政区划与监管数据（按角色和辖区开放）/ boundaries and supervision data by role and region",
            "links": [link(f"{base}?f=json", "self", JSON, "本页 / this document"),
                      link(f"{base}?f=html", "alternate", HTML, "网页 / as HTML"),
                      link(f"{base}/api?f=json", "service-desc", OPENAPI, "API 定义 / API definition"),
                      link(f"{base}/api?f=html", "service-doc", HTML, "API 文档 / API documentation"),
                      link(f"{base}/conformance?f=json", "conformance", JSON, "符合的标准 / conformance"),
                      link(f"{base}/collections?f=json", "data", JSON, "数据集 / collections")]}


def conformance(base: str) -> dict:
    """The conformance classes implemented: Core, OpenAPI 3.0, HTML and GeoJSON."""
    return {"conformsTo": CONFORMANCE,
            "links": [link(f"{base}/conformance?f=json", "self", JSON, "本页 / this document"),
                      link(f"{base}/conformance?f=html", "alternate", HTML, "网页 / as HTML")]}


def spatial_extent(conn: psycopg2.extensions.connection) -> list[float]:
    """The loaded provinces' bounding box (public boundaries), or the world before any are loaded."""
    with conn.cursor() as cur:
        cur.execute(read_sql("ogc_extent.sql"))
        row = cur.fetchone()
    return WORLD if row is None or row[0] is None else [round(v, 6) for v in row]


def _temporal_extent(conn: psycopg2.extensions.connection, layer: Layer) -> list[str | None]:
    query = sql.SQL(read_sql("ogc_temporal.sql")).format(
        time_field=sql.Identifier(str(layer.time_field)), source=sql.Identifier(layer.source))
    with conn.cursor() as cur:
        cur.execute(query)
        first, last = cur.fetchone()
    return [None if v is None else _moment(v, False).isoformat() for v in (first, last)]


def collection(conn: psycopg2.extensions.connection, layer: Layer, base: str,
               bbox: list[float] | None = None) -> dict:
    """One collection's description: extent, CRS and links to its items."""
    url = f"{base}/collections/{layer.id}"
    extent: dict = {"spatial": {"bbox": [bbox or spatial_extent(conn)], "crs": CRS84}}
    if layer.time_field:
        extent["temporal"] = {"interval": [_temporal_extent(conn, layer)], "trs": GREGORIAN}
    return {"id": layer.id, "title": layer.title_zh, "description": f"{layer.title_zh} / {layer.title_en}",
            "itemType": "feature", "crs": [CRS84], "extent": extent,
            "links": [link(f"{url}?f=json", "self", JSON, "本页 / this document"),
                      link(f"{url}?f=html", "alternate", HTML, "网页 / as HTML"),
                      link(f"{url}/items?f=json", "items", GEOJSON, f"{layer.title_zh}要素 / features"),
                      link(f"{url}/items?f=html", "items", HTML, f"{layer.title_zh}要素（网页）/ features as HTML"),
                      link(f"{url}/schema", "describedby", SCHEMA, "要素字段 / feature schema")]}


SCHEMA = "application/schema+json"
JSON_TYPES = {"integer": {"type": "integer"}, "number": {"type": "number"}, "string": {"type": "string"},
              "date": {"type": "string", "format": "date"},
              "datetime": {"type": "string", "format": "date-time"}}


def schema(layer: Layer, base: str) -> dict:
    """JSON Schema of a collection's features, from the registry.

    Clients such as GDAL read field types from it instead of guessing them from a page of data
    (a column that is empty on the first page would otherwise come out as text).
    """
    properties = {name: {**JSON_TYPES[spec.type], "title": spec.label_zh, "description": spec.label_en}
                  for name, spec in layer.fields.items()}
    # a GeoJSON Feature schema: the fields sit under "properties" → "properties", where GDAL looks
    return {"$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": f"{base}/collections/{layer.id}/schema", "title": layer.title_zh, "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]},
                           "geometry": {"type": "object"},
                           "properties": {"type": "object", "properties": properties}}}


def collections(conn: psycopg2.extensions.connection, layers: Iterable[Layer], base: str) -> dict:
    """All collections the caller may see."""
    bbox = spatial_extent(conn)
    return {"collections": [collection(conn, layer, base, bbox) for layer in layers],
            "links": [link(f"{base}/collections?f=json", "self", JSON, "本页 / this document"),
                      link(f"{base}/collections?f=html", "alternate", HTML, "网页 / as HTML")]}


def _items_href(base: str, layer: Layer, query: ItemsQuery, offset: int, fmt: str) -> str:
    kept = [(k, v) for k, v in query.args if k not in ("limit", "offset", "f")]
    kept += [("limit", str(query.limit)), ("offset", str(offset)), ("f", fmt)]
    return f"{base}/collections/{layer.id}/items?{urlencode(kept)}"


def _page_links(base: str, layer: Layer, query: ItemsQuery, returned: int, matched: int | None) -> list[dict]:
    """self, alternate, collection, and next/prev while there is more in that direction."""
    links = [link(_items_href(base, layer, query, query.offset, "json"), "self", GEOJSON, "本页 / this page"),
             link(_items_href(base, layer, query, query.offset, "html"), "alternate", HTML, "网页 / as HTML"),
             link(f"{base}/collections/{layer.id}?f=json", "collection", JSON, layer.title_zh)]
    more = query.offset + returned < matched if matched is not None else returned == query.limit
    if more:
        links.append(link(_items_href(base, layer, query, query.offset + query.limit, "json"), "next", GEOJSON,
                          "下一页 / next page"))
    if query.offset > 0:
        links.append(link(_items_href(base, layer, query, max(0, query.offset - query.limit), "json"), "prev",
                          GEOJSON, "上一页 / previous page"))
    return links


def items(conn: psycopg2.extensions.connection, layer: Layer, query: ItemsQuery, base: str) -> dict:
    """One page of features as a GeoJSON FeatureCollection with counts and paging links."""
    where, params = _where(layer, query)
    matched = _count(conn, layer, where, params)
    features, returned = _fetch_page(conn, layer, where, params, query.limit, query.offset,
                                     walk_key=query.bbox is None)
    counts = {"numberMatched": matched} if matched is not None else {}
    return {"type": "FeatureCollection", "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **counts, "numberReturned": returned, "links": _page_links(base, layer, query, returned, matched),
            "features": features}


def _key_of(layer: Layer, feature_id: str) -> dict[str, str | int] | None:
    """The key values a feature id names (as ``items`` emits them), or None if it cannot name one."""
    keys = feature_key(layer)
    if keys == ("id",):
        return {"id": int(feature_id)} if INTEGER_ID.match(feature_id) else None
    parts = feature_id.split("-", len(keys) - 1)
    return dict(zip(keys, parts, strict=True)) if len(parts) == len(keys) else None


def item(conn: psycopg2.extensions.connection, layer: Layer, feature_id: str, base: str) -> dict:
    """One feature by the id ``items`` gave it; NotFound when absent or outside the caller's region."""
    key = _key_of(layer, feature_id)
    features: list[dict] = []
    if key is not None:
        where, params = _where(layer, ItemsQuery(), key)
        features, _ = _fetch_page(conn, layer, where, params, 1, 0)
    if not features:
        raise NotFound(f"数据集 {layer.id} 中没有要素 {feature_id!r} / feature not found")
    url = f"{base}/collections/{layer.id}/items/{features[0]['id']}"
    return {**features[0], "links": [link(f"{url}?f=json", "self", GEOJSON, "本要素 / this feature"),
                                     link(f"{url}?f=html", "alternate", HTML, "网页 / as HTML"),
                                     link(f"{base}/collections/{layer.id}?f=json", "collection", JSON,
                                          layer.title_zh)]}


# ---- the OpenAPI 3.0 definition -------------------------------------------------------------------

def _param(name: str, description: str, schema: dict, **extra: object) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema,
            **extra}


PARAMETERS = {
    "f": _param("f", "输出格式；缺省时按 Accept 头 / response format (default: the Accept header)",
                {"type": "string", "enum": ["json", "html"]}),
    "bbox": _param("bbox", "范围：最小经度,最小纬度,最大经度,最大纬度（WGS 84）/ minLon,minLat,maxLon,maxLat",
                   {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                   style="form", explode=False),
    "limit": _param("limit", f"每页条数，超过 {MAX_LIMIT} 按 {MAX_LIMIT} / page size (capped)",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
    "offset": _param("offset", "跳过的条数 / features to skip", {"type": "integer", "minimum": 0, "default": 0}),
    "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"},
                  "description": "要素编号，与 items 中的 id 相同 / the id items gives a feature"},
}
ERROR = {"type": "object", "required": ["error", "status"],
         "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}
RESPONSES = {code: {"description": text, "content": {JSON: {"schema": {"$ref": "#/components/schemas/error"}}}}
             for code, text in (("400", "参数无效 / bad parameter"), ("404", "不存在或无权查看 / not found"))}
SCHEMAS = {"error": ERROR,
           "featureCollection": {"type": "object", "required": ["type", "features"],
                                 "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                                                "features": {"type": "array", "items": {"type": "object"}},
                                                "numberMatched": {"type": "integer"},
                                                "numberReturned": {"type": "integer"}}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _operation(op_id: str, summary: str, media_types: list[str], parameters: list[dict],
               errors: tuple[str, ...] = ()) -> dict:
    content = {m: {"schema": {"$ref": "#/components/schemas/featureCollection"} if m == GEOJSON else {}}
               for m in media_types}
    responses = {"200": {"description": "成功 / OK", "content": content},
                 **{code: {"$ref": f"#/components/responses/{code}"} for code in errors}}
    return {"get": {"operationId": op_id, "summary": summary, "parameters": parameters, "responses": responses}}


def _filter_parameter(name: str, layer: Layer) -> dict:
    """A layer filter as the query parameter it is (validated by ``layers.filters``)."""
    spec = layer.filters[name]
    if spec.kind == "enum":
        return _param(name, f"{spec.label_zh}，可多选（逗号分隔）/ one or more values",
                      {"type": "array", "items": {"type": "string", "enum": list(spec.values)}},
                      style="form", explode=False)
    if spec.kind == "prefix":
        return _param(name, f"{spec.label_zh}：2、4 或 6 位行政区划代码前缀 / adcode prefix",
                      {"type": "string", "pattern": r"^\d{2}(\d{2}){0,2}$"})
    return _param(name, f"{spec.label_zh}（YYYY-MM-DD）/ date bound", {"type": "string", "format": "date"})


def _layer_paths(layer: Layer) -> dict:
    params = [_ref("bbox"), _ref("limit"), _ref("offset"), _ref("f")]
    if layer.time_field:
        params.append(_param("datetime", f"按{layer.label(layer.time_field)}筛选：RFC 3339 时刻或区间，如 "
                             f"2026-11-01/2026-11-30、../2026-11-30 / instant or interval on {layer.time_field}",
                             {"type": "string"}))
    params += [_filter_parameter(name, layer) for name in layer.filters]
    title, path = f"{layer.title_zh} / {layer.title_en}", f"/collections/{layer.id}"
    return {path: _operation(f"describe_{layer.id}", title, [JSON, HTML], [_ref("f")], ("404",)),
            f"{path}/items": _operation(f"get_{layer.id}_items", f"{title}：要素 / features", [GEOJSON, HTML],
                                        params, ("400", "404")),
            f"{path}/items/{{featureId}}": _operation(f"get_{layer.id}_item", f"{title}：单个要素 / one feature",
                                                      [GEOJSON, HTML], [_ref("featureId"), _ref("f")], ("404",))}


def openapi(layers: Iterable[Layer], base: str) -> dict:
    """The OpenAPI 3.0 definition of what this caller may use, with each collection's filters."""
    paths = {"/": _operation("getLandingPage", "首页 / landing page", [JSON, HTML], [_ref("f")]),
             "/conformance": _operation("getConformance", "符合的标准 / conformance", [JSON, HTML], [_ref("f")]),
             "/api": _operation("getAPI", "API 定义 / this definition", [OPENAPI, HTML], [_ref("f")]),
             "/collections": _operation("getCollections", "数据集 / collections", [JSON, HTML], [_ref("f")])}
    for layer in layers:
        paths.update(_layer_paths(layer))
    return {"openapi": "3.0.3",
            "info": {"title": "政图 Zhengtu OGC API – Features", "version": "1.0.0",
                     "description": "数据按角色和辖区开放 / data open by role and region"},
            "servers": [{"url": base}], "paths": paths,
            "components": {"parameters": PARAMETERS, "responses": RESPONSES, "schemas": SCHEMAS}}

"""Import a reference layer (boundaries, grids, zones, points of interest) of any geometry.

Geometries are made valid (``shapely.make_valid``; what cannot be repaired, or has the wrong
dimension for the layer, is rejected with a reason), reprojected to WGS 84, COPYed into a table of
their own in schema ``user_layers``, exposed through a ``security_invoker`` view and recorded in
``user_layers.catalogue``, from which the registry (``layers/catalogue.py``) serves them as tiles and
OGC API collections. Each feature gets ``district_adcode`` from its point on surface, so a layer
imported with ``scope='region'`` falls under row-level security like every other table; the default
``'shared'`` lets all staff see every feature (reference data belongs to everyone).
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2.extensions
import shapely
from psycopg2 import sql

from accounts import audit
from data.imports.coords import geometry_to_wgs84, parse_crs
from data.imports.readers import GIS, read_gis
from data.imports.report import Problem
from geo.errors import BadRequest
from layers import catalogue
from layers.registry import BUILTIN_LAYERS

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
RESERVED_COLUMNS = {"id", "district_adcode", "geom"}
KINDS = {0: "point", 1: "line", 2: "polygon"}
KIND_ZH = {"point": "点", "line": "线", "polygon": "面"}
COLUMN_TYPES = {"integer": "bigint", "number": "double precision", "string": "text", "date": "date",
                "datetime": "timestamptz"}
POLICIES = {"shared": "zt_is_staff()", "region": "zt_in_region(district_adcode)"}
LOCATE_SQL = """
UPDATE {table} t SET district_adcode = (
    SELECT p.adcode FROM admin_area_parts p
    WHERE p.level = 'district' AND ST_Intersects(p.geom, ST_PointOnSurface(t.geom)) LIMIT 1)
"""
CATALOGUE_UPSERT = """
INSERT INTO user_layers.catalogue (name, title_zh, title_en, geometry_kind, scope, fields, source_file,
                                   source_crs, feature_count, rejected_count, bbox, imported_by)
SELECT %(name)s, %(title)s, %(title_en)s, %(kind)s, %(scope)s, %(fields)s, %(file)s, %(crs)s,
       %(count)s, %(rejected)s, ARRAY[ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)], %(actor)s
FROM (SELECT ST_Extent(geom) AS e FROM {table}) s
ON CONFLICT (name) DO UPDATE SET
    title_zh = EXCLUDED.title_zh, title_en = EXCLUDED.title_en, geometry_kind = EXCLUDED.geometry_kind,
    scope = EXCLUDED.scope, fields = EXCLUDED.fields, source_file = EXCLUDED.source_file,
    source_crs = EXCLUDED.source_crs, feature_count = EXCLUDED.feature_count,
    rejected_count = EXCLUDED.rejected_count, bbox = EXCLUDED.bbox, imported_by = EXCLUDED.imported_by,
    updated_at = now()
"""


@dataclass(frozen=True)
class LayerOptions:
    """What to call the layer, which CRS its file is in, who may see its features."""

    name: str
    title: str | None = None
    crs: str | None = None
    scope: str = "shared"
    replace: bool = False
    actor: str = "cli"


@dataclass
class LayerResult:
    """What an import stored and what it rejected."""

    name: str
    kind: str
    loaded: int
    problems: list[Problem] = field(default_factory=list)

    def text(self) -> str:
        """One line for a terminal."""
        return (f"图层 {self.name}（{KIND_ZH[self.kind]}）：已导入 {self.loaded} 个要素，拒绝 "
                f"{len(self.problems)} 个 / layer {self.name}: {self.loaded} features, "
                f"{len(self.problems)} rejected")


def check_name(name: str) -> str:
    """A layer name usable as table name and URL segment; built-in layer ids are refused."""
    if not NAME.match(name or ""):
        raise BadRequest(f"图层名 {name!r} 无效：小写字母开头，只含 a-z、0-9、_，至多 41 位 / invalid layer name")
    if name in BUILTIN_LAYERS or name == "catalogue":
        raise BadRequest(f"图层名 {name!r} 已被系统图层使用 / name taken by a built-in layer")
    return name


def repair(geoms: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Valid geometries (or None) and the reason for each one that is missing or unrepairable."""
    out = np.empty(len(geoms), dtype=object)
    problems: dict[int, str] = {}
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            problems[i] = "缺少几何 / no geometry"
            continue
        fixed = geom if shapely.is_valid(geom) else shapely.make_valid(geom)
        if fixed is None or shapely.is_empty(fixed):
            problems[i] = f"几何无效且无法修复：{shapely.is_valid_reason(geom)} / invalid geometry"
            continue
        out[i] = fixed
    return out, problems


def _dimension_of(geom: object) -> int:
    return int(shapely.get_dimensions(geom))


def keep_kind(geoms: np.ndarray, problems: dict[int, str]) -> tuple[str, np.ndarray]:
    """The layer's kind (most common dimension) and geometries of that kind; others rejected."""
    dims = Counter(_dimension_of(g) for g in geoms if g is not None)
    if not dims:
        raise BadRequest("文件中没有可用的几何 / no usable geometry in the file")
    dim = dims.most_common(1)[0][0]
    kind = KINDS[dim]
    for i, geom in enumerate(geoms):
        if geom is None:
            continue
        if shapely.get_type_id(geom) == 7:  # a collection from make_valid: keep parts of this kind
            parts = [p for p in shapely.get_parts(geom) if _dimension_of(p) == dim]
            geoms[i] = shapely.union_all(parts) if parts else None
        elif _dimension_of(geom) != dim:
            geoms[i] = None
        if geoms[i] is None:
            problems[i] = (f"几何类型与图层不一致（图层为{KIND_ZH[kind]}，要素为 {geom.geom_type}）/ "
                           "geometry kind differs from the layer's")
    return kind, geoms


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "string"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "string"


def attribute_fields(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Columns renamed to safe, unique PostgreSQL names (≤ 63 bytes), with their types and labels."""
    names: list[str] = []
    fields: list[dict] = []
    for i, original in enumerate(frame.columns):
        base = str(original).strip() or f"field_{i + 1}"
        while len(base.encode("utf-8")) > 60:
            base = base[:-1]
        name, n = base, 1
        while name.lower() in RESERVED_COLUMNS | {x.lower() for x in names}:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
        fields.append({"name": name, "type": _field_type(frame[original]), "label": str(original)})
    out = frame.copy()
    out.columns = names
    for spec in fields:
        if spec["type"] == "datetime":
            out[spec["name"]] = pd.to_datetime(out[spec["name"]], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return out, fields


def import_layer(conn: psycopg2.extensions.connection, path: Path | str, options: LayerOptions) -> LayerResult:
    """Read, repair, reproject and store a layer in one transaction; register it in the catalogue."""
    name = check_name(options.name)
    if options.scope not in POLICIES:
        raise BadRequest("scope 只能是 shared 或 region / scope must be shared or region")
    if Path(path).suffix.lower() not in GIS:
        raise BadRequest(f"图层文件应为 {' '.join(sorted(GIS))} 之一 / unsupported layer file")
    attributes, geoms, file_crs = read_gis(Path(path))
    if not (options.crs or file_crs):
        raise BadRequest("文件没有坐标系（如缺少 .prj），请用 --crs 指定 / the file has no CRS: pass --crs")
    source = parse_crs(options.crs or file_crs or "")
    repaired, reasons = repair(geoms)
    keep = np.array([g is not None for g in repaired])
    if keep.any():
        moved = geometry_to_wgs84(repaired[keep], source)
        repaired[keep] = [g if shapely.is_valid(g) else shapely.make_valid(g) for g in moved]
    kind, repaired = keep_kind(repaired, reasons)
    for i, geom in enumerate(repaired):
        if geom is not None and not _plausible(geom):
            reasons[i], repaired[i] = "坐标超出经纬度范围（坐标系是否正确？）/ coordinates out of range", None
    good = np.array([g is not None for g in repaired])
    frame, fields = attribute_fields(attributes)
    frame = frame.loc[good].copy()
    frame["geom"] = shapely.to_wkb(shapely.set_srid(repaired[good].astype(object), 4326), hex=True,
                                   include_srid=True)
    problems = [Problem(i + 1, "geometry", "", reason) for i, reason in sorted(reasons.items())]
    with conn:
        _store(conn, name, frame, fields, options)
        _catalogue(conn, name, kind, fields, path, source.name, len(frame), len(problems), options)
        audit.record(conn, options.actor, "import_layer", object_type="user_layers", object_id=name,
                     detail={"file": Path(path).name, "features": len(frame), "rejected": len(problems)})
    catalogue.refresh(conn)  # this process at once; the app's workers within seconds
    conn.rollback()
    return LayerResult(name, kind, len(frame), problems)


def _plausible(geom: object) -> bool:
    x0, y0, x1, y1 = shapely.bounds(geom)
    return bool(-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90)


def _store(conn: psycopg2.extensions.connection, name: str, frame: pd.DataFrame, fields: list[dict],
           options: LayerOptions) -> None:
    table, view = sql.Identifier("user_layers", name), sql.Identifier(catalogue.view_name(name))
    columns = sql.SQL("").join(sql.SQL("{} {}, ").format(sql.Identifier(f["name"]), sql.SQL(COLUMN_TYPES[f["type"]]))
                               for f in fields)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"user_layers.{name}",))
        if cur.fetchone()[0]:
            if not options.replace:
                raise BadRequest(f"图层 {name} 已存在；替换请加 --replace / layer exists (use --replace)")
            drop_layer_objects(cur, name)
        cur.execute(sql.SQL("CREATE TABLE {} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                            "district_adcode char(6), {}geom geometry(Geometry, 4326) NOT NULL)").format(
                                table, columns))
        buf = io.StringIO()
        frame.to_csv(buf, header=False, index=False)
        buf.seek(0)
        names = [f["name"] for f in fields] + ["geom"]
        cur.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            table, sql.SQL(", ").join(map(sql.Identifier, names))), buf)
        cur.execute(sql.SQL(LOCATE_SQL).format(table=table))
        cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(table))
        cur.execute(sql.SQL("CREATE INDEX ON {} (district_adcode)").format(table))
        cur.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table))
        cur.execute(sql.SQL("CREATE POLICY jurisdiction ON {} FOR SELECT TO zhengtu_app USING ({})").format(
            table, sql.SQL(POLICIES[options.scope])))
        cur.execute(sql.SQL("GRANT SELECT ON {} TO zhengtu_app").format(table))
        cur.execute(sql.SQL("CREATE VIEW {} WITH (security_invoker = true) AS SELECT * FROM {}").format(
            view, table))
        cur.execute(sql.SQL("GRANT SELECT ON {} TO zhengtu_app").format(view))
        cur.execute(sql.SQL("ANALYZE {}").format(table))


def _catalogue(conn: psycopg2.extensions.connection, name: str, kind: str, fields: list[dict],
               path: Path | str, crs: str, count: int, rejected: int, options: LayerOptions) -> None:
    with conn.cursor() as cur:
        cur.execute(sql.SQL(CATALOGUE_UPSERT).format(table=sql.Identifier("user_layers", name)), {
            "name": name, "title": options.title or name, "title_en": name, "kind": kind,
            "scope": options.scope, "fields": json.dumps(fields, ensure_ascii=False),
            "file": Path(path).name, "crs": crs, "count": count, "rejected": rejected,
            "actor": options.actor})


def drop_layer_objects(cur: psycopg2.extensions.cursor, name: str) -> None:
    """Drop an imported layer's view and table (its catalogue row is left to the caller)."""
    cur.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(sql.Identifier(catalogue.view_name(name))))
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("user_layers", name)))


def drop_layer(conn: psycopg2.extensions.connection, name: str) -> bool:
    """Remove an imported layer entirely; True if it existed."""
    check_name(name)
    with conn, conn.cursor() as cur:
        drop_layer_objects(cur, name)
        cur.execute("DELETE FROM user_layers.catalogue WHERE name = %s", (name,))
        existed = cur.rowcount > 0
    catalogue.refresh(conn)
    conn.rollback()
    return existed

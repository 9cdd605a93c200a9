"""Export any registry layer (built-in or imported) to GeoPackage, GeoJSON, Shapefile, CSV or XLSX.

Rows come from the layer's source with the layer's declared fields, optionally inside a WGS 84
bbox; geometries are converted at the edge to the requested CRS (GCJ-02/BD-09 with ``geo/crs.py``,
an EPSG code with pyproj). GIS formats are written by pyogrio; CSV (UTF-8 with BOM, for Excel) and
XLSX (openpyxl) carry ``lon``/``lat`` columns for points and ``wkt`` otherwise. A GCJ-02/BD-09 file
is written without a CRS label: no EPSG code describes them, and a wrong label would be worse.
The column names are the registry's field ids, which ``zhengtu import entities`` maps back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg2.extensions
import shapely
from psycopg2 import sql

from data.imports.coords import from_wgs84_geometry, parse_crs
from geo.errors import BadRequest
from layers import catalogue
from layers.ogc import feature_key, parse_bbox
from layers.registry import Layer, get_layer

DRIVERS = {"gpkg": ("GPKG", ".gpkg"), "geojson": ("GeoJSON", ".geojson"), "shp": ("ESRI Shapefile", ".shp"),
           "csv": (None, ".csv"), "xlsx": (None, ".xlsx")}
EXCEL_MAX_ROWS = 1_048_575
ROWS_SQL = "SELECT {columns}, ST_AsBinary(s.geom) AS geom FROM {source} s WHERE {where} ORDER BY {order}"
BBOX_WHERE = ("s.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) AND "
              "ST_Intersects(s.geom, ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326))")


@dataclass(frozen=True)
class ExportOptions:
    """Format, optional bbox ``minx,miny,maxx,maxy`` (WGS 84), output CRS and path."""

    fmt: str
    bbox: str | None = None
    crs: str = "wgs84"
    output: str | Path | None = None


def read_layer(conn: psycopg2.extensions.connection, layer: Layer,
               bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """The layer's declared fields and WGS 84 geometry, ordered by its key."""
    where, params = sql.SQL("true"), {}
    if bbox is not None:
        where, params = sql.SQL(BBOX_WHERE), dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    query = sql.SQL(ROWS_SQL).format(
        columns=sql.SQL(", ").join(sql.Identifier("s", f) for f in layer.fields),
        source=sql.Identifier(layer.source), where=where,
        order=sql.SQL(", ").join(sql.Identifier("s", k) for k in feature_key(layer)))
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=list(layer.fields))
    geoms = shapely.from_wkb([bytes(r[-1]) for r in rows]) if rows else []
    for name, spec in layer.fields.items():
        if spec.type == "string":
            frame[name] = frame[name].map(lambda v: v.rstrip() if isinstance(v, str) else v)  # char(n)
        elif spec.type == "datetime":
            frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert("Asia/Shanghai")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms), crs="EPSG:4326")


def _table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Attributes plus lon/lat (points) or WKT (anything else) for CSV and XLSX."""
    table = pd.DataFrame(frame.drop(columns="geometry"))
    geoms = frame.geometry.values
    if len(frame) and bool(shapely.get_type_id(geoms).max() == 0):
        table["lon"], table["lat"] = shapely.get_x(geoms), shapely.get_y(geoms)
    else:
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=-1)
    for column in table.columns:
        if isinstance(table[column].dtype, pd.DatetimeTZDtype):
            table[column] = table[column].dt.strftime("%Y-%m-%d %H:%M:%S")
    return table


def shapefile_names(columns: list[str]) -> dict[str, str]:
    """dBASE allows 10-character field names: cut them here, as GDAL would, but unique and silently."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in columns:
        if name == "geometry":
            continue
        short, n = name[:10], 1
        while short in used:
            suffix = f"_{n}"
            short, n = name[:10 - len(suffix)] + suffix, n + 1
        used.add(short)
        if short != name:
            out[name] = short
    return out


def export_layer(conn: psycopg2.extensions.connection, layer_id: str,
                 options: ExportOptions) -> tuple[Path, int]:
    """Write the layer to ``options.output`` (default ``<layer>.<ext>``); return the path and count."""
    if options.fmt not in DRIVERS:
        raise BadRequest(f"不支持的格式 {options.fmt}；可用：{', '.join(DRIVERS)} / unsupported format")
    catalogue.refresh(conn)  # imported layers too
    layer = get_layer(layer_id)
    target = parse_crs(options.crs or "wgs84")
    frame = read_layer(conn, layer, parse_bbox(options.bbox) if options.bbox else None)
    conn.rollback()
    driver, suffix = DRIVERS[options.fmt]
    path = Path(options.output or f"{layer.id}{suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    moved = from_wgs84_geometry(frame.geometry.values, target)
    frame = frame.set_geometry(gpd.GeoSeries(moved, index=frame.index), crs=target.proj or (
        "EPSG:4326" if target.name == "wgs84" else None))
    if driver is not None:
        path.unlink(missing_ok=True)
        extra = {"encoding": "UTF-8"} if options.fmt == "shp" else {}
        if options.fmt == "shp":
            frame = frame.rename(columns=shapefile_names(list(frame.columns)))
        frame.to_file(path, driver=driver, layer=layer.id if options.fmt == "gpkg" else None, **extra)
    elif options.fmt == "csv":
        _table(frame).to_csv(path, index=False, encoding="utf-8-sig")
    else:
        if len(frame) > EXCEL_MAX_ROWS:
            raise BadRequest(f"Excel 最多 {EXCEL_MAX_ROWS} 行，请缩小范围或改用 CSV / too many rows for XLSX")
        _table(frame).to_excel(path, index=False, sheet_name=layer.id[:31], engine="openpyxl")
    return path, len(frame)

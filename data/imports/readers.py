"""Open a user's file as batches of text cells: CSV (pandas), XLSX (openpyxl), GIS files (pyogrio).

Spreadsheets exported by Chinese government systems are usually GBK/GB18030 without a BOM, newer
ones UTF-8 with or without a BOM; the encoding is detected from the bytes, never assumed. Every cell
arrives as text (``None`` when empty), so a leading zero or an 18-digit code is never turned into a
number; ``validate`` parses what must be numeric. GIS files (GeoJSON, GeoPackage, Shapefile, zipped
or not) bring their geometry and CRS (``.prj``); their attributes are read the same way.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import BadRequest

TABULAR = {".csv", ".txt", ".tsv"}
EXCEL = {".xlsx", ".xlsm"}
GIS = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb", ".gml", ".kml"}
SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class Batch:
    """A slice of the file: text cells, the row numbers users see, and point coordinates if any."""

    frame: pd.DataFrame
    rows: np.ndarray
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    geometry_problems: dict[int, str] | None = None  # position in batch -> reason


@dataclass(frozen=True)
class Source:
    """An opened file: its headers, its CRS if the file declares one, and a batch iterator."""

    path: Path
    headers: list[str]
    crs: str | None
    total: int | None
    batches: Callable[[int], Iterator[Batch]]
    has_geometry: bool = False


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` when the first megabyte decodes, else ``gb18030`` (⊃ GBK)."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return "gb18030"
    return "utf-8"


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as stripped text, empty cells as None."""
    out = frame.astype(object).where(frame.notna(), None)
    for column in out.columns:
        out[column] = [None if v is None or (s := str(v).strip()) == "" else s for v in out[column]]
    return out


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


def _csv_source(path: Path) -> Source:
    encoding = detect_encoding(path)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    options = {"encoding": encoding, "dtype": str, "keep_default_na": False, "sep": sep}
    try:
        headers = [str(h).strip() for h in pd.read_csv(path, nrows=0, **options).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadRequest(f"无法读取 CSV 文件：{exc} / cannot read the CSV file") from None

    def batches(size: int) -> Iterator[Batch]:
        start = 0
        for chunk in pd.read_csv(path, chunksize=size, **options):
            chunk.columns = headers
            n = len(chunk)
            yield Batch(_text(chunk), np.arange(start + 2, start + 2 + n))  # header is row 1
            start += n

    return Source(path, headers, None, _count_lines(path), batches)


def _excel_source(path: Path) -> Source:
    try:
        frame = pd.read_excel(path, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise BadRequest(f"无法读取 Excel 文件：{exc} / cannot read the workbook") from None
    frame.columns = [str(h).strip() for h in frame.columns]
    text = _text(frame)

    def batches(size: int) -> Iterator[Batch]:
        for start in range(0, len(text), size):
            part = text.iloc[start:start + size].reset_index(drop=True)
            yield Batch(part, np.arange(start + 2, start + 2 + len(part)))

    return Source(path, list(frame.columns), None, len(text), batches)


def read_gis(path: Path) -> tuple[pd.DataFrame, np.ndarray, str | None]:
    """Attributes, shapely geometries and the declared CRS (``EPSG:n`` or WKT) of a GIS file."""
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        raise BadRequest(f"无法读取地理数据文件：{exc} / cannot read the GIS file") from None
    crs = None
    if frame.crs is not None:
        epsg = frame.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else frame.crs.to_wkt()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return attributes, geoms, crs


def _gis_source(path: Path) -> Source:
    attributes, geoms, crs = read_gis(path)
    attributes.columns = [str(c).strip() for c in attributes.columns]
    text = _text(attributes)

    def batches(size: int) -> Iterator[Batch]:
        for start in range(0, len(text), size):
            part = text.iloc[start:start + size].reset_index(drop=True)
            x, y, problems = point_coordinates(geoms[start:start + size])
            yield Batch(part, np.arange(start + 1, start + 1 + len(part)), x, y, problems)

    return Source(path, list(text.columns), crs, len(text), batches, has_geometry=True)


def point_coordinates(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """x/y of point geometries; NaN and a reason for missing or non-point ones."""
    n = len(geoms)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    problems: dict[int, str] = {}
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue  # no geometry: the coordinate columns may still carry the location
        if shapely.get_type_id(geom) == 4 and shapely.get_num_geometries(geom) == 1:
            geom = shapely.get_geometry(geom, 0)  # a MultiPoint of one point is a point
        if shapely.get_type_id(geom) != 0:
            problems[i] = f"几何类型应为点（实际为 {geom.geom_type}）/ geometry must be a point"
            continue
        x[i], y[i] = shapely.get_x(geom), shapely.get_y(geom)
    return x, y, problems


def open_source(path: Path | str) -> Source:
    """Open ``path`` by its suffix; BadRequest for an unknown kind or an unreadable file."""
    target = Path(path)
    if not target.is_file():
        raise BadRequest(f"文件不存在：{target} / file not found")
    suffix = target.suffix.lower()
    if suffix in TABULAR:
        return _csv_source(target)
    if suffix in EXCEL:
        return _excel_source(target)
    if suffix in GIS:
        return _gis_source(target)
    known = " ".join(sorted(TABULAR | EXCEL | GIS))
    raise BadRequest(f"不支持的文件类型 {suffix or '(无后缀)'}；支持：{known} / unsupported file type")

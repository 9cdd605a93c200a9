"""Coordinates to WGS 84: GCJ-02/BD-09 with the project's own transforms, anything else with pyproj.

CGCS2000 (EPSG:4490) is taken as WGS 84 (centimetres apart), as everywhere in the product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
from pyproj.exceptions import CRSError

from geo import crs as chinese
from geo.errors import BadRequest

NAMED = {"wgs84": "wgs84", "cgcs2000": "wgs84", "epsg:4326": "wgs84", "epsg:4490": "wgs84",
         "gcj02": "gcj02", "bd09": "bd09"}
EPSG = re.compile(r"^epsg:\d{4,6}$")
CHOICES = "wgs84|cgcs2000|gcj02|bd09|EPSG:NNNN"


@dataclass(frozen=True)
class SourceCrs:
    """A validated input CRS: one of the named Chinese systems, or a pyproj CRS."""

    name: str  # "wgs84" | "gcj02" | "bd09" | "EPSG:4547" | "wkt"
    proj: pyproj.CRS | None = None

    @property
    def geographic(self) -> bool:
        """Whether coordinates are degrees (only then can longitude and latitude be swapped)."""
        return self.proj is None or self.proj.is_geographic


@lru_cache(maxsize=32)
def parse_crs(text: str) -> SourceCrs:
    """``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``, ``EPSG:NNNN`` or a WKT from a ``.prj``."""
    key = text.strip().lower()
    if key in NAMED:
        return SourceCrs(NAMED[key])
    if not EPSG.match(key) and not key.startswith(("projcs", "geogcs", "projcrs", "geogcrs")):
        raise BadRequest(f"坐标系 {text!r} 无效，应为 {CHOICES} / unknown CRS")
    try:
        proj = pyproj.CRS.from_user_input(text.strip())
    except CRSError:
        raise BadRequest(f"无法识别的坐标系 {text!r} / unknown CRS") from None
    if proj.to_epsg() in (4326, 4490):
        return SourceCrs("wgs84")
    return SourceCrs(f"EPSG:{proj.to_epsg()}" if proj.to_epsg() else "wkt", proj)


@lru_cache(maxsize=32)
def _transformer(proj: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(proj, 4326, always_xy=True)


def to_wgs84(x: np.ndarray, y: np.ndarray, source: SourceCrs) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of coordinates in ``source`` as WGS 84 longitude/latitude (NaN stays NaN)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if source.proj is not None:
        lon, lat = _transformer(source.proj).transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    lon, lat = chinese.to_wgs84(x, y, source.name)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def geometry_to_wgs84(geoms: np.ndarray, source: SourceCrs) -> np.ndarray:
    """Shapely geometries in ``source`` reprojected vertex by vertex to WGS 84."""
    if source.name == "wgs84":
        return geoms
    return chinese.transform_geometry(geoms, lambda x, y: to_wgs84(x, y, source))


def from_wgs84_geometry(geoms: np.ndarray, target: SourceCrs) -> np.ndarray:
    """WGS 84 geometries in ``target`` (GCJ-02/BD-09 by the project's transforms, else pyproj)."""
    if target.name == "wgs84":
        return geoms
    if target.proj is None:
        return chinese.transform_geometry(geoms, lambda x, y: chinese.from_wgs84(x, y, target.name))
    back = pyproj.Transformer.from_crs(4326, target.proj, always_xy=True)
    return chinese.transform_geometry(geoms, lambda x, y: back.transform(x, y))

"""Conversions between the three coordinate systems found in Chinese GIS data.

Field GPS and cadastral data arrive in WGS 84 / CGCS2000, while the base maps
and geocoders we must overlay them on (Amap, Tencent, Baidu) use the
deliberately offset GCJ-02 and BD-09 systems.  Mixing them silently shifts
features by 300-700 m, which is enough to put a building on the wrong parcel,
so every boundary and point must be converted explicitly before comparison.

CGCS2000 (EPSG:4490) differs from WGS 84 by centimetres, far below the
accuracy of any data this system handles, so it is treated as identical.

All public functions accept Python floats (returning a tuple of floats) or
numpy arrays of matching (broadcastable) shape (returning a tuple of arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

__all__ = [
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84",
    "from_wgs84",
    "transform_geometry",
]

# Krasovsky 1940 ellipsoid parameters used by the public GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# Rough bounding box outside which GCJ-02 applies no offset.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

_MAX_ITER = 30
_TOL_DEG = 1e-9

Coord = Any  # float or numpy array; kept loose because both are first-class.
Pair = tuple[Coord, Coord]


def _prepare(lon: Coord, lat: Coord) -> tuple[np.ndarray, np.ndarray, bool]:
    """Broadcast inputs to float64 arrays and remember whether both were scalar."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x, y, scalar


def _finish(x: np.ndarray, y: np.ndarray, scalar: bool) -> Pair:
    """Return plain floats for scalar callers so they never see 0-d arrays."""
    if scalar:
        return float(x), float(y)
    return x, y


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < _LON_MIN) | (lon > _LON_MAX) | (lat < _LAT_MIN) | (lat > _LAT_MAX)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
    ret += 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
    ret += 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Array-only GCJ-02 forward transform (the public algorithm, unchanged)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_inverse(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _wgs_to_bd_arrays(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _bd_forward(*_gcj_forward(lon, lat))


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    target_x: np.ndarray,
    target_y: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == target`` by fixed-point residual correction.

    The offsets are smooth and tiny relative to the coordinates (their
    Jacobian is close to the identity), so subtracting the residual
    converges in a handful of steps.  Each point is frozen once its own
    residual is below tolerance, so a result never depends on which other
    points were converted in the same call (scalar and array calls agree).
    NaN residuals count as converged so a bad vertex cannot force all 30
    iterations.
    """
    active = np.ones(np.shape(x), dtype=bool)
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        rx = np.where(active, fx - target_x, 0.0)
        ry = np.where(active, fy - target_y, 0.0)
        x, y = x - rx, y - ry
        active &= (np.abs(rx) >= _TOL_DEG) | (np.abs(ry) >= _TOL_DEG)
        if not active.any():
            break
    return x, y


def wgs84_to_gcj02(lon: Coord, lat: Coord) -> Pair:
    """Offset WGS 84 / CGCS2000 coordinates into GCJ-02 (Amap, Tencent).

    Needed before overlaying our own survey data on Amap or Tencent tiles,
    or before sending points to their geocoding APIs.  Points outside the
    rough China bounding box are returned unchanged, as the providers do.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        WGS 84 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, floats for scalar input, arrays otherwise.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_forward(x, y), scalar)


def gcj02_to_wgs84(lon: Coord, lat: Coord) -> Pair:
    """Remove the GCJ-02 offset, returning WGS 84 coordinates.

    There is no closed-form inverse, and the common one-step approximation
    leaves errors of a metre or more, so the forward transform is inverted
    iteratively until the residual is below 1e-9 degrees (about 0.1 mm) or
    30 iterations have run.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS 84, floats for scalar input, arrays otherwise.
    """
    gx, gy, scalar = _prepare(lon, lat)
    fx, fy = _gcj_forward(gx, gy)
    x, y = _invert(_gcj_forward, gx, gy, gx - (fx - gx), gy - (fy - gy))
    return _finish(x, y, scalar)


def gcj02_to_bd09(lon: Coord, lat: Coord) -> Pair:
    """Apply Baidu's additional BD-09 offset on top of GCJ-02.

    Baidu maps and its geocoder use BD-09; this is the standard public
    formula.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09, floats for scalar input, arrays otherwise.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_bd_forward(x, y), scalar)


def bd09_to_gcj02(lon: Coord, lat: Coord) -> Pair:
    """Remove Baidu's BD-09 offset using the standard analytic inverse.

    This is the widely used closed-form formula, kept for compatibility with
    other tools that produce GCJ-02 from Baidu data.  It is not an exact
    inverse of :func:`gcj02_to_bd09` (the residual reaches about 0.1 m),
    which is why :func:`bd09_to_wgs84` refines its result iteratively.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02, floats for scalar input, arrays otherwise.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_bd_inverse(x, y), scalar)


def wgs84_to_bd09(lon: Coord, lat: Coord) -> Pair:
    """Convert WGS 84 coordinates to Baidu's BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        WGS 84 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09, floats for scalar input, arrays otherwise.
    """
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_wgs_to_bd_arrays(x, y), scalar)


def bd09_to_wgs84(lon: Coord, lat: Coord) -> Pair:
    """Convert Baidu BD-09 coordinates to WGS 84 with sub-millimetre residual.

    Chaining the analytic BD-09 inverse with the GCJ-02 inverse accumulates
    decimetre-level error, so that chain is only the starting guess; the
    combined forward transform is then inverted iteratively.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS 84, floats for scalar input, arrays otherwise.
    """
    bx, by, scalar = _prepare(lon, lat)
    x0, y0 = gcj02_to_wgs84(*_bd_inverse(bx, by))
    x, y = _invert(_wgs_to_bd_arrays, bx, by, np.asarray(x0), np.asarray(y0))
    return _finish(x, y, scalar)


_WGS_ALIASES = {"wgs84", "cgcs2000", "epsg:4326", "epsg:4490"}
_ACCEPTED = "'wgs84', 'cgcs2000', 'gcj02', 'bd09', 'EPSG:4326', 'EPSG:4490'"


def _normalise_crs(crs: str) -> str:
    """Map user-supplied CRS names to 'wgs84', 'gcj02' or 'bd09'."""
    key = str(crs).strip().lower()
    if key in _WGS_ALIASES:
        return "wgs84"
    if key in {"gcj02", "bd09"}:
        return key
    raise ValueError(f"Unknown CRS {crs!r}; accepted values are {_ACCEPTED}")


def to_wgs84(lon: Coord, lat: Coord, crs: str) -> Pair:
    """Convert coordinates from a named Chinese CRS to WGS 84.

    Lets import code store each source's CRS as a string (from metadata or a
    form field) and normalise everything with one call.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        Coordinates in degrees in ``crs``.
    crs : str
        One of ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09`` (case-insensitive),
        ``EPSG:4326`` or ``EPSG:4490``.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS 84.

    Raises
    ------
    ValueError
        If ``crs`` is not one of the accepted names.
    """
    kind = _normalise_crs(crs)
    if kind == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if kind == "bd09":
        return bd09_to_wgs84(lon, lat)
    x, y, scalar = _prepare(lon, lat)
    return _finish(x.copy(), y.copy(), scalar)


def from_wgs84(lon: Coord, lat: Coord, crs: str) -> Pair:
    """Convert WGS 84 coordinates to a named Chinese CRS.

    The counterpart of :func:`to_wgs84`, used when exporting to a base map
    or geocoder that expects GCJ-02 or BD-09.

    Parameters
    ----------
    lon, lat : float or numpy.ndarray
        WGS 84 coordinates in degrees.
    crs : str
        Target CRS; same accepted names as :func:`to_wgs84`.

    Returns
    -------
    tuple
        ``(lon, lat)`` in ``crs``.

    Raises
    ------
    ValueError
        If ``crs`` is not one of the accepted names.
    """
    kind = _normalise_crs(crs)
    if kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    x, y, scalar = _prepare(lon, lat)
    return _finish(x.copy(), y.copy(), scalar)


def transform_geometry(geom: Any, func: Callable[[Coord, Coord], Pair]) -> Any:
    """Apply a ``(lon, lat) -> (lon, lat)`` conversion to every vertex.

    Converting boundary polygons vertex by vertex in Python is slow for
    village-level boundaries with tens of thousands of vertices; this hands
    all coordinates to ``func`` as one array via ``shapely.transform``.
    Z values, if present, are preserved untouched.

    Parameters
    ----------
    geom : shapely.Geometry or array_like of Geometry
        Geometry (or array of geometries) in the source CRS.
    func : callable
        One of this module's converters, or e.g.
        ``functools.partial(to_wgs84, crs="gcj02")``.

    Returns
    -------
    shapely.Geometry or numpy.ndarray
        New geometry with the same structure and vertex count.
    """

    def _apply(coords: np.ndarray) -> np.ndarray:
        out = np.array(coords, dtype=np.float64, copy=True)
        lon, lat = func(out[:, 0], out[:, 1])
        out[:, 0] = lon
        out[:, 1] = lat
        return out

    return shapely.transform(geom, _apply, include_z=None)

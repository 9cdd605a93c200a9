"""Tests for geo.crs: a wrong offset here misplaces every feature on the map."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon

from geo import crs

GEOD = Geod(ellps="WGS84")

# Guangdong bounding box from the spec.
GD_LON = (109.6, 117.4)
GD_LAT = (20.2, 25.6)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres, element-wise."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist)


@pytest.fixture(scope="module")
def gd_grid() -> tuple[np.ndarray, np.ndarray]:
    """A 100 x 100 (10,000 point) grid over Guangdong, kept 2-D on purpose."""
    lon, lat = np.meshgrid(np.linspace(*GD_LON, 100), np.linspace(*GD_LAT, 100))
    return lon, lat


# ---------------------------------------------------------------------------
# Independent pure-Python reference implementation, written from the public
# algorithm description, to catch transcription errors in the numpy version.
# ---------------------------------------------------------------------------


def _ref_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    a, ee, pi = 6378245.0, 0.00669342162296594323, math.pi
    if lon < 72.004 or lon > 137.8347 or lat < 0.8293 or lat > 55.8271:
        return lon, lat
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * pi) + 320 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1 - ee * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (a / sqrtmagic * math.cos(radlat) * pi)
    return lon + dlon, lat + dlat


def _ref_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _ref_bd_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    x_pi = math.pi * 3000.0 / 180.0
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * x_pi)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * x_pi)
    return z * math.cos(theta), z * math.sin(theta)


REF_POINTS = [
    (116.391349, 39.907375),  # Tiananmen, Beijing
    (113.264385, 23.129112),  # Guangzhou
    (114.057868, 22.543099),  # Shenzhen
    (121.473701, 31.230416),  # Shanghai
    (87.617733, 43.792818),  # Urumqi
    (110.33119, 20.031971),  # Haikou
]


# ---------------------------------------------------------------------------
# Known values and formula agreement
# ---------------------------------------------------------------------------


def test_tiananmen_reference_value():
    lon, lat = crs.wgs84_to_gcj02(116.391349, 39.907375)
    assert lon == pytest.approx(116.397590, abs=2e-6)
    assert lat == pytest.approx(39.908777, abs=2e-6)


@pytest.mark.parametrize(("lon", "lat"), REF_POINTS)
def test_matches_reference_formulas(lon, lat):
    gcj = crs.wgs84_to_gcj02(lon, lat)
    assert gcj == pytest.approx(_ref_wgs_to_gcj(lon, lat), abs=1e-12)
    bd = crs.gcj02_to_bd09(*gcj)
    assert bd == pytest.approx(_ref_gcj_to_bd(*gcj), abs=1e-12)
    assert crs.bd09_to_gcj02(*bd) == pytest.approx(_ref_bd_to_gcj(*bd), abs=1e-12)
    assert crs.wgs84_to_bd09(lon, lat) == pytest.approx(bd, abs=1e-12)


def test_guangdong_offset_magnitude(gd_grid):
    lon, lat = gd_grid
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    dist = metres(lon, lat, glon, glat)
    assert dist.min() > 100.0
    assert dist.max() < 700.0
    # Guangzhou specifically is shifted ~620 m, mostly east-west.
    g = crs.wgs84_to_gcj02(113.264385, 23.129112)
    assert 500.0 < metres(113.264385, 23.129112, *g) < 700.0
    assert abs(g[0] - 113.264385) > abs(g[1] - 23.129112)
    assert g[0] > 113.264385


def test_bd09_adds_further_offset(gd_grid):
    lon, lat = gd_grid
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    blon, blat = crs.gcj02_to_bd09(glon, glat)
    dist = metres(glon, glat, blon, blat)
    assert dist.min() > 500.0 and dist.max() < 1000.0


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


def test_round_trip_wgs_gcj_grid(gd_grid):
    lon, lat = gd_grid
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert back[0].shape == lon.shape
    err = metres(lon, lat, *back)
    assert err.max() < 0.5
    assert err.max() < 1e-3  # "far better" than 0.5 m: sub-millimetre


def test_round_trip_wgs_bd_grid(gd_grid):
    lon, lat = gd_grid
    back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert back[0].shape == lon.shape
    err = metres(lon, lat, *back)
    assert err.max() < 0.5
    assert err.max() < 1e-3


def test_inverse_from_gcj_side(gd_grid):
    """Starting from GCJ-02 coordinates (e.g. clicked on Amap) must also invert."""
    glon, glat = gd_grid
    wlon, wlat = crs.gcj02_to_wgs84(glon, glat)
    again = crs.wgs84_to_gcj02(wlon, wlat)
    assert metres(glon, glat, *again).max() < 1e-3


@pytest.mark.parametrize(("lon", "lat"), REF_POINTS)
def test_round_trip_scalar(lon, lat):
    g = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    b = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    for out in (g, b):
        assert isinstance(out, tuple) and len(out) == 2
        assert all(type(v) is float for v in out)
        assert metres(lon, lat, *out) < 0.5


# ---------------------------------------------------------------------------
# Outside China, scalar/vector agreement, shapes
# ---------------------------------------------------------------------------

OUTSIDE = [
    (-0.1276, 51.5072),  # London
    (151.2093, -33.8688),  # Sydney
    (71.9, 30.0),  # just west of the box
    (138.0, 35.0),  # Tokyo-ish, east of the box
    (100.0, 0.5),  # south of the box
    (100.0, 56.0),  # north of the box
]


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE)
@pytest.mark.parametrize(
    "func",
    [crs.wgs84_to_gcj02, crs.gcj02_to_wgs84],
)
def test_outside_china_is_identity(func, lon, lat):
    assert func(lon, lat) == (lon, lat)


def test_outside_china_vectorised_mixed():
    pts = np.array(OUTSIDE + REF_POINTS)
    lon, lat = pts[:, 0], pts[:, 1]
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    n_out = len(OUTSIDE)
    np.testing.assert_array_equal(glon[:n_out], lon[:n_out])
    np.testing.assert_array_equal(glat[:n_out], lat[:n_out])
    assert np.all(metres(lon[n_out:], lat[n_out:], glon[n_out:], glat[n_out:]) > 100)
    wlon, wlat = crs.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(wlon[:n_out], lon[:n_out])


ALL_FUNCS = [
    crs.wgs84_to_gcj02,
    crs.gcj02_to_wgs84,
    crs.gcj02_to_bd09,
    crs.bd09_to_gcj02,
    crs.wgs84_to_bd09,
    crs.bd09_to_wgs84,
]


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_scalar_matches_vectorised(func):
    rng = np.random.default_rng(42)
    lon = rng.uniform(*GD_LON, 50)
    lat = rng.uniform(*GD_LAT, 50)
    vlon, vlat = func(lon, lat)
    slon, slat = np.array([func(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]).T
    # 1e-12 deg is ~0.1 micrometre: numpy may pick SIMD vs scalar libm paths,
    # so the last bit is not guaranteed, but anything real would be far larger.
    np.testing.assert_allclose(vlon, slon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(vlat, slat, rtol=0, atol=1e-12)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_array_shapes_preserved(func):
    lon = np.full((3, 4, 2), 113.3)
    lat = np.full((3, 4, 2), 23.1)
    out = func(lon, lat)
    assert isinstance(out, tuple)
    assert out[0].shape == (3, 4, 2) and out[1].shape == (3, 4, 2)
    # Inputs must not be modified in place.
    assert np.all(lon == 113.3) and np.all(lat == 23.1)


# ---------------------------------------------------------------------------
# Dispatch by CRS name
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["wgs84", "WGS84", "cgcs2000", "CGCS2000", "EPSG:4326", "epsg:4490", "EPSG:4490"]
)
def test_wgs_aliases_are_identity(name):
    assert crs.to_wgs84(113.3, 23.1, name) == (113.3, 23.1)
    assert crs.from_wgs84(113.3, 23.1, name) == (113.3, 23.1)
    lon, lat = np.array([113.3, 114.0]), np.array([23.1, 22.5])
    out = crs.to_wgs84(lon, lat, name)
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(out[1], lat)


@pytest.mark.parametrize(
    ("name", "to_func", "from_func"),
    [
        ("gcj02", crs.gcj02_to_wgs84, crs.wgs84_to_gcj02),
        ("GCJ02", crs.gcj02_to_wgs84, crs.wgs84_to_gcj02),
        ("bd09", crs.bd09_to_wgs84, crs.wgs84_to_bd09),
        ("BD09", crs.bd09_to_wgs84, crs.wgs84_to_bd09),
    ],
)
def test_dispatch(name, to_func, from_func):
    lon, lat = 113.264385, 23.129112
    assert crs.to_wgs84(lon, lat, name) == to_func(lon, lat)
    assert crs.from_wgs84(lon, lat, name) == from_func(lon, lat)
    assert crs.from_wgs84(lon, lat, name) != (lon, lat)


@pytest.mark.parametrize("bad", ["mercator", "EPSG:3857", ""])
def test_unknown_crs_raises(bad):
    with pytest.raises(ValueError, match="gcj02") as info:
        crs.to_wgs84(113.3, 23.1, bad)
    assert "bd09" in str(info.value) and "cgcs2000" in str(info.value)
    with pytest.raises(ValueError, match="accepted"):
        crs.from_wgs84(113.3, 23.1, bad)


# ---------------------------------------------------------------------------
# Geometry transform
# ---------------------------------------------------------------------------


def _square(x0: float, y0: float, size: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)]


def _assert_moved_like_points(before, after, func):
    src = shapely.get_coordinates(before)
    dst = shapely.get_coordinates(after)
    assert src.shape == dst.shape
    elon, elat = func(src[:, 0], src[:, 1])
    np.testing.assert_allclose(dst[:, 0], elon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dst[:, 1], elat, rtol=0, atol=1e-12)
    dist = metres(src[:, 0], src[:, 1], dst[:, 0], dst[:, 1])
    assert np.all((dist > 100) & (dist < 700))


def test_transform_polygon_with_hole():
    poly = Polygon(_square(113.2, 23.0, 0.2), holes=[_square(113.25, 23.05, 0.05)])
    out = crs.transform_geometry(poly, crs.wgs84_to_gcj02)
    assert out.geom_type == "Polygon"
    assert out.is_valid
    assert len(out.interiors) == 1
    assert shapely.get_num_coordinates(out) == shapely.get_num_coordinates(poly)
    _assert_moved_like_points(poly, out, crs.wgs84_to_gcj02)
    back = crs.transform_geometry(out, crs.gcj02_to_wgs84)
    np.testing.assert_allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(poly), rtol=0, atol=1e-9
    )


def test_transform_multipolygon():
    mp = MultiPolygon([Polygon(_square(113.2, 23.0, 0.1)), Polygon(_square(114.0, 22.5, 0.05))])
    out = crs.transform_geometry(mp, crs.wgs84_to_gcj02)
    assert out.geom_type == "MultiPolygon"
    assert out.is_valid
    assert len(out.geoms) == 2
    assert shapely.get_num_coordinates(out) == shapely.get_num_coordinates(mp)
    _assert_moved_like_points(mp, out, crs.wgs84_to_gcj02)


def test_transform_geometry_with_partial_dispatch():
    poly = Polygon(_square(113.2, 23.0, 0.1))
    func = functools.partial(crs.from_wgs84, crs="bd09")
    out = crs.transform_geometry(poly, func)
    expected = crs.transform_geometry(poly, crs.wgs84_to_bd09)
    assert shapely.equals_exact(out, expected, tolerance=0)


def test_transform_geometry_keeps_z():
    line = shapely.LineString([(113.2, 23.0, 5.0), (113.3, 23.1, 7.5)])
    out = crs.transform_geometry(line, crs.wgs84_to_gcj02)
    assert out.has_z
    coords = shapely.get_coordinates(out, include_z=True)
    np.testing.assert_array_equal(coords[:, 2], [5.0, 7.5])

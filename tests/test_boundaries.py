"""Real Guangdong boundaries: counts, validity, index, hierarchy and the GCJ-02 → WGS 84 shift."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from data.boundaries import list_areas
from geo.crs import gcj02_to_wgs84
from geo.errors import BadRequest


def scalar(conn, query, params=()):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


def test_counts_per_level(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT level, count(*) FROM admin_areas WHERE province_adcode = '440000' "
                    "GROUP BY level")
        assert dict(cur.fetchall()) == {"province": 1, "city": 21, "district": 124}


def test_all_geometries_valid_and_indexed(conn):
    assert scalar(conn, "SELECT bool_and(ST_IsValid(geom)) FROM admin_areas") is True
    assert scalar(conn, "SELECT count(*) FROM pg_indexes WHERE tablename = 'admin_areas' "
                        "AND indexdef ILIKE '%%USING gist%%'") == 1


def test_hierarchy(conn):
    orphans = scalar(conn, """
        SELECT count(*) FROM admin_areas d
        WHERE d.level = 'district' AND NOT EXISTS (
            SELECT 1 FROM admin_areas p WHERE p.adcode = d.parent_adcode AND p.level = 'city')""")
    assert orphans == 0
    assert scalar(conn, "SELECT count(DISTINCT parent_adcode) FROM admin_areas "
                        "WHERE level = 'city'") == 1
    assert scalar(conn, "SELECT name FROM admin_areas WHERE adcode = '440106'") == "天河区"


def test_areas_add_up(conn):
    # districts tile the province: their areas sum to the province's within 1 %
    province = scalar(conn, "SELECT area_km2 FROM admin_areas WHERE level = 'province'")
    districts = scalar(conn, "SELECT sum(area_km2) FROM admin_areas WHERE level = 'district'")
    assert province == pytest.approx(districts, rel=0.01)
    assert 170_000 < province < 190_000  # Guangdong is about 179,800 km²


def test_stored_geometry_is_wgs84_not_gcj02(conn):
    raw = next(a for a in list_areas("44") if a.adcode == "440106")
    gcj = shapely.get_coordinates(shapely.from_geojson(raw.path.read_text("utf-8")))
    wkb = scalar(conn, "SELECT ST_AsBinary(geom) FROM admin_areas WHERE adcode = '440106'")
    stored = shapely.from_wkb(bytes(wkb))
    expected_lon, expected_lat = gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    geod = Geod(ellps="WGS84")
    # every converted vertex lies on the stored boundary, and the raw GCJ-02 ones do not
    on_boundary = shapely.distance(stored.boundary, shapely.points(expected_lon, expected_lat))
    assert float(np.max(on_boundary)) < 1e-7
    _, _, shift = geod.inv(gcj[:, 0], gcj[:, 1], expected_lon, expected_lat)
    assert 400 < float(np.median(shift)) < 700


def test_unknown_province_is_a_clear_error():
    with pytest.raises(BadRequest, match="没有省级代码 99"):
        list_areas("99")
    with pytest.raises(BadRequest, match="代码无效"):
        list_areas("x")


def test_another_province_lists_its_areas():
    areas = list_areas("46")  # Hainan: counties directly under the province too
    assert any(a.level == "province" and a.adcode == "460000" for a in areas)
    assert sum(a.level == "city" for a in areas) >= 4

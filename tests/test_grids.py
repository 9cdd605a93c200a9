"""Unit grids (单元网格): generated for the demo city, coded by district, every event and entity in its cell."""

from __future__ import annotations

import pytest

from cityops import grids
from tests.conftest import bearer
from tests.helpers import one


def test_the_demo_city_is_covered_by_cells_of_its_districts(db_url):
    spec = one(db_url, "SELECT row_to_json(s) FROM grid_specs s WHERE city_adcode = '440100'")
    assert spec["srid"] == 4547 and spec["size_m"] == 100
    districts = one(db_url, "SELECT count(DISTINCT district_adcode) FROM unit_grids")
    assert districts == one(db_url, "SELECT count(*) FROM admin_areas WHERE level = 'district' "
                                    "AND adcode LIKE '4401%%'")
    # cells tile each district: their areas add up to the district's (within 0.1 %)
    ratio = one(db_url, "SELECT sum(g.area_m2) / 1e6 / max(a.area_km2) FROM unit_grids g JOIN admin_areas a "
                        "ON a.level = 'district' AND a.adcode = g.district_adcode WHERE g.district_adcode = '440104'")
    assert ratio == pytest.approx(1, abs=0.001)
    assert one(db_url, "SELECT max(area_m2) FROM unit_grids") == pytest.approx(10_000, rel=1e-6)
    assert one(db_url, "SELECT bool_and(code ~ ('^' || district_adcode || '[0-9]{8}$')) FROM unit_grids")


def test_every_guangzhou_entity_event_and_sensor_is_in_its_cell(db_url):
    for table in ("entities", "city_events", "sensors"):
        missing = one(db_url, f"SELECT count(*) FROM {table} WHERE district_adcode LIKE '4401%%' "
                              "AND grid_code IS NULL")
        assert missing == 0, table
        wrong = one(db_url, f"SELECT count(*) FROM {table} t JOIN unit_grids g ON g.code = t.grid_code "
                            "WHERE NOT ST_DWithin(g.geom, t.geom, 1e-7)")
        assert wrong == 0, table
    # outside the demo city there is no grid
    assert one(db_url, "SELECT count(*) FROM entities WHERE district_adcode LIKE '4403%%' "
                       "AND grid_code IS NOT NULL") == 0


def test_the_cell_code_is_arithmetic_and_matches_the_polygon(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT zt_grid_code('440106', ST_SetSRID(ST_MakePoint(113.33, 23.135), 4326))")
        code = cur.fetchone()[0]
        cur.execute("SELECT code FROM unit_grids "
                    "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(113.33, 23.135), 4326))")
        assert cur.fetchone()[0] == code


def test_generate_refuses_bad_input(conn):
    with pytest.raises(ValueError, match="城市代码"):
        grids.generate_grids(conn, "44x1")
    with pytest.raises(ValueError, match="网格边长"):
        grids.generate_grids(conn, "4401", size_m=1)
    assert grids.gk_srid(113.3) == 4547 and grids.gk_srid(110.4) == 4546


def test_regenerating_another_city_at_another_size(conn):
    result = grids.generate_grids(conn, "4406", size_m=1000)  # 佛山, 1 km: small and quick
    assert result["cells"] > 3000 and result["srid"] == 4547
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM unit_grids WHERE district_adcode LIKE '4401%'")
        assert cur.fetchone()[0] > 700_000  # Guangzhou's grid is untouched
        cur.execute("SELECT count(*) FROM entities WHERE district_adcode LIKE '4406%' AND grid_code IS NULL")
        assert cur.fetchone()[0] == 0
    conn.rollback()


def test_unit_grid_and_sensor_layers_are_served(client, tokens):
    from layers.tiles import tile_for

    t = tile_for(113.33, 23.135, 14)
    headers = bearer(tokens, "t_operator_gz")
    assert client.get(f"/tiles/unit_grids/{t.z}/{t.x}/{t.y}.mvt", headers=headers).status_code == 200
    t = tile_for(113.33, 23.135, 8)
    assert client.get(f"/tiles/sensors/{t.z}/{t.x}/{t.y}.mvt", headers=headers).status_code == 200
    assert client.get(f"/tiles/events/{t.z}/{t.x}/{t.y}.mvt?overdue=yes&category=04",
                      headers=headers).status_code in (200, 204)

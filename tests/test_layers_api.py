"""Layer registry at work: tile filters, GCJ-02 overlays, selection, search, choropleth, export."""

from __future__ import annotations

import io
import json
import math

import mapbox_vector_tile
import numpy as np
import pytest
from openpyxl import load_workbook

from geo.crs import wgs84_to_gcj02
from geo.db import Database
from geo.errors import BadRequest
from layers.choropleth import choropleth
from layers.export import to_csv, to_xlsx
from layers.registry import LAYERS
from layers.search import search_entities
from layers.select import parse_area, select
from layers.tiles import tile_for
from tests.helpers import SQUARE_TIANHE, entity_in, one


@pytest.fixture
def admin(app, tokens):
    c = app.server.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['t_admin_gd']}"
    return c


@pytest.fixture(scope="module")
def app_db(db_url):
    database = Database(db_url)
    yield database
    database.close()


def features(response, layer):
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    if response.status_code == 204:
        return []
    return mapbox_vector_tile.decode(response.data).get(layer, {}).get("features", [])


def pixel_to_lonlat(tile, px, py, extent=4096):
    n = 2 ** tile.z
    lon = (tile.x + px / extent) / n * 360 - 180
    merc_y = (tile.y + (extent - py) / extent) / n  # mapbox-vector-tile flips y to bottom-up
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * merc_y))))
    return lon, lat


def test_street_tile_filter_by_category(admin):
    t = tile_for(113.33, 23.13, 13)
    feats = features(admin.get(f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt?category=food,drugs"), "entities")
    assert feats and {f["properties"]["category"] for f in feats} <= {"food", "drugs"}


def test_aggregated_tile_honours_filters(admin, db_url):
    counted = sum(f["properties"]["count"] for f in
                  features(admin.get("/tiles/entities/0/0/0.mvt?risk_class=D&district=4401"), "entities"))
    assert counted == one(db_url, "SELECT count(*) FROM entities WHERE risk_class = 'D' "
                                  "AND district_adcode LIKE '4401%%'") > 0


@pytest.mark.parametrize("query, fragment", [
    ("colour=red", "不支持筛选字段"), ("category=pizza", "取值无效"), ("district=4", "行政区划代码"),
    ("crs=bd09", "crs 只能是"),
])
def test_bad_filters_are_400(admin, query, fragment):
    response = admin.get(f"/tiles/entities/10/834/444.mvt?{query}")
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]


def test_cluster_layer_counts_at_low_zoom_and_points_at_street_zoom(admin, db_url):
    low = features(admin.get("/tiles/events/0/0/0.mvt"), "events")
    assert sum(f["properties"]["count"] for f in low) == one(db_url, "SELECT count(*) FROM city_events")
    lon, lat = (one(db_url, f"SELECT ST_{c}(geom) FROM city_events ORDER BY id LIMIT 1") for c in "XY")
    t = tile_for(lon, lat, 15)
    street = features(admin.get(f"/tiles/events/{t.z}/{t.x}/{t.y}.mvt"), "events")
    assert street and all("count" not in f["properties"] and f["properties"]["status"] for f in street)


def test_date_filter_on_tasks(admin, db_url):
    response = admin.get("/tiles/tasks/0/0/0.mvt?due_from=2026-11-25&due_to=2026-12-31")
    counted = sum(f["properties"]["count"] for f in features(response, "tasks"))
    assert counted == one(db_url, "SELECT count(*) FROM inspection_tasks "
                                  "WHERE due_date BETWEEN '2026-11-25' AND '2026-12-31'")
    assert admin.get("/tiles/tasks/0/0/0.mvt?due_from=25/11/2026").status_code == 400


def test_sql_gcj02_matches_python(app_db):
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(109.6, 117.4, 500), rng.uniform(20.2, 25.6, 500)
    with app_db.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_X(g), ST_Y(g) FROM (SELECT zt_wgs84_to_gcj02(ST_SetSRID("
                    "ST_MakePoint(x, y), 4326)) g FROM unnest(%s::float8[], %s::float8[]) u(x, y)) s",
                    (lon.tolist(), lat.tolist()))
        got = np.array(cur.fetchall())
    want = np.column_stack(wgs84_to_gcj02(lon, lat))
    assert np.abs(got - want).max() < 1e-9


def test_gcj02_tiles_line_up_with_a_gcj02_base_map(admin, db_url):
    entity = entity_in(db_url, "440106")
    lon, lat = (one(db_url, f"SELECT ST_{c}(geom) FROM entities WHERE id = %s", (entity,)) for c in "XY")
    glon, glat = wgs84_to_gcj02(lon, lat)
    t = tile_for(glon, glat, 16)
    feats = features(admin.get(f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt?crs=gcj02"), "entities")
    point = next(f for f in feats if f["id"] == entity)["geometry"]["coordinates"]
    got_lon, got_lat = pixel_to_lonlat(t, *point)
    metres = math.hypot((got_lon - glon) * 102_000, (got_lat - glat) * 111_000)
    assert metres < 3  # within a pixel or so at z16, while the WGS/GCJ offset here is ~600 m
    plain = features(admin.get(f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt"), "entities")
    assert all(f["id"] != entity for f in plain) or math.hypot(*(
        np.array(pixel_to_lonlat(t, *next(f for f in plain if f["id"] == entity)["geometry"]["coordinates"]))
        - np.array([glon, glat]))) > 0.003


def test_gcj02_boundaries_are_the_source_coordinates(app_db):
    with app_db.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT ST_Distance(ST_Centroid(geom), ST_Centroid(geom_gcj02)) FROM admin_areas "
                    "WHERE level = 'district' AND adcode = '440106'")
        shift_deg = cur.fetchone()[0]
    assert 0.003 < shift_deg < 0.008  # the 400–700 m GCJ-02 offset


@pytest.mark.parametrize("geometry, fragment", [
    ({"type": "Point", "coordinates": [113.3, 23.1]}, "应为多边形"),
    ({"type": "Polygon", "coordinates": [[[113.3, 23.1], [113.4, 23.2], [113.4, 23.1], [113.3, 23.2],
                                          [113.3, 23.1]]]}, "多边形无效"),
    ({"type": "Polygon", "coordinates": [[[200, 23.1], [201, 23.2], [201, 23.1], [200, 23.1]]]}, "超出"),
    ("not json", "不是有效的 GeoJSON"),
])
def test_bad_selection_areas_are_refused(geometry, fragment):
    with pytest.raises(BadRequest, match=fragment):
        parse_area(geometry)


def test_selection_counts_match_database(app_db, db_url):
    with app_db.connection({"region": "44"}) as conn:
        result = select(conn, LAYERS["entities"], parse_area(SQUARE_TIANHE))
    expected = one(db_url, "SELECT count(*) FROM entities WHERE ST_Intersects(geom, "
                           "ST_GeomFromGeoJSON(%s))", (json.dumps(SQUARE_TIANHE),))
    assert result["total"] == expected == sum(c["count"] for c in result["counts"]) > 0
    assert len(result["rows"]) == min(expected, 500)
    assert {c["label"] for c in result["counts"]} <= {e.label_zh for e in LAYERS["entities"].legend}


def test_gcj02_selection_is_converted_back(app_db):
    ring = SQUARE_TIANHE["coordinates"][0]
    shifted = {"type": "Polygon", "zt_crs": "gcj02",
               "coordinates": [[list(wgs84_to_gcj02(x, y)) for x, y in ring]]}
    with app_db.connection({"region": "44"}) as conn:
        plain = select(conn, LAYERS["entities"], parse_area(SQUARE_TIANHE))["total"]
        converted = select(conn, LAYERS["entities"], parse_area(shifted))["total"]
    assert converted == plain


def test_selection_respects_jurisdiction(app_db):
    with app_db.connection({"region": "440104"}) as conn:
        result = select(conn, LAYERS["entities"], parse_area(SQUARE_TIANHE))
    assert all(r["district_adcode"] == "440104" for r in result["rows"])


def test_search_by_uscc_name_and_literal_wildcards(app_db, db_url):
    entity = entity_in(db_url, "440106")
    uscc, name = (one(db_url, f"SELECT {c} FROM entities WHERE id = %s", (entity,)) for c in ("uscc", "name"))
    with app_db.connection({"region": "44"}) as conn:
        assert search_entities(conn, uscc.lower())[0]["id"] == entity
        assert any(h["id"] == entity for h in search_entities(conn, name[3:8]))
        assert search_entities(conn, "%%") == []  # % is a character here, not a wildcard
        with pytest.raises(BadRequest, match="至少 2 个字符"):
            search_entities(conn, "x")
    with app_db.connection({"region": "440104"}) as conn:
        assert search_entities(conn, uscc) == []


def test_choropleth_values_classes_and_jurisdiction(app_db, db_url):
    with app_db.connection({"region": "44"}) as conn:
        data = choropleth(conn, "entity_count")
    assert len(data["values"]) == 124
    assert data["values"]["440106"] == one(db_url, "SELECT count(*) FROM entities "
                                                   "WHERE district_adcode = '440106'")
    tops = [c["to"] for c in data["legend"]]
    assert tops == sorted(tops) and max(data["values"].values()) == tops[-1]
    with app_db.connection({"region": "4401"}) as conn:
        mine = choropleth(conn, "entity_count")
    assert set(mine["values"]) and all(code.startswith("4401") for code in mine["values"])
    with pytest.raises(BadRequest, match="未知指标"):
        with app_db.connection({"region": "44"}) as conn:
            choropleth(conn, "nope")


def test_exports_open_in_excel(app_db):
    with app_db.connection({"region": "44"}) as conn:
        result = select(conn, LAYERS["entities"], parse_area(SQUARE_TIANHE))
    csv_bytes = to_csv(LAYERS["entities"], result["rows"])
    assert csv_bytes.startswith("\ufeff".encode()) and "统一社会信用代码" in csv_bytes.decode("utf-8-sig")
    assert csv_bytes.decode("utf-8-sig").count("\n") == len(result["rows"]) + 1
    sheet = load_workbook(io.BytesIO(to_xlsx(LAYERS["entities"], result["rows"]))).active
    header = [c.value for c in sheet[1]]
    assert sheet.max_row == len(result["rows"]) + 1 and "名称" in header and "经度" in header


def test_every_layer_has_tilejson_and_draws(admin):
    for layer_id in LAYERS:
        doc = admin.get(f"/tiles/{layer_id}.json").get_json()
        assert doc["vector_layers"][0]["id"] == layer_id
        assert admin.get(f"/tiles/{layer_id}/0/0/0.mvt").status_code in (200, 204)


def test_grid_choropleth_sends_class_steps_not_a_colour_per_cell(app_db, db_url):
    with app_db.connection({"region": "440106"}) as conn:
        data = choropleth(conn, "grid_entities")
    assert data["level"] == "grid" and data["layer"] == "unit_grids" and data["field"] == "entities"
    assert "colors" not in data
    assert data["cells"] == one(db_url, "SELECT count(DISTINCT grid_code) FROM entities "
                                        "WHERE district_adcode = '440106' AND grid_code IS NOT NULL") > 0
    starts = [s for s, _ in data["steps"]]
    assert starts == sorted(starts) and starts[0] >= 1
    assert len(data["steps"]) == len(data["legend"])
    busiest = one(db_url, "SELECT max(n) FROM (SELECT count(*) AS n FROM entities WHERE district_adcode = '440106' "
                          "AND grid_code IS NOT NULL GROUP BY grid_code) c")
    assert data["legend"][-1]["to"] == busiest

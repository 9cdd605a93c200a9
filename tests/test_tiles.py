"""Vector tiles: decode the MVT bytes and check features, attributes, aggregation and errors."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from layers.tiles import tile_for

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture
def client(app, tokens):
    """A test client that calls as the province-wide administrator (sees every district)."""
    c = app.server.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['t_admin_gd']}"
    return c


def decode(response) -> dict:
    assert response.status_code == 200, response.data
    assert response.mimetype == MVT
    return mapbox_vector_tile.decode(response.data)


def test_admin_tile_has_guangzhou_districts(client):
    t = tile_for(113.33, 23.13, 9)
    layers = decode(client.get(f"/tiles/admin_areas/{t.z}/{t.x}/{t.y}.mvt"))
    props = [f["properties"] for f in layers["admin_areas"]["features"]]
    names = {p["name"] for p in props}
    assert {"天河区", "越秀区", "广州市"} <= names
    tianhe = next(p for p in props if p["name"] == "天河区")
    assert tianhe == {"adcode": "440106", "name": "天河区", "level": "district",
                      "parent_adcode": "440100"}


def test_low_zoom_admin_tile_omits_districts(client):
    layers = decode(client.get("/tiles/admin_areas/4/13/6.mvt"))
    levels = {f["properties"]["level"] for f in layers["admin_areas"]["features"]}
    assert levels == {"province", "city"}


def test_street_tile_carries_entity_attributes(client, conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, name, uscc, category, risk_class, ST_X(geom), ST_Y(geom) "
                    "FROM entities ORDER BY id LIMIT 1")
        eid, name, uscc, category, risk, lon, lat = cur.fetchone()
    t = tile_for(lon, lat, 15)
    layers = decode(client.get(f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt"))
    features = {f["id"]: f["properties"] for f in layers["entities"]["features"]}
    assert eid in features
    assert features[eid]["name"] == name
    assert features[eid]["uscc"] == uscc
    assert features[eid]["category"] == category
    assert features[eid]["risk_class"] == risk
    assert "legal_rep_id" not in features[eid] and "contact_phone" not in features[eid]


def test_low_zoom_tile_is_aggregated_and_counts_everything(client, conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM entities")
        total = cur.fetchone()[0]
    layers = decode(client.get("/tiles/entities/0/0/0.mvt"))
    features = layers["entities"]["features"]
    assert len(features) < total  # aggregated, not one feature per entity
    assert all("uscc" not in f["properties"] for f in features)
    assert sum(f["properties"]["count"] for f in features) == total


def test_city_zoom_counts_match_database(client, conn):
    t = tile_for(113.33, 23.13, 10)
    layers = decode(client.get(f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt"))
    tile_count = sum(f["properties"]["count"] for f in layers["entities"]["features"])
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM entities WHERE ST_Transform(geom, 3857) "
                    "&& ST_TileEnvelope(%s, %s, %s)", (t.z, t.x, t.y))
        assert tile_count == cur.fetchone()[0] > 0


def test_empty_area_gives_204(client):
    t = tile_for(-150.0, -40.0, 10)  # South Pacific
    response = client.get(f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt")
    assert response.status_code == 204
    assert response.data == b""


@pytest.mark.parametrize("path, fragment", [
    ("/tiles/entities/3/8/1.mvt", "超出范围"),
    ("/tiles/entities/3/1/-1.mvt", "超出范围"),
    ("/tiles/entities/23/0/0.mvt", "缩放级别"),
    ("/tiles/entities/a/0/0.mvt", "整数"),
    ("/tiles/no_such_layer/1/1/1.mvt", "未知图层"),
])
def test_bad_tile_requests_are_400_with_a_message(client, path, fragment):
    response = client.get(path)
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]


def test_etag_and_conditional_get(client):
    first = client.get("/tiles/admin_areas/6/52/27.mvt")
    assert first.status_code == 200
    assert first.headers["Cache-Control"].startswith("public")
    entities = client.get("/tiles/entities/6/52/27.mvt")
    assert entities.headers["Cache-Control"].startswith("private")  # depends on who asks
    tag = first.headers["ETag"]
    again = client.get("/tiles/admin_areas/6/52/27.mvt", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.data == b""


def test_tilejson_describes_the_layer(client):
    doc = client.get("/tiles/entities.json").get_json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].endswith("/tiles/entities/{z}/{x}/{y}.mvt")
    assert doc["vector_layers"][0]["fields"]["uscc"] == "string"
    assert client.get("/tiles/nope.json").status_code == 400

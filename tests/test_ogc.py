"""OGC API – Features under /ogc: the documents, items with their parameters, access, HTML, and GDAL.

Counts are compared with the database read as its owner (no row-level security), restricted to the
caller's region by hand, so a leak or a lost row shows up as a difference.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from contextlib import closing
from datetime import date, datetime, timedelta, timezone

import pytest
from psycopg2 import sql

from geo.db import connect
from geo.errors import BadRequest
from layers import ogc
from layers.registry import LAYERS
from tests.conftest import bearer
from tests.helpers import entity_in, one

OGRINFO, OGR2OGR = "/usr/bin/ogrinfo", "/usr/bin/ogr2ogr"
ADMIN, TIANHE, YUEXIU = "t_admin_gd", "insp_tianhe", "insp_yuexiu"  # regions 44, 440106, 440104
TIANHE_BOX = (113.30, 23.11, 113.36, 23.16)
GUANGDONG = (109.6, 20.2, 117.4, 25.6)  # lon, lat bounds of the loaded province
OGR_TYPES = {"integer": {"Integer", "Integer64"}, "number": {"Real"}, "string": {"String"},
             "date": {"Date"}, "datetime": {"DateTime"}}


def db_count(db_url: str, layer_id: str, region: str = "44", where: str = "true", params: tuple = ()) -> int:
    """Rows of a layer's source as the owner, limited by hand to ``region`` where rows have one."""
    layer = LAYERS[layer_id]
    clauses, args = [f"({where})"], list(params)
    if "district_adcode" in layer.fields:
        clauses.append("left(district_adcode, %s) = %s")
        args += [len(region), region]
    query = sql.SQL("SELECT count(*) FROM {} WHERE " + " AND ".join(clauses)).format(sql.Identifier(layer.source))
    return one(db_url, query, tuple(args))


def get(client, tokens, path: str, user: str | None = ADMIN, **headers):
    auth = bearer(tokens, user) if user else {}
    return client.get(path, headers={**auth, **headers})


def all_pages(client, tokens, path: str, user: str = ADMIN) -> tuple[list[dict], list[dict]]:
    """Follow ``next`` links from ``path``; the pages and all their features."""
    pages, features = [], []
    url: str | None = path
    while url is not None:
        response = get(client, tokens, url, user)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        pages.append(page)
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        assert len(pages) < 100
    return pages, features


# ---- plain functions, no server -------------------------------------------------------------------

def test_every_layer_has_a_declared_feature_key():
    for layer in LAYERS.values():
        assert set(ogc.feature_key(layer)) <= set(layer.fields), layer.id


@pytest.mark.parametrize("raw", ["1,2,3", "a,b,c,d", "1,2,3,4,5", "0,0,200,10", "0,-95,1,1", "10,0,5,1",
                                 "0,10,1,5", "nan,0,1,1", ""])
def test_bad_bbox_is_refused(raw):
    with pytest.raises(BadRequest, match="bbox"):
        ogc.parse_bbox(raw)


def test_datetime_forms():
    events = LAYERS["events"]
    beijing = timezone(timedelta(hours=8))
    assert ogc.parse_datetime(events, "2026-11-01") == (date(2026, 11, 1), date(2026, 11, 1))
    assert ogc.parse_datetime(events, "../2026-11-30") == (None, date(2026, 11, 30))
    assert ogc.parse_datetime(events, "2026-11-01/") == (date(2026, 11, 1), None)
    assert ogc.parse_datetime(events, "2026-11-01T/2026-11-02T") == (date(2026, 11, 1), date(2026, 11, 2))  # GDAL
    start, _ = ogc.parse_datetime(events, "2026-11-01T08:00:00Z/..")
    assert start == datetime(2026, 11, 1, 16, 0, tzinfo=beijing)
    assert ogc.parse_datetime(events, "2026-11-01T10:00/..")[0] == datetime(2026, 11, 1, 10, 0, tzinfo=beijing)
    for bad in ["", "..", "../..", "2026-13-01", "yesterday", "2026-11-30/2026-11-01", "a/b/c"]:
        with pytest.raises(BadRequest, match="datetime"):
            ogc.parse_datetime(events, bad)
    with pytest.raises(BadRequest, match="没有时间字段"):
        ogc.parse_datetime(LAYERS["entities"], "2026-11-01")


# ---- documents ------------------------------------------------------------------------------------

def test_landing_page_links_resolve(client, tokens):
    for path in ("/ogc", "/ogc/"):
        response = get(client, tokens, path, None)
        assert response.status_code == 200 and response.mimetype == "application/json"
    links = {link["rel"]: link for link in response.get_json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for link in links.values():
        assert get(client, tokens, link["href"], None).status_code == 200, link


def test_conformance_declares_the_classes(client, tokens):
    response = get(client, tokens, "/ogc/conformance", None)
    assert response.mimetype == "application/json"
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert set(response.get_json()["conformsTo"]) == {base + c for c in ("core", "oas30", "html", "geojson")}


def test_anonymous_sees_only_public_collections(client, tokens, db_url):
    ids = [c["id"] for c in get(client, tokens, "/ogc/collections", None).get_json()["collections"]]
    assert ids == ["admin_areas"]
    for path in ("/ogc/collections/entities", "/ogc/collections/entities/items",
                 f"/ogc/collections/entities/items/{entity_in(db_url, '440106')}"):
        response = get(client, tokens, path, None)
        assert response.status_code == 404
        assert response.get_json()["status"] == 404 and " / " in response.get_json()["error"]


def test_staff_see_every_layer_with_extent(client, tokens):
    collections = get(client, tokens, "/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in collections] == list(LAYERS)
    for c in collections:
        min_lon, min_lat, max_lon, max_lat = c["extent"]["spatial"]["bbox"][0]
        assert GUANGDONG[0] <= min_lon < max_lon <= GUANGDONG[2] and GUANGDONG[1] <= min_lat < max_lat <= GUANGDONG[3]
        assert ("temporal" in c["extent"]) == (LAYERS[c["id"]].time_field is not None)
        assert any(link["rel"] == "items" and link["type"] == "application/geo+json" for link in c["links"])


def test_unknown_collection_is_404(client, tokens):
    response = get(client, tokens, "/ogc/collections/nope/items")
    assert response.status_code == 404
    assert "没有数据集" in response.get_json()["error"]


def resolve(doc: dict, ref: str) -> dict:
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_openapi_lists_each_collection_with_its_parameters(client, tokens):
    response = get(client, tokens, "/ogc/api")
    assert response.content_type == "application/vnd.oai.openapi+json;version=3.0"
    doc = json.loads(response.data)
    assert doc["openapi"].startswith("3.0.") and doc["servers"][0]["url"].endswith("/ogc")
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(doc))
    assert refs and all(resolve(doc, ref) for ref in refs)
    for layer in LAYERS.values():
        operation = doc["paths"][f"/collections/{layer.id}/items"]["get"]
        names = {resolve(doc, p["$ref"])["name"] if "$ref" in p else p["name"] for p in operation["parameters"]}
        expected = {"bbox", "limit", "offset", "f", *layer.filters} | ({"datetime"} if layer.time_field else set())
        assert names == expected, layer.id
        assert "application/geo+json" in operation["responses"]["200"]["content"]
        assert f"/collections/{layer.id}/items/{{featureId}}" in doc["paths"]
    page = get(client, tokens, "/ogc/api?f=html").get_data(as_text=True)
    assert "<code>risk_class</code>" in page and "监管对象 / Regulated entities：要素" in page
    anonymous = get(client, tokens, "/ogc/api", None).get_json(force=True)
    assert {p for p in anonymous["paths"] if p.startswith("/collections/")} == {
        "/collections/admin_areas", "/collections/admin_areas/items", "/collections/admin_areas/items/{featureId}"}


# ---- items ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_items_are_rfc7946_features_with_declared_fields(client, tokens, db_url, layer_id):
    layer = LAYERS[layer_id]
    response = get(client, tokens, f"/ogc/collections/{layer_id}/items?limit=50")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    page = response.get_json()
    total = db_count(db_url, layer_id)
    assert page["type"] == "FeatureCollection" and page.get("numberMatched") == (
        total if total <= ogc.COUNT_CAP else None)  # past the cap the count is left out, not guessed
    assert page["numberReturned"] == len(page["features"]) == min(50, total) > 0
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", page["timeStamp"])
    for feature in page["features"]:
        assert feature["type"] == "Feature" and set(feature["properties"]) == set(layer.fields)
        lon, lat = first_position(feature["geometry"])
        assert GUANGDONG[0] < lon < GUANGDONG[2] and GUANGDONG[1] < lat < GUANGDONG[3]
        for name, spec in layer.fields.items():
            value = feature["properties"][name]
            if spec.type == "date":
                assert re.match(r"^\d{4}-\d{2}-\d{2}$", value)
            elif spec.type == "datetime":
                assert re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", value)
    ids = [f["id"] for f in page["features"]]
    assert len(set(ids)) == len(ids)


def first_position(geometry: dict) -> list[float]:
    coordinates = geometry["coordinates"]
    while isinstance(coordinates[0], list):
        coordinates = coordinates[0]
    return coordinates


def test_polygons_are_closed_rings(client, tokens):
    page = get(client, tokens, "/ogc/collections/admin_areas/items?level=city&limit=3").get_json()
    for feature in page["features"]:
        assert feature["geometry"]["type"] == "MultiPolygon"
        ring = feature["geometry"]["coordinates"][0][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        assert re.match(r"^city-\d{6}$", feature["id"])


def test_feature_ids_round_trip(client, tokens):
    for layer_id in LAYERS:
        page = get(client, tokens, f"/ogc/collections/{layer_id}/items?limit=2").get_json()
        for feature in page["features"]:
            response = get(client, tokens, f"/ogc/collections/{layer_id}/items/{feature['id']}")
            assert response.status_code == 200 and response.mimetype == "application/geo+json"
            single = response.get_json()
            assert single["id"] == feature["id"] and single["properties"] == feature["properties"]
            assert {"self", "alternate", "collection"} <= {link["rel"] for link in single["links"]}
    tianhe = get(client, tokens, "/ogc/collections/admin_areas/items/district-440106").get_json()
    assert tianhe["properties"]["name"] == "天河区" and tianhe["properties"]["level"] == "district"
    for path in ("admin_areas/items/district-999999", "admin_areas/items/nonsense", "entities/items/abc",
                 "entities/items/99999999999999999999", "entities/items/-1", "entities/items/0"):
        response = get(client, tokens, f"/ogc/collections/{path}")
        assert response.status_code == 404, path
        assert "没有要素" in response.get_json()["error"]


def test_an_inspector_sees_only_their_district(client, tokens, db_url):
    foreign = entity_in(db_url, "440106")
    assert get(client, tokens, f"/ogc/collections/entities/items/{foreign}", TIANHE).status_code == 200
    assert get(client, tokens, f"/ogc/collections/entities/items/{foreign}", YUEXIU).status_code == 404
    page = get(client, tokens, "/ogc/collections/entities/items?limit=10000", YUEXIU).get_json()
    assert page["numberMatched"] == page["numberReturned"] == db_count(db_url, "entities", "440104") > 0
    assert {f["properties"]["district_adcode"] for f in page["features"]} == {"440104"}
    assert foreign not in {f["id"] for f in page["features"]}
    events = get(client, tokens, "/ogc/collections/events/items?limit=10000", YUEXIU).get_json()
    assert events["numberMatched"] == db_count(db_url, "events", "440104")


def test_paging_by_next_links_returns_every_feature_once(client, tokens, db_url):
    pages, features = all_pages(client, tokens, "/ogc/collections/entities/items?limit=700")
    total = db_count(db_url, "entities")
    assert pages[0]["numberMatched"] == total == len(features)
    ids = [f["id"] for f in features]
    assert ids == sorted(ids) and len(set(ids)) == total
    assert len(pages) == math.ceil(total / 700)
    assert not any(link["rel"] == "prev" for link in pages[0]["links"])
    prev = next(link["href"] for link in pages[1]["links"] if link["rel"] == "prev")
    assert "offset=0" in prev and "limit=700" in prev


def test_paging_keeps_filters_and_works_past_the_count_cap(client, tokens, db_url, monkeypatch):
    monkeypatch.setattr(ogc, "COUNT_CAP", 100)
    pages, features = all_pages(client, tokens, "/ogc/collections/entities/items?risk_class=A&limit=300")
    assert "numberMatched" not in pages[0]
    assert len(features) == db_count(db_url, "entities", where="risk_class = 'A'")
    assert {f["properties"]["risk_class"] for f in features} == {"A"}
    assert all("risk_class=A" in link["href"] for page in pages for link in page["links"] if link["rel"] == "next")


def test_limit_and_offset_validation(client, tokens, db_url):
    for bad in ("limit=0", "limit=-1", "limit=abc", "limit=1.5", "offset=-1", "offset=x"):
        response = get(client, tokens, f"/ogc/collections/entities/items?{bad}")
        assert response.status_code == 400, bad
        assert bad.split("=")[0] in response.get_json()["error"]
    capped = get(client, tokens, "/ogc/collections/entities/items?limit=20000").get_json()
    assert capped["numberReturned"] == min(10_000, db_count(db_url, "entities"))
    assert "limit=10000" in next(link["href"] for link in capped["links"] if link["rel"] == "self")
    default = get(client, tokens, "/ogc/collections/entities/items").get_json()
    assert default["numberReturned"] == 100
    beyond = get(client, tokens, "/ogc/collections/entities/items?offset=1000000").get_json()
    assert beyond["features"] == [] and not any(link["rel"] == "next" for link in beyond["links"])


def test_bbox_selects_what_intersects(client, tokens, db_url):
    box = ",".join(map(str, TIANHE_BOX))
    page = get(client, tokens, f"/ogc/collections/entities/items?bbox={box}&limit=10000").get_json()
    envelope = "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
    assert page["numberMatched"] == len(page["features"]) == db_count(db_url, "entities", where=envelope,
                                                                      params=TIANHE_BOX) > 0
    for feature in page["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert TIANHE_BOX[0] <= lon <= TIANHE_BOX[2] and TIANHE_BOX[1] <= lat <= TIANHE_BOX[3]
    areas = get(client, tokens, f"/ogc/collections/admin_areas/items?bbox={box}", None).get_json()
    assert "district-440106" in {f["id"] for f in areas["features"]}
    beijing = get(client, tokens, "/ogc/collections/admin_areas/items?bbox=116.3,39.9,116.5,40.0", None)
    assert beijing.get_json()["numberMatched"] == 0
    for bad in ("1,2,3", "113,23,114", "0,0,200,10", "0,-91,1,1", "114,23,113,24", "a,b,c,d"):
        response = get(client, tokens, f"/ogc/collections/entities/items?bbox={bad}")
        assert response.status_code == 400 and "bbox" in response.get_json()["error"], bad


def _day(offset: int) -> str:
    """A day relative to today: demo events are spread over the last 30 days."""
    return (date.today() + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize(("interval", "where", "params"), [
    (f"{_day(-24)}/{_day(-10)}", "reported_at >= %s AND reported_at < %s", (_day(-24), _day(-9))),
    (f"../{_day(-15)}", "reported_at < %s", (_day(-14),)),
    (f"{_day(-5)}/..", "reported_at >= %s", (_day(-5),)),
    (_day(-3), "reported_at >= %s AND reported_at < %s", (_day(-3), _day(-2))),
    (f"{_day(-15)}T00:00:00Z/{_day(-13)}T12:00:00Z", "reported_at >= %s AND reported_at <= %s",
     (f"{_day(-15)}T00:00:00Z", f"{_day(-13)}T12:00:00Z")),
])
def test_datetime_on_events(client, tokens, db_url, interval, where, params):
    expected = db_count(db_url, "events", where=where, params=params)
    assert expected > 0
    page = get(client, tokens, f"/ogc/collections/events/items?datetime={interval}&limit=10000").get_json()
    assert page["numberMatched"] == page["numberReturned"] == expected


def test_datetime_errors(client, tokens):
    for layer_id, value, message in (("events", "2026-13-01", "datetime"), ("events", "../..", "datetime"),
                                      ("events", "2026-11-30/2026-11-01", "起点晚于终点"),
                                      ("entities", "2026-11-01", "没有时间字段")):
        response = get(client, tokens, f"/ogc/collections/{layer_id}/items?datetime={value}")
        assert response.status_code == 400 and message in response.get_json()["error"], value


def test_property_filters_match_the_database(client, tokens, db_url):
    cases = [("risk_class=A", "risk_class = 'A'"), ("category=catering,food", "category IN ('catering', 'food')"),
             ("district=440106", "district_adcode = '440106'"),
             ("district=4401&risk_class=B,C", "district_adcode LIKE '4401%%' AND risk_class IN ('B', 'C')")]
    for query, where in cases:
        page = get(client, tokens, f"/ogc/collections/entities/items?{query}&limit=10000").get_json()
        assert page["numberMatched"] == len(page["features"]) == db_count(db_url, "entities", where=where) > 0
    tasks = get(client, tokens, "/ogc/collections/tasks/items?status=open&limit=10000").get_json()
    assert {f["properties"]["status"] for f in tasks["features"]} == {"open"}


@pytest.mark.parametrize("query", ["colour=red", "risk_class=Z", "district=4", "category="])
def test_filter_errors_are_the_same_as_for_tiles(client, tokens, query):
    ogc_response = get(client, tokens, f"/ogc/collections/entities/items?{query}")
    tile_response = get(client, tokens, f"/tiles/entities/14/13345/7116.mvt?{query}")
    assert ogc_response.status_code == tile_response.status_code == 400
    assert ogc_response.get_json() == tile_response.get_json()


# ---- HTML and negotiation -------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "accept", "expected"), [
    ("/ogc", "text/html", "text/html"),
    ("/ogc", "application/json", "application/json"),
    ("/ogc", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("/ogc", "*/*", "application/json"),
    ("/ogc?f=json", "text/html", "application/json"),
    ("/ogc/collections?f=html", "application/json", "text/html"),
    ("/ogc/collections/entities/items", "application/geo+json", "application/geo+json"),
    ("/ogc/collections/entities/items", "text/html", "text/html"),
    ("/ogc/api", "application/vnd.oai.openapi+json;version=3.0", "application/vnd.oai.openapi+json"),
    ("/ogc/api", "text/html", "text/html"),
    ("/ogc/conformance", "text/html", "text/html"),
    ("/ogc/collections/events", "text/html", "text/html"),
])
def test_accept_negotiation(client, tokens, path, accept, expected):
    response = get(client, tokens, path, Accept=accept)
    assert response.status_code == 200 and response.mimetype == expected
    assert "Accept" in response.headers["Vary"]


def test_unknown_format_is_400(client, tokens):
    response = get(client, tokens, "/ogc/collections?f=xml")
    assert response.status_code == 400 and "f 应为" in response.get_json()["error"]


@pytest.fixture
def hostile_event(db_url):
    """An event in 天河区 whose text is markup; removed afterwards."""
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO city_events (category, description, source, status, district_adcode,
                                                reported_at, geom)
                       VALUES ('<b>x</b>', '<script>alert(1)</script>', 'citizen', '信息收集', '440106',
                               '2026-11-20 10:00+08', ST_SetSRID(ST_MakePoint(113.33, 23.13), 4326))
                       RETURNING id""")
        event_id = cur.fetchone()[0]
    yield event_id
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("DELETE FROM city_events WHERE id = %s", (event_id,))


def test_html_escapes_data(client, tokens, hostile_event):
    pages = [f"/ogc/collections/events/items/{hostile_event}?f=html",
             "/ogc/collections/events/items?f=html&limit=10000&datetime=2026-11-20"]
    for path in pages:
        response = get(client, tokens, path)
        text = response.get_data(as_text=True)
        assert response.mimetype == "text/html"
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;b&gt;x&lt;/b&gt;" in text
        assert "<script>alert(1)" not in text and "<b>x</b>" not in text
        assert "?f=json" in text or "&amp;f=json" in text
    feature = get(client, tokens, f"/ogc/collections/events/items/{hostile_event}").get_json()
    assert feature["properties"]["description"] == "<script>alert(1)</script>"


def test_html_pages_link_their_json(client, tokens):
    text = get(client, tokens, "/ogc/collections/entities/items?limit=5&risk_class=A&f=html").get_data(as_text=True)
    assert 'rel="next"' in text and "监管对象" in text and "风险等级" in text
    json_href = re.search(r'id="zt-ogc-json" href="([^"]+)"|href="([^"]+)" id="zt-ogc-json"', text)
    href = (json_href.group(1) or json_href.group(2)).replace("&amp;", "&")
    assert "risk_class=A" in href and "f=json" in href
    assert get(client, tokens, href).mimetype == "application/geo+json"


# ---- GDAL's OAPIF driver against the live server --------------------------------------------------

@pytest.fixture(scope="module")
def gdal_env(tokens, tmp_path_factory) -> dict[str, str]:
    """GDAL sends t_admin_gd's token from a 0600 header file (GDAL_HTTP_HEADER_FILE), off the command line."""
    path = tmp_path_factory.mktemp("gdal") / "headers.txt"
    path.touch(mode=0o600)
    path.write_text(f"Authorization: Bearer {tokens[ADMIN]}\n", encoding="utf-8")
    return {**os.environ, "GDAL_HTTP_HEADER_FILE": str(path), "GDAL_HTTP_TIMEOUT": "60"}


def gdal(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(args, env=env or {**os.environ}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def layer_names(output: str) -> list[str]:
    return re.findall(r"^\d+: (\w+)", output, re.M)


def test_ogrinfo_lists_collections_by_role(live_url, gdal_env, tokens):
    assert layer_names(gdal(OGRINFO, "-ro", "-so", f"OAPIF:{live_url}/ogc", env=gdal_env)) == list(LAYERS)
    assert layer_names(gdal(OGRINFO, "-ro", "-so", f"OAPIF:{live_url}/ogc")) == ["admin_areas"]
    header = f"Authorization: Bearer {tokens[YUEXIU]}"  # the config option works as well
    inspector = gdal(OGRINFO, "-ro", "-so", "--config", "GDAL_HTTP_HEADERS", header, f"OAPIF:{live_url}/ogc")
    assert layer_names(inspector) == list(LAYERS)


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_ogrinfo_counts_and_fields_match_the_database(live_url, gdal_env, db_url, layer_id):
    # A layer past the count cap (the city's unit grid) is counted over a window, as a client would page it.
    window = [] if db_count(db_url, layer_id) <= ogc.COUNT_CAP else ["-spat", *map(str, TIANHE_BOX)]
    output = gdal(OGRINFO, "-ro", "-al", "-so", *window, f"OAPIF:{live_url}/ogc", layer_id, env=gdal_env)
    expected = db_count(db_url, layer_id, where="ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                        params=TIANHE_BOX) if window else db_count(db_url, layer_id)
    assert int(re.search(r"^Feature Count: (\d+)$", output, re.M).group(1)) == expected > 0
    fields = dict(re.findall(r"^(\w+): (\w+) \(", output.split("Data axis to CRS axis mapping")[1], re.M))
    layer = LAYERS[layer_id]
    extra = {"id"} if ogc.feature_key(layer) != ("id",) else set()  # GDAL keeps a string feature id as a field
    assert set(fields) == set(layer.fields) | extra
    # GDAL 3.6 infers types from the first page: a column with no value anywhere comes out as String
    empty = {name for name in layer.fields if not non_null(db_url, layer, name)}
    for name, spec in layer.fields.items():
        assert name in empty or fields[name] in OGR_TYPES[spec.type], name


def non_null(db_url, layer, name) -> int:
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count({}) FROM {}").format(sql.Identifier(name),
                                                               sql.Identifier(layer.source)))
        return cur.fetchone()[0]


def test_schema_declares_every_field_with_its_type(client, tokens):
    doc = client.get("/ogc/collections/evidence/schema", headers=bearer(tokens, ADMIN))
    assert doc.mimetype == "application/schema+json"
    fields = doc.get_json()["properties"]["properties"]["properties"]
    assert set(fields) == set(LAYERS["evidence"].fields)
    assert fields["case_id"]["type"] == "integer" and fields["received_at"]["format"] == "date-time"
    links = client.get("/ogc/collections/evidence?f=json", headers=bearer(tokens, ADMIN)).get_json()["links"]
    assert any(x["rel"] == "describedby" and x["href"].endswith("/schema") for x in links)


def test_ogrinfo_forwards_filters_to_the_server(live_url, gdal_env, db_url):
    output = gdal(OGRINFO, "-ro", "-al", "-so", "-oo", "PAGE_SIZE=1000", "-where", "risk_class = 'A'",
                  f"OAPIF:{live_url}/ogc", "entities", env=gdal_env)
    count = int(re.search(r"^Feature Count: (\d+)$", output, re.M).group(1))
    assert count == db_count(db_url, "entities", where="risk_class = 'A'")


def test_ogr2ogr_copies_entities_in_lon_lat(live_url, gdal_env, db_url, tmp_path):
    out = tmp_path / "entities.json"
    gdal(OGR2OGR, "-f", "GeoJSON", str(out), f"OAPIF:{live_url}/ogc", "entities", "-oo", "PAGE_SIZE=1000",
         env=gdal_env)
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) == len({f["properties"]["id"] for f in features}) == db_count(db_url, "entities")
    points = [{"id": f["properties"]["id"], "adcode": f["properties"]["district_adcode"],
               "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]} for f in features]
    outside = one(db_url, """SELECT count(*) FROM json_to_recordset(%s::json) AS p(id bigint, adcode text,
                                                                                lon float8, lat float8)
                             LEFT JOIN admin_areas a ON a.level = 'district' AND a.adcode = p.adcode
                             WHERE a.geom IS NULL
                                OR NOT ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))""",
                  (json.dumps(points),))
    assert outside == 0
    by_id = {f["properties"]["id"]: f for f in features}
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("""SELECT id, name, uscc, category, category_name, risk_class, address, district_adcode,
                              ST_X(geom), ST_Y(geom)
                       FROM layer_entities WHERE id = ANY(%s) ORDER BY id""", (sorted(by_id)[::500],))
        rows = cur.fetchall()
    assert len(rows) >= 5
    for row in rows:
        feature = by_id[row[0]]
        names = ("name", "uscc", "category", "category_name", "risk_class", "address", "district_adcode")
        assert tuple(feature["properties"][n] for n in names) == row[1:8]
        assert feature["geometry"]["coordinates"] == pytest.approx([row[8], row[9]], abs=1e-6)

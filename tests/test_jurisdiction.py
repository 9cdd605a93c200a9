"""Jurisdiction held by PostgreSQL: row-level security under the app's role, through every door."""

from __future__ import annotations

import json
from contextlib import closing

import mapbox_vector_tile
import psycopg2
import pytest
from psycopg2 import sql

from geo.db import Database, connect
from layers.tiles import tile_for
from tests.conftest import bearer
from tests.helpers import case_in, entity_in, one, pages_request

TABLES = {"entities": "district_adcode", "cases": "district_adcode",
          "inspection_tasks": "district_adcode", "city_events": "district_adcode",
          "officers": "region_adcode", "entity_cells": "district_adcode"}


@pytest.fixture(scope="module")
def app_db(db_url):
    database = Database(db_url)  # exactly how the web app connects: as zhengtu_app
    yield database
    database.close()


def count(database, table, context=None):
    with database.connection(context) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return cur.fetchone()[0]


@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_without_a_region_sees_nothing(app_db, table):
    assert count(app_db, table) == 0


@pytest.mark.parametrize("table, column", TABLES.items())
def test_raw_sql_sees_exactly_its_region(app_db, db_url, table, column):
    query = sql.SQL("SELECT count(*) FROM {} WHERE {} = '440106'").format(
        sql.Identifier(table), sql.Identifier(column))
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        owner = (cur.execute(query), cur.fetchone()[0])[1]
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        province = cur.fetchone()[0]
    assert count(app_db, table, {"region": "440106"}) == owner
    assert count(app_db, table, {"region": "44"}) == province > 0


def test_app_role_cannot_write_outside_its_region(app_db, db_url):
    yuexiu = entity_in(db_url, "440104")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        with app_db.connection({"region": "440106"}) as conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO cases (case_no, entity_id, title, stage, opened_on, district_adcode)
                           VALUES ('越权-1', %s, '越权', '立案', current_date, '440104')""", (yuexiu,))
    with app_db.connection({"region": "440106"}) as conn, conn.cursor() as cur:
        cur.execute("UPDATE entities SET name = name || 'x' WHERE id = %s", (yuexiu,))
        assert cur.rowcount == 0  # invisible rows cannot be updated either
        conn.rollback()


def test_app_role_is_not_privileged(app_db):
    with app_db.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user")
        assert cur.fetchone() == ("zhengtu_app", False, False)


def test_inspector_cannot_read_other_district_entity_or_case(app, tokens, db_url):
    client = app.server.test_client()
    entity, case = entity_in(db_url, "440106"), case_in(db_url, "440106")
    theirs, mine = bearer(tokens, "insp_yuexiu"), bearer(tokens, "insp_tianhe")
    assert client.get(f"/api/entities/{entity}", headers=mine).status_code == 200
    assert client.get(f"/api/entities/{entity}", headers=theirs).status_code == 404
    assert client.get(f"/api/cases/{case}", headers=mine).status_code == 200
    assert client.get(f"/api/cases/{case}", headers=theirs).status_code == 404


def test_hand_crafted_page_callback_does_not_leak(app, tokens, db_url):
    client = app.server.test_client()
    entity = entity_in(db_url, "440106")
    name = one(db_url, "SELECT name FROM entities WHERE id = %s", (entity,))
    response = client.post("/_dash-update-component", json=pages_request(f"/entity/{entity}"),
                           headers=bearer(tokens, "insp_yuexiu"))
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert response.status_code == 200
    assert name not in text and "不存在或不在您的辖区" in text


def test_tiles_carry_only_the_callers_region(app, tokens, db_url):
    client = app.server.test_client()
    entity = entity_in(db_url, "440106")
    lon = one(db_url, "SELECT ST_X(geom) FROM entities WHERE id = %s", (entity,))
    lat = one(db_url, "SELECT ST_Y(geom) FROM entities WHERE id = %s", (entity,))
    t = tile_for(lon, lat, 15)
    path = f"/tiles/entities/{t.z}/{t.x}/{t.y}.mvt"
    mine = client.get(path, headers=bearer(tokens, "insp_tianhe"))
    ids = {f["id"] for f in mapbox_vector_tile.decode(mine.data)["entities"]["features"]}
    assert entity in ids
    theirs = client.get(path, headers=bearer(tokens, "insp_yuexiu"))
    if theirs.status_code == 200:
        features = mapbox_vector_tile.decode(theirs.data)["entities"]["features"]
        assert all(f["properties"]["district_adcode"] == "440104" for f in features)
    else:
        assert theirs.status_code == 204


def test_aggregated_tiles_count_only_the_callers_region(app, tokens, db_url):
    client = app.server.test_client()
    response = client.get("/tiles/entities/0/0/0.mvt", headers=bearer(tokens, "insp_tianhe"))
    counted = sum(f["properties"]["count"]
                  for f in mapbox_vector_tile.decode(response.data)["entities"]["features"])
    assert counted == one(db_url, "SELECT count(*) FROM entities WHERE district_adcode = '440106'")


def test_spatial_index_is_used_under_row_level_security(app_db):
    """RLS must not turn a street tile into a table scan (see migration 0005)."""
    from layers.registry import LAYERS
    from layers.tiles import tile_for, tile_query

    query, params = tile_query(LAYERS["entities"], tile_for(113.33, 23.13, 15))
    with app_db.connection({"region": "44"}) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a tiny test table would be scanned anyway
        cur.execute(sql.SQL("EXPLAIN ") + query, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("SELECT proleakproof FROM pg_proc WHERE proname = 'geometry_overlaps'")
        assert cur.fetchone()[0] is True
    assert "entities_geom_gix" in plan

"""The demo generator: valid identifiers, every entity inside its district, urban density, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.demo import entity_frame
from data.ids import is_valid_id_number, is_valid_uscc
from data.sampling import load_districts
from tests.conftest import TEST_ENTITIES


def rows(conn, query, params=()):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_entity_count_and_classes(conn):
    assert rows(conn, "SELECT count(*) FROM entities")[0][0] == TEST_ENTITIES
    assert {r[0] for r in rows(conn, "SELECT DISTINCT risk_class FROM entities")} == set("ABCD")
    categories = {r[0] for r in rows(conn, "SELECT DISTINCT category FROM entities")}
    assert {"catering", "drugs", "special_eq", "hazchem", "construction"} <= categories


def test_every_uscc_valid_and_carries_the_district(conn):
    data = rows(conn, "SELECT uscc, district_adcode FROM entities")
    assert all(is_valid_uscc(uscc) for uscc, _ in data)
    assert all(uscc[2:8] == district for uscc, district in data)
    assert len({uscc for uscc, _ in data}) == len(data)


def test_personal_ids_valid(conn):
    ids = rows(conn, "SELECT legal_rep_id FROM entities LIMIT 500")
    assert all(is_valid_id_number(i) for (i,) in ids)


def test_every_entity_inside_its_district(conn):
    outside = rows(conn, """
        SELECT count(*) FROM entities e
        WHERE NOT EXISTS (SELECT 1 FROM admin_area_parts p
                          WHERE p.adcode = e.district_adcode AND ST_Intersects(p.geom, e.geom))""")
    assert outside[0][0] == 0


def test_denser_in_city_cores(conn):
    # Guangzhou + Shenzhen are ~6 % of Guangdong's land but hold far more than 6 % of entities
    share = rows(conn, """
        SELECT avg((left(district_adcode, 4) IN ('4401', '4403'))::int) FROM entities""")[0][0]
    assert float(share) > 0.2
    # and within Guangzhou, small central districts are denser than large outer ones
    density = dict(rows(conn, """
        SELECT a.adcode, count(e.id) / a.area_km2 FROM admin_areas a
        LEFT JOIN entities e ON e.district_adcode = a.adcode
        WHERE a.level = 'district' AND a.adcode IN ('440104', '440117') GROUP BY a.adcode, a.area_km2"""))
    assert density["440104"] > 5 * density["440117"]  # 越秀 vs 从化


def test_officers_tasks_cases_events_exist_and_link(conn):
    counts = dict(rows(conn, """
        SELECT 'officers', count(*) FROM officers UNION ALL
        SELECT 'tasks', count(*) FROM inspection_tasks UNION ALL
        SELECT 'cases', count(*) FROM cases UNION ALL
        SELECT 'events', count(*) FROM city_events"""))
    assert counts["officers"] == 10 * 124
    assert min(counts.values()) > 0
    bad_assignees = rows(conn, """
        SELECT count(*) FROM inspection_tasks t JOIN entities e ON e.id = t.entity_id
        WHERE t.created_by IS NULL  -- generated tasks (tests add ad-hoc ones for user accounts)
          AND (EXISTS (SELECT 1 FROM unnest(t.assignees) a JOIN officers o ON o.id = a
                       WHERE o.region_adcode <> e.district_adcode)
               OR cardinality(t.assignees) <> 2)""")
    assert bad_assignees[0][0] == 0


def test_same_seed_same_rows_other_seed_other_rows(conn):
    district = next(d for d in load_districts(conn) if d.adcode == "440106")
    a = entity_frame(np.random.default_rng(5), district, 300)
    b = entity_frame(np.random.default_rng(5), district, 300)
    c = entity_frame(np.random.default_rng(6), district, 300)
    pd.testing.assert_frame_equal(a, b)
    assert not a["uscc"].equals(c["uscc"])
    assert a["address"].str.startswith("广东省广州市天河区").all()

"""一公开 at /public and GET /api/public/results: published rows only, personal data masked, no login."""

from __future__ import annotations

import hashlib
from contextlib import closing

import pytest
from selenium.webdriver.common.by import By

from data.ids import mask_id_number
from enforcement import draws
from geo.db import connect

RAW_ID = "440106199001011234"  # a resident-ID-shaped value put on a drawn entity for the test


@pytest.fixture(scope="module")
def published(db_url):
    """A drawn plan, a published (not yet drawn) plan, a draft, a closed and an open case (committed)."""
    with closing(connect(db_url)) as conn, conn:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('zhengtu.region', '4401', true), "
                        "set_config('zhengtu.user', 'test', true)")
        drawn = draws.create_plan(conn, "test", name="白云区公示测试抽查", region="440111",
                                  ratios="A=0.5,B=0.5,C=0.5,D=0.5", period_from="2026-11-01",
                                  period_to="2026-12-31")
        outcome = draws.run_draw(conn, drawn["id"], "test")
        waiting = draws.create_plan(conn, "test", name="黄埔区待抽取计划", region="440112", ratios="A=0.5")
        draft = draws.create_plan(conn, "test", name="番禺区草稿计划绝不公开", region="440113", ratios="A=0.5",
                                  publish=False)
        with conn.cursor() as cur:
            first = draws.recorded_rows(conn, drawn["id"])[0].entity_id
            cur.execute("UPDATE entities SET legal_rep_id = %s, legal_rep_name = '王小明' WHERE id = %s "
                        "RETURNING uscc, name", (RAW_ID, first))
            uscc, name = cur.fetchone()
            cur.execute("SELECT uscc, name FROM entities WHERE district_adcode = '440112' ORDER BY id LIMIT 1")
            hidden_uscc, hidden_name = cur.fetchone()
            cur.execute("""INSERT INTO cases (case_no, entity_id, title, stage, opened_on, district_adcode,
                                              decision, closed_on, published)
                           VALUES ('穗白市监罚〔2026〕9001号', %s, '公示测试已结案', '结案', '2026-10-01', '440111',
                                   '责令改正，罚款五千元', '2026-11-20', true),
                                  ('穗白市监立〔2026〕9002号', %s, '公示测试在办案件', '调查取证', '2026-11-01',
                                   '440111', NULL, NULL, false)""", (first, first))
    return {"drawn": drawn, "seed": outcome.seed_hex, "waiting": waiting, "draft": draft, "uscc": uscc,
            "name": name, "hidden_uscc": hidden_uscc, "hidden_name": hidden_name}


def test_api_shows_published_rows_only_and_masks(client, published):
    body = client.get("/api/public/results?district=4401").get_json()
    plans = {p["id"]: p for p in body["plans"]}
    drawn, waiting = plans[published["drawn"]["id"]], plans[published["waiting"]["id"]]
    assert published["draft"]["id"] not in plans
    assert waiting["status"] == "published" and waiting["seed"] is None
    assert waiting["seed_hash"] == published["waiting"]["seed_hash"]
    assert drawn["seed"] == published["seed"]
    assert hashlib.sha256(bytes.fromhex(drawn["seed"])).hexdigest() == drawn["seed_hash"]

    found = client.get(f"/api/public/results?q={published['uscc']}").get_json()["results"]
    assert found["total"] == 1
    row = found["rows"][0]
    assert row["entity_name"] == published["name"] and row["legal_rep_id"] == mask_id_number(RAW_ID)
    assert row["legal_rep_name"] == "王**"
    assert RAW_ID not in client.get("/api/public/results?district=440111").get_data(as_text=True)
    by_name = client.get("/api/public/results", query_string={"q": published["name"][:6]}).get_json()
    assert published["uscc"] in {r["uscc"] for r in by_name["results"]["rows"]}
    # an entity of a plan that is published but not drawn is not listed
    assert client.get(f"/api/public/results?q={published['hidden_uscc']}").get_json()["results"]["total"] == 0

    cases = client.get("/api/public/results?district=440111").get_json()["cases"]["rows"]
    titles = {c["title"] for c in cases}
    assert "公示测试已结案" in titles and "公示测试在办案件" not in titles
    closed = next(c for c in cases if c["title"] == "公示测试已结案")
    assert closed["decision"] == "责令改正，罚款五千元" and closed["legal_rep_id"] == mask_id_number(RAW_ID)


def test_api_filters_are_validated(client, published):
    assert client.get("/api/public/results?district=44x").status_code == 400
    assert "district" in client.get("/api/public/results?district=44x").get_json()["error"]
    assert client.get("/api/public/results?from=2026-13-01").status_code == 400
    assert client.get("/api/public/results?from=2026-12-01&to=2026-11-01").status_code == 400
    later = client.get("/api/public/results?from=2030-01-01").get_json()
    assert later["results"]["total"] == 0
    wildcard = client.get("/api/public/results?q=%25").get_json()  # '%' is matched literally
    assert wildcard["results"]["total"] == 0


def test_masking_in_sql_matches_the_python_masker(conn):
    with conn.cursor() as cur:
        for value in (RAW_ID, "44010619900101123X", "123456789012345", "12345", ""):
            cur.execute("SELECT zt_mask_id_number(%s)", (value,))
            assert cur.fetchone()[0] == mask_id_number(value)


def test_public_has_no_table_access_only_functions(db_url, published):
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SET ROLE zhengtu_app")  # no region set, as for a public request
        cur.execute("SELECT count(*) FROM draw_plans")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM entities")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM zt_public_plans(NULL, NULL, NULL) WHERE status = 'draft'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM zt_public_plans(NULL, NULL, NULL)")
        assert cur.fetchone()[0] >= 2
        conn.rollback()


@pytest.mark.browser
def test_public_page_in_chromium(driver, live_url, published):
    driver.get(f"{live_url}/public?district=4401")
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "白云区公示测试抽查" in text and "黄埔区待抽取计划" in text
    assert "番禺区草稿计划绝不公开" not in text
    assert published["waiting"]["seed_hash"] in text and published["seed"] in text
    assert "登录" not in driver.title

    box = driver.find_element(By.ID, "zt-public-q")
    box.send_keys(published["uscc"])
    driver.find_element(By.ID, "zt-public-submit").click()
    rows = driver.find_elements(By.CSS_SELECTOR, "#zt-public-results tbody tr")
    assert len(rows) == 1 and published["name"] in rows[0].text
    masked = rows[0].find_element(By.CSS_SELECTOR, ".masked-id").text
    assert masked == mask_id_number(RAW_ID) and "*" in masked
    assert RAW_ID not in driver.page_source

    driver.get(f"{live_url}/public?q={published['hidden_uscc']}")
    assert published["hidden_name"] not in driver.find_element(By.ID, "results").text
    assert driver.find_elements(By.CSS_SELECTOR, "#zt-public-results tbody tr") == []

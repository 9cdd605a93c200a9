"""The KPI API: definitions, values whose children add up, errors, jurisdiction, targets, exports."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from contextlib import closing

import pytest
from openpyxl import load_workbook

from geo.db import connect
from tests.conftest import bearer

PERIOD = "from=2026-11-01&to=2026-11-30"


def get(client, tokens, user, path):
    return client.get(path, headers=bearer(tokens, user))


def test_definitions_list_every_kpi_with_additive(client, tokens):
    response = get(client, tokens, "manager_sz", "/api/kpi")
    assert response.status_code == 200
    kpis = {k["id"]: k for k in response.get_json()}
    assert {"task_on_time", "checkin_on_site", "evidence_complete", "case_on_time", "event_on_time",
            "event_handled", "event_rework", "alert_ack_minutes", "draw_coverage"} <= set(kpis)
    for k in kpis.values():
        assert isinstance(k["additive"], bool)
        assert k["name_zh"] and k["name_en"] and k["unit"] and k["owner"] and k["direction"] in ("up", "down")
        assert "num" in k["sql"] and "den" in k["sql"] and k["formula"]


@pytest.mark.parametrize("region", ["44", "4401"])
def test_children_add_up_to_the_parent(client, tokens, region):
    kpis = get(client, tokens, "t_admin_gd", "/api/kpi").get_json()
    for k in kpis:
        body = get(client, tokens, "t_admin_gd", f"/api/kpi/{k['id']}?region={region}&{PERIOD}").get_json()
        assert {"id", "region", "from", "to", "value", "numerator", "denominator", "target", "children"} <= set(body)
        assert body["children"], k["id"]
        assert {"region", "name", "value", "numerator", "denominator"} <= set(body["children"][0])
        if k["additive"]:
            assert sum(c["numerator"] for c in body["children"]) == pytest.approx(body["numerator"]), k["id"]
            if body["denominator"] is not None:
                assert sum(c["denominator"] for c in body["children"]) == body["denominator"], k["id"]
        for c in body["children"]:  # no data is null, never 0 % or 100 %
            if c["denominator"] == 0:
                assert c["value"] is None


def test_demo_data_gives_some_numbers(client, tokens):
    body = get(client, tokens, "t_admin_gd", f"/api/kpi/event_handled?region=44&{PERIOD}").get_json()
    assert body["denominator"] > 0 and 0 <= body["value"] <= 100
    assert body["value"] == round(100 * body["numerator"] / body["denominator"], 2)
    assert len(body["series"]) == 30 and body["forecast"]["days_total"] == 30


def test_default_region_is_the_callers_and_jurisdiction_holds(client, tokens):
    body = get(client, tokens, "manager_sz", f"/api/kpi/task_on_time?{PERIOD}").get_json()
    assert body["region"] == "4403" and all(c["region"].startswith("4403") for c in body["children"])
    outside = get(client, tokens, "manager_sz", f"/api/kpi/task_on_time?region=4401&{PERIOD}")
    assert outside.status_code == 403 and "辖区" in outside.get_json()["error"]
    wider = get(client, tokens, "manager_sz", f"/api/kpi/task_on_time?region=44&{PERIOD}")
    assert wider.status_code == 403


@pytest.mark.parametrize(("path", "status", "word"), [
    (f"/api/kpi/no_such_kpi?{PERIOD}", 404, "未知指标"),
    ("/api/kpi/task_on_time?region=44&from=2026-11-31&to=2026-12-01", 400, "from"),
    ("/api/kpi/task_on_time?region=44&from=2026-11-01", 400, "to"),
    ("/api/kpi/task_on_time?region=44&from=2026-11-10&to=2026-11-01", 400, "早于"),
    (f"/api/kpi/task_on_time?region=4x&{PERIOD}", 400, "区域"),
    (f"/api/kpi/task_on_time?region=4499&{PERIOD}", 404, "4499"),
    (f"/api/kpi/task_on_time?region=44&category=nope&{PERIOD}", 400, "类别"),
    (f"/api/kpi/task_on_time/records?region=44&limit=x&{PERIOD}", 400, "limit"),
])
def test_bad_input(client, tokens, path, status, word):
    response = get(client, tokens, "t_admin_gd", path)
    assert response.status_code == status
    assert word in response.get_json()["error"]


def test_roles(client, tokens):
    assert client.get("/api/kpi").status_code == 401
    assert get(client, tokens, "insp_tianhe", "/api/kpi").status_code == 403
    assert get(client, tokens, "t_operator_gz", f"/api/kpi/event_on_time?{PERIOD}").status_code == 200


def test_records_endpoint(client, tokens):
    body = get(client, tokens, "t_admin_gd", f"/api/kpi/event_handled/records?region=44&{PERIOD}").get_json()
    api = get(client, tokens, "t_admin_gd", f"/api/kpi/event_handled?region=44&{PERIOD}").get_json()
    assert len(body["records"]) == api["records"]
    assert sum(r["numerator"] for r in body["records"]) == api["numerator"]


@pytest.fixture
def clean_targets(db_url):
    yield
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("DELETE FROM kpi_targets WHERE source = 'user' AND note = 'api-test'")


def test_targets_set_read_and_refused(client, tokens, clean_targets):
    body = {"region": "4403", "target": 95, "from": "2026-11-01", "to": "2026-11-30", "note": "api-test"}
    created = client.post("/api/kpi/task_on_time/targets", json=body, headers=bearer(tokens, "manager_sz"))
    assert created.status_code == 201 and created.get_json()["id"]
    again = client.post("/api/kpi/task_on_time/targets", json={**body, "target": 96},
                        headers=bearer(tokens, "manager_sz"))
    assert again.get_json()["id"] == created.get_json()["id"]  # same KPI, region and period: replaced
    view = get(client, tokens, "manager_sz", f"/api/kpi/task_on_time?region=4403&{PERIOD}").get_json()
    assert view["target"] == 96.0 and view["target_detail"]["source"] == "user"
    other_month = get(client, tokens, "manager_sz", "/api/kpi/task_on_time?region=4403&from=2026-12-01&to=2026-12-31")
    assert other_month.get_json()["target"] == 100.0  # the 2020 plan's standing province target
    listed = get(client, tokens, "manager_sz", "/api/kpi/task_on_time/targets").get_json()
    assert {t["region"] for t in listed} == {"44", "4403"}
    outside = client.post("/api/kpi/task_on_time/targets", json={**body, "region": "4401"},
                          headers=bearer(tokens, "manager_sz"))
    assert outside.status_code == 403
    reviewer = client.post("/api/kpi/task_on_time/targets", json={**body, "region": "4401"},
                           headers=bearer(tokens, "t_reviewer_gz"))
    assert reviewer.status_code == 403
    for bad in ({**body, "target": "lots"}, {**body, "target": 101}, {**body, "from": "2026-11-05", "to": None}):
        response = client.post("/api/kpi/task_on_time/targets", json=bad, headers=bearer(tokens, "manager_sz"))
        assert response.status_code == 400, bad


def test_excel_equals_the_api(client, tokens):
    query = f"kpi=event_handled&region=44&{PERIOD}"
    api = get(client, tokens, "t_admin_gd", f"/api/kpi/event_handled?region=44&{PERIOD}").get_json()
    response = get(client, tokens, "t_admin_gd", f"/kpi/export.xlsx?{query}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["概要", "下级区域", "逐日", "明细", "定义"]
    summary = wb["概要"]
    header = [c.value for c in summary[1]]
    row = dict(zip(header, [c.value for c in summary[2]], strict=True))
    assert summary["A1"].font.bold
    assert (row["值"], row["分子"], row["分母"], row["目标"]) == (api["value"], api["numerator"],
                                                                api["denominator"], api["target"])
    assert isinstance(row["值"], int | float) and isinstance(row["分子"], int)  # numbers, not text
    kids = [[c.value for c in r] for r in wb["下级区域"].iter_rows(min_row=2)]
    assert [(k[1], k[3], k[4], k[5]) for k in kids] == [(r["region"], r["value"], r["numerator"], r["denominator"])
                                                        for r in api["ranking"]]
    days = [[c.value for c in r] for r in wb["逐日"].iter_rows(min_row=2)]
    assert [d[6] for d in days] == [s["cum_value"] for s in api["series"]]
    assert wb["明细"].max_row - 1 == api["records"]


def test_pdf_briefing_embeds_the_cjk_font(client, tokens, tmp_path):
    response = get(client, tokens, "t_admin_gd", f"/kpi/export.pdf?kpi=task_on_time&region=4401&{PERIOD}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "kpi.pdf"
    path.write_bytes(response.data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "NotoSansCJK" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded (and subset)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert "检查任务按期完成率" in text and "广州市" in text

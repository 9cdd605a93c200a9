"""Task results: the standard list, assigned inspectors only, final once recorded, follow-up opens a case."""

from __future__ import annotations

from contextlib import closing

import pytest

from enforcement.case_rules import FOLLOW_UP, RESULTS
from enforcement.verify import verify_chains
from geo.db import connect
from tests.conftest import bearer
from tests.helpers import entity_in, new_task, one, upload_photo


def record(client, tokens, task_id, body, user="insp_tianhe"):
    return client.post(f"/api/tasks/{task_id}/result", json=body, headers=bearer(tokens, user))


def test_the_standard_list_and_who_decides_which_results_need_follow_up():
    assert RESULTS == ("未发现问题", "发现问题已责令改正", "发现问题待后续处理", "未按规定公示", "不配合检查",
                       "未找到该市场主体")
    assert set(FOLLOW_UP) == {"发现问题待后续处理", "不配合检查"}


@pytest.mark.parametrize("body, fragment", [
    ({"result": "一切正常", "findings": "无"}, "检查结果应为以下之一"),
    ({"findings": "无"}, "检查结果应为以下之一"),
    ({"result": "发现问题待后续处理", "findings": ""}, "请填写检查情况"),
    ({"result": "未发现问题", "findings": 42}, "findings 应为文本"),
])
def test_bad_results_are_refused_with_a_message(app, tokens, db_url, body, fragment):
    client = app.server.test_client()
    task_id = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    response = record(client, tokens, task_id, body)
    assert response.status_code == 400 and fragment in response.get_json()["error"]
    assert one(db_url, "SELECT count(*) FROM task_results WHERE task_id = %s", (task_id,)) == 0


def test_only_an_assigned_inspector_records_and_results_are_final(app, tokens, db_url, settings):
    client = app.server.test_client()
    task_id = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    body = {"result": "未发现问题", "findings": "证照齐全，现场整洁"}
    assert record(client, tokens, task_id, body, user="insp_yuexiu").status_code == 404  # other district
    assert client.post(f"/api/tasks/{task_id}/result", json=body,
                       headers=bearer(tokens, "t_reviewer_gz")).status_code == 403
    first = record(client, tokens, task_id, body)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["case_id"] is None and first.get_json()["follow_up"] is False
    again = record(client, tokens, task_id, {"result": "不配合检查", "findings": "改口"})
    assert again.status_code == 409 and "不可更改" in again.get_json()["error"]
    assert one(db_url, "SELECT status FROM inspection_tasks WHERE id = %s", (task_id,)) == "done"
    with closing(connect(db_url)) as conn:
        checked, problems = verify_chains(conn, settings.evidence_dir, f"task:{task_id}")
    assert problems == [] and checked == 2  # task_created, task_result
    with closing(connect(db_url)) as conn, pytest.raises(Exception, match="append-only"), conn.cursor() as cur:
        cur.execute("UPDATE task_results SET result = '不配合检查' WHERE task_id = %s", (task_id,))


def test_a_finding_that_needs_follow_up_opens_a_case_with_the_evidence(app, tokens, db_url, settings):
    client = app.server.test_client()
    task_id = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    photos = [upload_photo(client, tokens, task_id, name) for name in ("DSCN0010.jpg", "DSCN0021.jpg")]
    response = record(client, tokens, task_id, {"result": "发现问题待后续处理",
                                                "findings": "后厨未取得食品经营许可证即从事经营"})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["case_id"]
    assert case_id and response.get_json()["follow_up"] is True
    case = client.get(f"/api/cases/{case_id}", headers=bearer(tokens, "t_reviewer_gz")).get_json()
    assert case["stage"] == "立案" and case["task_id"] == task_id and case["officers"] == ["insp_tianhe"]
    assert case["case_no"].startswith("穗天市监立〔")
    assert [e["id"] for e in case["evidence"]] == [p["id"] for p in photos]
    assert {e["sha256"] for e in case["evidence"]} == {p["sha256"] for p in photos}
    assert case["task_result"] == {"result": "发现问题待后续处理", "findings": "后厨未取得食品经营许可证即从事经营"}
    mine = client.get("/api/cases", headers=bearer(tokens, "insp_tianhe")).get_json()
    assert any(c["id"] == case_id for c in mine)
    with closing(connect(db_url)) as conn:
        assert verify_chains(conn, settings.evidence_dir, f"case:{case_id}") == (3, [])  # open + 2 evidence
        assert verify_chains(conn, settings.evidence_dir, f"task:{task_id}") == (4, [])  # created, 2 photos, result
        with conn.cursor() as cur:
            cur.execute("SELECT kind FROM chain_links WHERE chain_key = %s ORDER BY idx", (f"case:{case_id}",))
            assert [r[0] for r in cur.fetchall()] == ["case_event", "case_evidence", "case_evidence"]


def test_refusing_the_inspection_also_opens_a_case(app, tokens, db_url):
    client = app.server.test_client()
    task_id = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    response = record(client, tokens, task_id, {"result": "不配合检查", "findings": "负责人拒绝出示证照并阻止拍照"})
    assert response.status_code == 201 and response.get_json()["case_id"]
    other = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    response = record(client, tokens, other, {"result": "未按规定公示", "findings": "未公示年报"})
    assert response.status_code == 201 and response.get_json()["case_id"] is None

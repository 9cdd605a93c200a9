"""Documents: Chinese PDFs with an embedded CJK font, the site map, evidence hashes, numbers, the chain."""

from __future__ import annotations

import hashlib
import io
import subprocess
import uuid
from contextlib import closing
from urllib.parse import unquote

import pytest

from enforcement.verify import verify_chains
from geo.db import connect
from tests.conftest import bearer
from tests.helpers import PHOTOS, entity_in, new_task, one, upload_photo


@pytest.fixture(scope="module")
def case(app, tokens, db_url):
    """A case opened by an inspector's finding, with two photos from the task."""
    client = app.server.test_client()
    task_id = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    client.post("/api/checkins", json={"task_id": task_id, "lon": 113.33, "lat": 23.135, "accuracy_m": 10},
                headers=bearer(tokens, "insp_tianhe"))
    photos = [upload_photo(client, tokens, task_id, n) for n in ("DSCN0010.jpg", "DSCN0042.jpg")]
    response = client.post(f"/api/tasks/{task_id}/result", headers=bearer(tokens, "insp_tianhe"),
                           json={"result": "发现问题待后续处理", "findings": "超出许可范围经营冷食类食品"})
    assert response.status_code == 201, response.get_json()
    case_id = response.get_json()["case_id"]
    name = one(db_url, "SELECT e.name FROM cases c JOIN entities e ON e.id = c.entity_id WHERE c.id = %s", (case_id,))
    return {"id": case_id, "task": task_id, "photos": photos, "entity_name": name}


def fetch(client, tokens, case_id, kind, user="t_reviewer_gz"):
    return client.get(f"/api/cases/{case_id}/documents/{kind}.pdf", headers=bearer(tokens, user))


def pdf_text(data: bytes, tmp_path, name: str) -> tuple[str, str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, fonts


@pytest.mark.parametrize("kind, title", [("inspection-record", "现场检查笔录"),
                                         ("rectification-notice", "责令改正通知书")])
def test_documents_are_chinese_pdfs_with_an_embedded_cjk_font_and_the_hashes(app, tokens, case, kind, title,
                                                                             tmp_path):
    response = fetch(app.server.test_client(), tokens, case["id"], kind)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF-")
    text, fonts = pdf_text(data, tmp_path, kind)
    squeezed = "".join(text.split())
    assert title in squeezed and "".join(case["entity_name"].split()) in squeezed
    for photo in case["photos"]:
        assert photo["sha256"] in text and photo["sm3"] in text
    number = unquote(response.headers["X-Document-Number"])
    code = "检" if kind == "inspection-record" else "责改"
    assert number.startswith(f"穗天市监{code}〔") and number.endswith("号") and number in squeezed
    font_rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and all(" yes yes yes " in f" {' '.join(r.split()[-5:-2])} " for r in font_rows)
    assert any("NotoSansCJK" in r and "CID Type 0C" in r for r in font_rows)
    assert "现场位置示意图" in squeezed and "超出许可范围经营冷食类食品" in squeezed
    if kind == "rectification-notice":
        assert "行政处罚法" in squeezed and "前改正" in squeezed


def test_the_same_document_twice_is_the_same_stored_pdf_until_the_case_changes(app, tokens, case, db_url, settings):
    client = app.server.test_client()
    first = fetch(client, tokens, case["id"], "inspection-record")
    second = fetch(client, tokens, case["id"], "inspection-record", user="insp_tianhe")
    assert first.get_data() == second.get_data()
    assert one(db_url, "SELECT count(*) FROM case_documents WHERE case_id = %s AND kind = 'inspection-record'",
               (case["id"],)) == 1
    sha = hashlib.sha256(first.get_data()).hexdigest()
    assert first.headers["X-Document-SHA256"] == sha
    # the PDF's own hash is in the case's chain
    assert one(db_url, "SELECT count(*) FROM chain_links l JOIN case_documents d ON d.id = l.ref_id "
                       "WHERE l.chain_key = %s AND l.kind = 'document' AND d.sha256 = %s",
               (f"case:{case['id']}", sha)) == 1
    # new evidence on the case: a new version under the same number
    data = (PHOTOS / "DSCN0021.jpg").read_bytes() + uuid.uuid4().bytes  # a file of its own
    form = {"file": (io.BytesIO(data), "x.jpg"), "sha256": hashlib.sha256(data).hexdigest(), "kind": "photo",
            "case_id": str(case["id"]), "captured_at": "2026-11-25T11:00:00+08:00"}
    added = client.post("/api/evidence", data=form, content_type="multipart/form-data",
                        headers={**bearer(tokens, "insp_tianhe"), "Idempotency-Key": str(uuid.uuid4())})
    assert added.status_code == 201, added.get_json()
    third = fetch(client, tokens, case["id"], "inspection-record")
    assert third.get_data() != first.get_data()
    assert third.headers["X-Document-Number"] == first.headers["X-Document-Number"]
    assert added.get_json()["sha256"].encode() in subprocess.run(
        ["pdftotext", "-", "-"], input=third.get_data(), capture_output=True, check=True).stdout
    versions = one(db_url, "SELECT array_agg(version ORDER BY version) FROM case_documents "
                           "WHERE case_id = %s AND kind = 'inspection-record'", (case["id"],))
    assert versions == [1, 2]
    with closing(connect(db_url)) as conn:
        checked, problems = verify_chains(conn, settings.evidence_dir, f"case:{case['id']}")
    assert problems == [] and checked >= 5


def test_numbers_are_a_per_district_per_year_sequence(app, tokens, case, db_url):
    client = app.server.test_client()
    other = client.post("/api/cases", headers=bearer(tokens, "insp_tianhe"),
                        json={"entity_id": entity_in(db_url, "440106"), "title": "未按规定公示信息（测试）"}).get_json()
    a = unquote(fetch(client, tokens, case["id"], "rectification-notice").headers["X-Document-Number"])
    b = unquote(fetch(client, tokens, other["id"], "rectification-notice").headers["X-Document-Number"])
    seq = [int(n.split("〕")[1].rstrip("号")) for n in (a, b)]
    assert seq[1] == seq[0] + 1


def test_unknown_kinds_other_regions_and_roles(app, tokens, case):
    client = app.server.test_client()
    unknown = fetch(client, tokens, case["id"], "penalty-decision")
    assert unknown.status_code == 404 and "inspection-record" in unknown.get_json()["error"]
    assert fetch(client, tokens, case["id"], "inspection-record", user="manager_sz").status_code == 404
    assert fetch(client, tokens, case["id"], "inspection-record", user="insp_yuexiu").status_code == 404
    assert fetch(client, tokens, case["id"], "inspection-record", user="t_operator_gz").status_code == 403
    assert client.get(f"/api/cases/{case['id']}/documents/inspection-record.pdf").status_code == 401

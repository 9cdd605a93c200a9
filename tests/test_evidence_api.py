"""Evidence over HTTP: real photos in, hashes and EXIF out, idempotent retries, refusals, the chain."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import uuid
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest

from geo.db import connect
from tests.conftest import bearer
from tests.helpers import (
    PHOTOS,  # noqa: E402 - the shared real photos
    entity_in,
    one,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def task_id(app, tokens, db_url):
    body = {"entity_id": entity_in(db_url, "440106"), "assignees": ["insp_tianhe"],
            "due": (date.today() + timedelta(days=2)).isoformat(), "kind": "routine"}
    response = app.server.test_client().post("/api/tasks", json=body, headers=bearer(tokens, "t_admin_gd"))
    return response.get_json()["id"]


def upload(client, tokens, task_id, data: bytes, *, key=None, sha=None, kind="photo", name="x.jpg",
           user="insp_tianhe", **fields):
    form = {"file": (io.BytesIO(data), name), "sha256": sha or hashlib.sha256(data).hexdigest(),
            "kind": kind, "task_id": str(task_id), "lon": "113.33", "lat": "23.135",
            "accuracy_m": "12", "captured_at": "2026-11-25T10:00:00+08:00", **fields}
    headers = {**bearer(tokens, user), "Idempotency-Key": key or str(uuid.uuid4())}
    return client.post("/api/evidence", data=form, headers=headers, content_type="multipart/form-data")


def test_real_photo_is_received_with_hashes_exif_and_flags(app, tokens, task_id):
    data = (PHOTOS / "DSCN0010.jpg").read_bytes()
    response = upload(app.server.test_client(), tokens, task_id, data)
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["sm3"] == hashlib.new("sm3", data).hexdigest()
    assert body["size"] == len(data) and body["media_type"] == "image/jpeg"
    assert abs(body["exif"]["lat"] - 43.467448) < 1e-4 and abs(body["exif"]["lon"] - 11.885127) < 1e-4
    assert body["exif"]["taken_at"].startswith("2008-10-22T16:28:39")
    assert "exif_far_from_entity" in body["flags"] and "exif_time_mismatch" in body["flags"]
    assert body["chain"]["index"] >= 1 and len(body["chain"]["hash"]) == 64


def test_heic_is_accepted(app, tokens, task_id):
    data = (PHOTOS / "iphone_13_pro_max.HEIC").read_bytes()
    response = upload(app.server.test_client(), tokens, task_id, data, name="IMG_0001.HEIC")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["media_type"] in ("image/heic", "image/heif")


def test_retry_is_idempotent_and_a_changed_file_conflicts(app, tokens, task_id, db_url):
    client = app.server.test_client()
    data = (PHOTOS / "DSCN0021.jpg").read_bytes()
    key = str(uuid.uuid4())
    first = upload(client, tokens, task_id, data, key=key)
    again = upload(client, tokens, task_id, data, key=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert one(db_url, "SELECT count(*) FROM evidence WHERE sha256 = %s", (first.get_json()["sha256"],)) == 1
    other = upload(client, tokens, task_id, (PHOTOS / "DSCN0042.jpg").read_bytes(), key=key)
    assert other.status_code == 409


@pytest.mark.parametrize("kwargs, status, fragment", [
    ({"sha": "0" * 64}, 422, ""),
    ({"data": b"%PDF-1.4 not a photo at all", "name": "photo.jpg"}, 415, "PDF"),
    ({"data": b"just some text", "name": "photo.jpg"}, 415, ""),
    ({"key": "not-a-uuid"}, 400, "Idempotency-Key"),
    ({"kind": "hologram"}, 400, "kind"),
    ({"captured_at": "2026-11-25 10:00"}, 400, "时区"),
    ({"lon": "113.3", "lat": ""}, 400, "lon 与 lat"),
])
def test_bad_uploads_are_refused_and_nothing_is_kept(app, tokens, task_id, db_url, kwargs, status, fragment):
    before = one(db_url, "SELECT count(*) FROM evidence")
    data = kwargs.pop("data", (PHOTOS / "DSCN0042.jpg").read_bytes())
    response = upload(app.server.test_client(), tokens, task_id, data, **kwargs)
    assert response.status_code == status, response.get_json()
    assert fragment in response.get_json()["error"]
    assert one(db_url, "SELECT count(*) FROM evidence") == before


def test_too_large_is_413(app, tokens, task_id, settings):
    from enforcement import evidence
    from enforcement.media import TooLarge

    up = evidence.parse_upload(str(uuid.uuid4()), {
        "kind": "photo", "task_id": str(task_id), "sha256": "a" * 64,
        "captured_at": "2026-11-25T10:00:00+08:00"})
    from accounts.roles import Principal

    who = Principal("insp_tianhe", "inspector", "440106")
    database = app.server.extensions["zhengtu_db"]
    with pytest.raises(TooLarge):
        with database.connection(who.db_context()) as conn:
            evidence.record_evidence(conn, who, up, io.BytesIO(b"\xff\xd8\xff" + b"0" * 5000),
                                     evidence.Intake(settings.evidence_dir, max_bytes=1000))


def test_other_district_cannot_upload_or_read(app, tokens, task_id):
    client = app.server.test_client()
    data = (PHOTOS / "DSCN0042.jpg").read_bytes()
    assert upload(client, tokens, task_id, data, user="insp_yuexiu").status_code == 404
    mine = upload(client, tokens, task_id, data).get_json()
    assert client.get(f"/api/evidence/{mine['id']}", headers=bearer(tokens, "insp_yuexiu")).status_code == 404
    got = client.get(f"/api/evidence/{mine['id']}/file", headers=bearer(tokens, "insp_tianhe"))
    assert got.status_code == 200 and hashlib.sha256(got.data).hexdigest() == mine["sha256"]
    assert client.get(f"/api/evidence/{mine['id']}/file",
                      headers=bearer(tokens, "t_operator_gz")).status_code == 403


def test_evidence_rows_are_append_only(db_url, app, tokens, task_id):
    upload(app.server.test_client(), tokens, task_id, (PHOTOS / "DSCN0010.jpg").read_bytes())
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        with pytest.raises(Exception, match="append-only"):
            cur.execute("DELETE FROM evidence")


def zhengtu_verify(db_url, settings, *args):
    env = {**os.environ, "DATABASE_URL": db_url, "ZHENGTU_EVIDENCE_DIR": str(settings.evidence_dir)}
    return subprocess.run([sys.executable, "-m", "dashboard.cli", "evidence", "verify", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_verify_passes_then_names_a_tampered_file(app, tokens, task_id, db_url, settings):
    body = upload(app.server.test_client(), tokens, task_id,
                  (PHOTOS / "DSCN0021.jpg").read_bytes() + b"\x00unique").get_json()
    ok = zhengtu_verify(db_url, settings, "--task", str(task_id))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    path = settings.evidence_dir / one(db_url, "SELECT path FROM evidence WHERE id = %s", (body["id"],))
    original = path.read_bytes()
    path.chmod(0o640)
    path.write_bytes(original[:-1] + b"\x01")
    try:
        broken = zhengtu_verify(db_url, settings, "--task", str(task_id))
        assert broken.returncode == 1
        assert f"evidence {body['id']}: file content does not match" in broken.stdout
    finally:
        path.write_bytes(original)


def test_dossier_lists_evidence_with_thumbnails_and_nearby_events(app, tokens, task_id, db_url):
    client = app.server.test_client()
    body = upload(client, tokens, task_id, (PHOTOS / "DSCN0042.jpg").read_bytes() + b"\x00d").get_json()
    entity = one(db_url, "SELECT entity_id FROM inspection_tasks WHERE id = %s", (task_id,))
    dossier = client.get(f"/api/entities/{entity}", headers=bearer(tokens, "insp_tianhe")).get_json()
    item = next(e for e in dossier["evidence"] if e["id"] == body["id"])
    assert item["has_thumb"] and item["kind"] == "photo"
    thumb = client.get(f"/api/evidence/{body['id']}/thumb", headers=bearer(tokens, "insp_tianhe"))
    assert thumb.status_code == 200 and thumb.data[:3] == b"\xff\xd8\xff"
    assert isinstance(dossier["nearby_events"], list)
    assert all(e["distance_m"] <= 500 for e in dossier["nearby_events"])

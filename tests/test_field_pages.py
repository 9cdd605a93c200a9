"""The field pages (/field) over the Flask test client: who may see them, what they load, escaping."""

from __future__ import annotations

import gzip
import json
import re
from contextlib import closing
from html import unescape

import pytest

from dashboard.field import assets
from geo.db import connect
from tests.conftest import login
from tests.helpers import entity_in, one

HOSTILE_NAME = '<img src=x onerror="window.__xss=1">测试"餐饮\'店'
USCC = "91440106MA5XXX0020"  # valid check character


@pytest.fixture
def inspector(app):
    client = app.server.test_client()
    assert login(client, "insp_tianhe").status_code == 303
    return client


@pytest.fixture
def hostile_entity(db_url):
    """A 天河 entity whose name is an HTML injection attempt (committed, then removed)."""
    with closing(connect(db_url)) as conn:
        with conn, conn.cursor() as cur:
            cur.execute("""
                INSERT INTO entities (uscc, name, category, risk_class, address, district_adcode, geom)
                VALUES (%s, %s, 'catering', 'C', '天河区体育西路<b>1</b>号', '440106',
                        ST_SetSRID(ST_MakePoint(113.3301, 23.1354), 4326)) RETURNING id""", (USCC, HOSTILE_NAME))
            entity_id = cur.fetchone()[0]
        yield entity_id
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM entities WHERE id = %s", (entity_id,))


def asset_urls(html: str) -> list[str]:
    """Everything the page makes the browser fetch: scripts, images, stylesheets, manifest, icons."""
    return (re.findall(r'<(?:script|img)\b[^>]*\bsrc="([^"]+)"', html)
            + re.findall(r'<link\b[^>]*\bhref="([^"]+)"', html))


def page_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="zt-field-config">(.*?)</script>', html, re.S)
    assert found, "page config missing"
    return json.loads(found.group(1))


def test_shell_renders_for_an_inspector(inspector):
    response = inspector.get("/field")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="zh-CN">' in html
    for text in ("今日任务", "到场签到", "拍照", "录像", "录音", "文档", "文字记录", "离线带走今日任务", "我的周边"):
        assert text in html, text
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    config = page_config(html)
    assert config["user"]["username"] == "insp_tianhe" and config["user"]["may_check_in"] is True
    assert config["map"]["sources"]["entities"]["tiles"] == ["/tiles/entities/{z}/{x}/{y}.mvt"]
    assert inspector.get("/field/").status_code == 200  # the trailing slash is the same page


def test_other_staff_see_the_shell_without_check_in(app, tokens):
    response = app.server.test_client().get("/field", headers={"Authorization": f"Bearer {tokens['t_reviewer_gz']}"})
    assert response.status_code == 200
    assert page_config(response.get_data(as_text=True))["user"]["may_check_in"] is False


@pytest.mark.parametrize("path", ["/field", "/field/entity/1", "/field/"])
def test_anonymous_is_sent_to_login_and_back(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=" + path


def test_login_form_brings_the_inspector_back_to_field(app):
    client = app.server.test_client()
    target = client.get("/field").headers["Location"]
    form = client.get(target).get_data(as_text=True)
    assert 'name="next" value="/field"' in form
    csrf = client.get_cookie("_csrf_token").value
    done = client.post("/login", data={"username": "insp_tianhe", "password": "correct horse battery",
                                       "csrf_token": csrf, "next": "/field"})
    assert done.status_code == 303 and done.headers["Location"] == "/field"


def test_dossier_shows_registration_inspections_cases_events_and_evidence(inspector, db_url):
    entity = entity_in(db_url, "440106")
    uscc = one(db_url, "SELECT uscc FROM entities WHERE id = %s", (entity,))
    response = inspector.get(f"/field/entity/{entity}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("登记信息", uscc, "风险等级", "许可证号", "检查记录", "在办案件", "周边城市事件", "证据"):
        assert text in html, text
    assert 'id="zt-entity-map"' in html  # the small map of the surroundings


def test_dossier_masks_what_the_role_may_not_read(app, tokens, db_url):
    entity = entity_in(db_url, "440106")
    id_number = one(db_url, "SELECT legal_rep_id FROM entities WHERE id = %s", (entity,))
    phone = one(db_url, "SELECT contact_phone FROM entities WHERE id = %s", (entity,))
    client = app.server.test_client()
    as_inspector = client.get(f"/field/entity/{entity}", headers={"Authorization": f"Bearer {tokens['insp_tianhe']}"})
    as_operator = client.get(f"/field/entity/{entity}", headers={"Authorization": f"Bearer {tokens['t_operator_gz']}"})
    assert id_number not in as_inspector.get_data(as_text=True)  # inspectors need name and phone, not the ID
    assert phone in as_inspector.get_data(as_text=True)
    assert phone not in as_operator.get_data(as_text=True)


def test_another_districts_dossier_is_not_shown(app, db_url):
    entity = entity_in(db_url, "440106")
    name = one(db_url, "SELECT name FROM entities WHERE id = %s", (entity,))
    client = app.server.test_client()
    login(client, "insp_yuexiu")
    response = client.get(f"/field/entity/{entity}")
    html = response.get_data(as_text=True)
    assert response.status_code in (403, 404)
    assert name not in html and "无法打开此页面" in html


def test_bad_entity_id_is_a_400_page(inspector):
    response = inspector.get("/field/entity/abc")
    assert response.status_code == 400 and "entity_id" in response.get_data(as_text=True)


def test_dossier_escapes_a_hostile_name(inspector, hostile_entity):
    response = inspector.get(f"/field/entity/{hostile_entity}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<img src=x" not in html and "<b>1</b>" not in html
    assert "&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;" in html
    name_attr = re.search(r'data-name="([^"]*)"', html).group(1)  # an attribute the script reads
    assert unescape(name_attr) == HOSTILE_NAME


@pytest.mark.parametrize("path", ["/field", "entity"])
def test_pages_load_only_local_assets_and_never_plotly(inspector, db_url, path):
    if path == "entity":
        path = f"/field/entity/{entity_in(db_url, '440106')}"
    html = inspector.get(path).get_data(as_text=True)
    assert "plotly" not in html.lower()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # nothing from another host
    urls = asset_urls(html)
    assert any(u.startswith("/field/static/vendor/maplibre-gl.js?v=") for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        response = inspector.get(url)
        assert response.status_code == 200, url
        assert b"plotly" not in response.get_data().lower(), url


def test_versioned_assets_are_immutable_and_unversioned_are_revalidated(client):
    versioned = client.get(assets.asset_url("shell.js"))
    assert versioned.status_code == 200 and "immutable" in versioned.headers["Cache-Control"]
    assert "javascript" in versioned.mimetype
    plain = client.get("/field/static/shell.js")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    for escape in ("../routes.py", "..%2Froutes.py", "vendor/../../app.py", "vendor/LICENSE.txt"):
        assert client.get(f"/field/static/{escape}").status_code == 404, escape
    assert client.get("/field/static/sw.js").status_code == 404  # only at /field/sw.js, for its scope


def test_service_worker_is_javascript_with_the_field_scope(client, inspector):
    response = client.get("/field/sw.js")
    source = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Service-Worker-Allowed"] == "/field"
    assert "no-cache" in response.headers["Cache-Control"]
    config = json.loads(re.search(r"const CONFIG = (\{.*?\});", source).group(1))
    shell = inspector.get("/field").get_data(as_text=True)
    scripts = [u for u in asset_urls(shell) if ".js?" in u or ".css?" in u]
    assert scripts and set(scripts) <= set(config["precache"])  # the shell opens from the precache
    assert config["shell"] == "/field"
    assert 'register("/field/sw.js", { scope: "/field" })' in client.get(assets.asset_url("common.js")).get_data(
        as_text=True)


def test_manifest_keeps_the_app_in_field_scope(client):
    response = client.get("/field/manifest.webmanifest")
    body = json.loads(response.get_data(as_text=True))
    assert response.mimetype == "application/manifest+json"
    assert body["start_url"] == "/field" and body["scope"] == "/field" and body["lang"] == "zh-CN"


def test_shell_and_scripts_are_gzipped_for_phones(inspector):
    page = inspector.get("/field", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("Content-Encoding") == "gzip"
    maplibre = inspector.get(assets.maplibre_url("js"), headers={"Accept-Encoding": "gzip, deflate"})
    assert maplibre.headers.get("Content-Encoding") == "gzip" and len(maplibre.data) < 350_000
    assert gzip.decompress(maplibre.data) == assets.VENDOR["maplibre-gl.js"].read_bytes()
    plain = inspector.get(assets.maplibre_url("js"), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and len(plain.data) > 1_000_000
    again = inspector.get(assets.maplibre_url("js"), headers={"Accept-Encoding": "gzip",
                                                             "If-None-Match": maplibre.headers["ETag"]})
    assert again.status_code == 304

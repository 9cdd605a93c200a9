"""The Dash app over HTTP: pages render, every asset is served locally, no outside URLs."""

from __future__ import annotations

import json
import re

import requests


def test_map_page_and_layout(live_url):
    page = requests.get(live_url + "/", timeout=10)
    assert page.status_code == 200
    assert "政图" in page.text
    layout = requests.get(live_url + "/_dash-layout", timeout=10).json()
    assert "zt-shell" in str(layout)


def test_every_script_and_stylesheet_is_local_and_served(live_url):
    html = requests.get(live_url + "/", timeout=10).text
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("maplibre-gl.js" in u for u in urls)
    for url in urls:
        assert not url.startswith(("http://", "https://", "//")), url
        response = requests.get(live_url + url, timeout=10)
        assert response.status_code == 200, url


def test_page_layout_carries_the_tile_layers(client, tokens):
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['t_admin_gd']}"
    response = client.post("/_dash-update-component", json={
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"], "state": []})
    assert response.status_code == 200
    body = json.dumps(response.get_json(), ensure_ascii=False)
    assert "/tiles/entities/{z}/{x}/{y}.mvt" in body
    assert "/tiles/admin_areas/{z}/{x}/{y}.mvt" in body


def test_security_headers(client):
    response = client.get("/api/locate?lon=113.32&lat=23.13")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"].startswith("application/json")


def test_language_choice_is_remembered_for_the_layout(live_url):
    session = requests.Session()
    assert "政图" in json.dumps(session.get(live_url + "/_dash-layout", timeout=10).json(),
                              ensure_ascii=False)
    session.get(live_url + "/?lang=en", timeout=10)
    assert session.cookies.get("zt_lang") == "en"
    layout = json.dumps(session.get(live_url + "/_dash-layout", timeout=10).json(), ensure_ascii=False)
    assert "Zhengtu" in layout and "One government map" in layout

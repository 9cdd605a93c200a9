"""The role matrix: every route, page and server-side callback, walked as every role.

The expected table below is the specification; ``test_matrix_covers_every_route_and_callback``
fails when an endpoint or callback is added without adding it here.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import BY_ROLE
from tests.helpers import EXPLORER_CALLBACKS, TASK_CALLBACKS, audit_search_request, case_in, entity_in, pages_request

ROLES = ["public", "inspector", "legal_reviewer", "operator", "manager", "admin"]
OK, LOGIN, DENY, REDIRECT, NOTFOUND = 200, 401, 403, 302, 404


def expect(public, inspector, reviewer, operator, manager, admin) -> dict[str, int]:
    return dict(zip(ROLES, (public, inspector, reviewer, operator, manager, admin), strict=True))


ALL_OK = expect(OK, OK, OK, OK, OK, OK)
STAFF_OK = expect(LOGIN, OK, OK, OK, OK, OK)
# (endpoint, method, path-builder, body-builder, expected status by role)
# The entity and case are in 天河区 440106; the manager account's region is 深圳 4403, so for
# the manager they do not exist (404): jurisdiction, not role, decides there.
MATRIX = [
    ("login.login_form", "GET", lambda ids: "/login", None, ALL_OK),
    ("api.locate_point", "GET", lambda ids: "/api/locate?lon=113.319&lat=23.135", None, ALL_OK),
    ("tiles.tile", "GET", lambda ids: "/tiles/admin_areas/6/52/27.mvt", None, ALL_OK),
    ("tiles.tile", "GET", lambda ids: "/tiles/entities/6/52/27.mvt", None, STAFF_OK),
    ("tiles.tilejson", "GET", lambda ids: "/tiles/admin_areas.json", None, ALL_OK),
    ("tiles.tilejson", "GET", lambda ids: "/tiles/entities.json", None, STAFF_OK),
    ("api.entity", "GET", lambda ids: f"/api/entities/{ids['entity']}", None,
     expect(LOGIN, OK, OK, OK, NOTFOUND, OK)),
    ("api.case", "GET", lambda ids: f"/api/cases/{ids['case']}", None,
     expect(LOGIN, OK, OK, OK, NOTFOUND, OK)),
    ("/", "GET", lambda ids: "/", None, ALL_OK),
    ("/<path:path>", "GET", lambda ids: "/admin/audit", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("/<path:path>", "GET", lambda ids: f"/entity/{ids['entity']}", None,
     expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("/_dash-layout", "GET", lambda ids: "/_dash-layout", None, ALL_OK),
    ("/_dash-dependencies", "GET", lambda ids: "/_dash-dependencies", None, ALL_OK),
    ("/_favicon.ico", "GET", lambda ids: "/_favicon.ico", None, ALL_OK),
    ("_dash_assets.static", "GET", lambda ids: "/assets/style.css", None, ALL_OK),
    ("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
     lambda ids: pages_request("/"), ALL_OK),
    ("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
     lambda ids: audit_search_request(), expect(LOGIN, DENY, DENY, DENY, DENY, OK)),
    ("login.logout", "POST", lambda ids: "/logout", None, expect(303, 303, 303, 303, 303, 303)),
    ("field_api.tasks", "GET", lambda ids: "/api/tasks", None, STAFF_OK),
    ("field_api.create_task", "POST", lambda ids: "/api/tasks", None, expect(LOGIN, DENY, DENY, DENY, 400, 400)),
    ("field_api.checkin", "POST", lambda ids: "/api/checkins", None, expect(LOGIN, 400, DENY, DENY, DENY, DENY)),
    ("field_api.checkin_reason", "POST", lambda ids: "/api/checkins/1/reason", None,
     expect(LOGIN, 400, DENY, DENY, DENY, DENY)),
    ("field_api.nearby", "GET", lambda ids: "/api/nearby?lon=113.32&lat=23.13", None, STAFF_OK),
    ("ogc.schema", "GET", lambda ids: "/ogc/collections/admin_areas/schema", None, ALL_OK),
    ("ogc.schema", "GET", lambda ids: "/ogc/collections/entities/schema", None,
     expect(NOTFOUND, OK, OK, OK, OK, OK)),
    ("field_api.upload_evidence", "POST", lambda ids: "/api/evidence", None,
     expect(LOGIN, 400, 400, DENY, DENY, 400)),
    ("field_api.evidence_metadata", "GET", lambda ids: "/api/evidence/999999999", None,
     expect(LOGIN, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND)),
    ("field_api.evidence_file", "GET", lambda ids: "/api/evidence/999999999/file", None,
     expect(LOGIN, NOTFOUND, NOTFOUND, DENY, NOTFOUND, NOTFOUND)),
    ("field_api.evidence_thumb", "GET", lambda ids: "/api/evidence/999999999/thumb", None,
     expect(LOGIN, NOTFOUND, NOTFOUND, DENY, NOTFOUND, NOTFOUND)),
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, STAFF_OK) for body in EXPLORER_CALLBACKS.values()],
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, DENY, DENY, DENY, OK, OK)) for body in TASK_CALLBACKS.values()],
    ("/<path:path>", "GET", lambda ids: "/tasks", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("export.map_html", "GET", lambda ids: "/export/map.html?map=12/113.33/23.13&layers=admin_areas", None, ALL_OK),
    ("export.map_html", "GET", lambda ids: "/export/map.html?map=12/113.33/23.13&layers=admin_areas,entities",
     None, STAFF_OK),
    # OGC API: declared for all roles; each layer's roles decide inside (a hidden layer is 404)
    ("ogc.landing", "GET", lambda ids: "/ogc", None, ALL_OK),
    ("ogc.landing", "GET", lambda ids: "/ogc/?f=html", None, ALL_OK),
    ("ogc.conformance", "GET", lambda ids: "/ogc/conformance", None, ALL_OK),
    ("ogc.api", "GET", lambda ids: "/ogc/api", None, ALL_OK),
    ("ogc.collections", "GET", lambda ids: "/ogc/collections", None, ALL_OK),
    ("ogc.collection", "GET", lambda ids: "/ogc/collections/admin_areas", None, ALL_OK),
    ("ogc.collection", "GET", lambda ids: "/ogc/collections/entities", None, expect(NOTFOUND, OK, OK, OK, OK, OK)),
    ("ogc.items", "GET", lambda ids: "/ogc/collections/admin_areas/items?limit=2", None, ALL_OK),
    ("ogc.items", "GET", lambda ids: "/ogc/collections/entities/items?limit=2", None,
     expect(NOTFOUND, OK, OK, OK, OK, OK)),
    ("ogc.item", "GET", lambda ids: "/ogc/collections/admin_areas/items/district-440106", None, ALL_OK),
    ("ogc.item", "GET", lambda ids: f"/ogc/collections/entities/items/{ids['entity']}", None,
     expect(NOTFOUND, OK, OK, OK, NOTFOUND, OK)),
    ("ogc.item", "GET", lambda ids: f"/ogc/collections/cases/items/{ids['case']}?f=html", None,
     expect(NOTFOUND, OK, OK, OK, NOTFOUND, OK)),
    ("field.shell", "GET", lambda ids: "/field", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("field.entity", "GET", lambda ids: f"/field/entity/{ids['entity']}", None,
     expect(REDIRECT, OK, OK, OK, NOTFOUND, OK)),
    ("field.asset", "GET", lambda ids: "/field/static/field.css", None, ALL_OK),
    ("field.service_worker", "GET", lambda ids: "/field/sw.js", None, ALL_OK),
    ("field.manifest", "GET", lambda ids: "/field/manifest.webmanifest", None, ALL_OK),
]
# endpoints that exist but are not worth a request here, with the reason
NOT_WALKED = {
    "login.login_submit": "POST /login is exercised in test_accounts (credentials, CSRF, lockout)",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>":
        "every script URL of the index page is fetched in test_pages",
    "/_reload-hash": "development hot-reload only; declared public, returns a hash",
}
CALLBACKS = {".._pages_content.children..._pages_store.data..", "zt-audit-table.children",
             *EXPLORER_CALLBACKS, *TASK_CALLBACKS}


@pytest.fixture(scope="module")
def ids(db_url):
    return {"entity": entity_in(db_url, "440106"), "case": case_in(db_url, "440106")}


def call(client, tokens, role, method, path, body):
    headers = {} if role == "public" else {"Authorization": f"Bearer {tokens[BY_ROLE[role]]}"}
    if method == "GET":
        return client.get(path, headers=headers)
    if body is None:
        return client.post(path, headers=headers)
    return client.post(path, headers=headers, json=body)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, tokens, ids, role):
    client = app.server.test_client()
    failures = []
    for endpoint, method, path_of, body_of, expected in MATRIX:
        path = path_of(ids)
        response = call(client, tokens, role, method, path, body_of(ids) if body_of else None)
        if response.status_code != expected[role]:
            failures.append(f"{method} {path} ({endpoint}): {response.status_code} != {expected[role]}")
    assert failures == []


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_only_for_their_roles(app, tokens, ids, role):
    """The page-content callback runs for everyone, but a page only renders for its roles."""
    client = app.server.test_client()
    audit_page = call(client, tokens, role, "POST", "/_dash-update-component",
                      pages_request("/admin/audit"))
    text = json.dumps(audit_page.get_json(), ensure_ascii=False)
    assert ("zt-audit-table" in text) == (role == "admin")
    entity_page = call(client, tokens, role, "POST", "/_dash-update-component",
                       pages_request(f"/entity/{ids['entity']}"))
    text = json.dumps(entity_page.get_json(), ensure_ascii=False)
    assert ("zt-entity-name" in text) == (role in ("inspector", "legal_reviewer", "operator", "admin"))


def test_matrix_covers_every_route_and_callback(app, client):
    walked = {row[0] for row in MATRIX}
    routes = {rule.endpoint for rule in app.server.url_map.iter_rules()}
    assert routes - walked - set(NOT_WALKED) == set()
    server_side = {dep["output"] for dep in client.get("/_dash-dependencies").get_json()
                   if not dep.get("clientside_function")}
    assert server_side == CALLBACKS


def test_undeclared_callback_is_refused(app, tokens):
    client = app.server.test_client()
    body = audit_search_request()
    body["output"] = "zt-made-up.children"
    response = client.post("/_dash-update-component", json=body,
                           headers={"Authorization": f"Bearer {tokens['t_admin_gd']}"})
    assert response.status_code == 403
    assert "未声明" in response.get_json()["error"]

"""The role matrix: every route, page and server-side callback, walked as every role.

The expected table below is the specification; ``test_matrix_covers_every_route_and_callback``
fails when an endpoint or callback is added without adding it here.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import BY_ROLE
from tests.helpers import (
    CASE_ACTION_CALLBACKS,
    CASE_LIST_CALLBACKS,
    DRAW_READ_CALLBACKS,
    DRAW_WRITE_CALLBACKS,
    EXPLORER_CALLBACKS,
    OPS_DESK_READ_CALLBACKS,
    OPS_DESK_WRITE_CALLBACKS,
    TASK_CALLBACKS,
    audit_search_request,
    callback_request,
    case_in,
    entity_in,
    pages_request,
)

ROLES = ["public", "inspector", "legal_reviewer", "operator", "manager", "admin"]
OK, LOGIN, DENY, REDIRECT, NOTFOUND = 200, 401, 403, 302, 404


def expect(public, inspector, reviewer, operator, manager, admin) -> dict[str, int]:
    return dict(zip(ROLES, (public, inspector, reviewer, operator, manager, admin), strict=True))


ALL_OK = expect(OK, OK, OK, OK, OK, OK)
STAFF_OK = expect(LOGIN, OK, OK, OK, OK, OK)
KPI_READ = expect(LOGIN, DENY, OK, OK, OK, OK)
KPI_TARGET_CALLBACK = callback_request("zt-kpi-target-msg.children", [("zt-kpi-target-set", "n_clicks", 1)],
                                       [("zt-kpi-target-value", "value", None), ("zt-kpi-state", "data", {})])
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
    # 双随机 draws (desktop page, callbacks) and the public results (一公开, no login)
    ("/<path:path>", "GET", lambda ids: "/draws", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, DENY, DENY, DENY, OK, OK)) for body in DRAW_WRITE_CALLBACKS.values()],
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, DENY, OK, DENY, OK, OK)) for body in DRAW_READ_CALLBACKS.values()],
    ("public.page", "GET", lambda ids: "/public", None, ALL_OK),
    ("public.page", "GET", lambda ids: "/public?district=44x", None, expect(400, 400, 400, 400, 400, 400)),
    ("public.results", "GET", lambda ids: "/api/public/results?district=4401", None, ALL_OK),
    ("public.results", "GET", lambda ids: "/api/public/results?from=nope", None, expect(400, 400, 400, 400, 400, 400)),
    ("imports.form", "GET", lambda ids: "/admin/import", None, expect(LOGIN, DENY, DENY, DENY, DENY, OK)),
    ("imports.upload", "POST", lambda ids: "/admin/import", None, expect(LOGIN, DENY, DENY, DENY, DENY, 400)),
    ("imports.report", "GET", lambda ids: f"/admin/import/report/{'0' * 32}.csv", None,
     expect(LOGIN, DENY, DENY, DENY, DENY, NOTFOUND)),
    # task results, enforcement cases and their documents (no body: 400 after the role check)
    ("cases_api.task_result", "POST", lambda ids: "/api/tasks/1/result", None,
     expect(LOGIN, 400, DENY, DENY, DENY, DENY)),
    ("cases_api.list_cases", "GET", lambda ids: "/api/cases", None, expect(LOGIN, OK, OK, DENY, OK, OK)),
    ("cases_api.create_case", "POST", lambda ids: "/api/cases", None, expect(LOGIN, 400, DENY, DENY, 400, DENY)),
    ("cases_api.transition", "POST", lambda ids: f"/api/cases/{ids['case']}/transitions", None,
     expect(LOGIN, 400, 400, DENY, 400, DENY)),
    ("cases_api.extension", "POST", lambda ids: f"/api/cases/{ids['case']}/extension", None,
     expect(LOGIN, DENY, 400, DENY, 400, DENY)),
    ("cases_api.pause", "POST", lambda ids: f"/api/cases/{ids['case']}/pauses", None,
     expect(LOGIN, 400, 400, DENY, 400, DENY)),
    ("cases_api.resume", "POST", lambda ids: f"/api/cases/{ids['case']}/pauses/resume", None,
     expect(LOGIN, 400, 400, DENY, 400, DENY)),
    ("cases_api.document", "GET", lambda ids: f"/api/cases/{ids['case']}/documents/inspection-record.pdf", None,
     expect(LOGIN, OK, OK, DENY, NOTFOUND, OK)),
    ("/<path:path>", "GET", lambda ids: "/cases", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("/<path:path>", "GET", lambda ids: f"/case/{ids['case']}", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, OK, OK, DENY, OK, OK)) for body in CASE_LIST_CALLBACKS.values()],
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, DENY, OK, DENY, OK, DENY))
      for body in CASE_ACTION_CALLBACKS.values()],
    # 一网统管 (dashboard/ops_api.py): reporters = inspector, operator, admin; the desk = operator, admin.
    # Bodies are absent (400 once past the role check); id 999999999 does not exist (404 past it).
    ("ops_api.post_events", "POST", lambda ids: "/api/events", None, expect(LOGIN, 400, DENY, 400, DENY, 400)),
    ("ops_api.event_categories", "GET", lambda ids: "/api/events/categories", None, STAFF_OK),
    ("ops_api.list_events", "GET", lambda ids: "/api/events?status=立案", None, STAFF_OK),
    ("ops_api.event_changes", "GET", lambda ids: "/api/events/changes", None, STAFF_OK),
    ("ops_api.get_event", "GET", lambda ids: "/api/events/999999999", None,
     expect(LOGIN, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND, NOTFOUND)),
    ("ops_api.post_transition", "POST", lambda ids: "/api/events/999999999/transitions", None,
     expect(LOGIN, 400, DENY, 400, DENY, 400)),
    ("ops_api.list_sensors", "GET", lambda ids: "/api/sensors", None, STAFF_OK),
    ("ops_api.register_sensor", "POST", lambda ids: "/api/sensors", None, expect(LOGIN, DENY, DENY, 400, DENY, 400)),
    ("ops_api.sensor_readings", "GET", lambda ids: "/api/sensors/999999999/readings", None, STAFF_OK),
    ("ops_api.post_readings", "POST", lambda ids: "/api/sensors/999999999/readings", None,
     expect(LOGIN, DENY, DENY, 400, DENY, 400)),
    ("ops_api.list_alerts", "GET", lambda ids: "/api/alerts?open=true", None, STAFF_OK),
    ("ops_api.ack_alert", "POST", lambda ids: "/api/alerts/999999999/ack", None,
     expect(LOGIN, DENY, DENY, NOTFOUND, DENY, NOTFOUND)),
    # KPIs: legal reviewers and operators read, managers and admins also set targets
    ("kpi_api.definitions", "GET", lambda ids: "/api/kpi", None, KPI_READ),
    ("kpi_api.kpi_value", "GET", lambda ids: "/api/kpi/task_on_time", None, KPI_READ),
    ("kpi_api.kpi_records", "GET", lambda ids: "/api/kpi/task_on_time/records", None, KPI_READ),
    ("kpi_api.kpi_targets", "GET", lambda ids: "/api/kpi/task_on_time/targets", None, KPI_READ),
    ("kpi_api.set_kpi_target", "POST", lambda ids: "/api/kpi/task_on_time/targets", None,
     expect(LOGIN, DENY, DENY, DENY, 400, 400)),
    ("kpi_api.export_xlsx", "GET", lambda ids: "/kpi/export.xlsx?kpi=task_on_time", None, KPI_READ),
    ("kpi_api.export_pdf", "GET", lambda ids: "/kpi/export.pdf?kpi=task_on_time", None, KPI_READ),
    ("/<path:path>", "GET", lambda ids: "/kpi", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
     lambda ids: KPI_TARGET_CALLBACK, expect(LOGIN, DENY, DENY, DENY, OK, OK)),
    # 运行大屏 /ops (snapshot + deltas) and 调度台 /ops/desk: operators, managers (desk read-only), admins
    ("ops_wall.snapshot", "GET", lambda ids: "/api/ops/snapshot", None, expect(LOGIN, DENY, DENY, OK, OK, OK)),
    ("ops_wall.changes", "GET", lambda ids: "/api/ops/changes?cursor=e0.s0.a0.t0", None,
     expect(LOGIN, DENY, DENY, OK, OK, OK)),
    ("/<path:path>", "GET", lambda ids: "/ops", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    ("/<path:path>", "GET", lambda ids: "/ops/desk", None, expect(REDIRECT, OK, OK, OK, OK, OK)),
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, DENY, DENY, OK, OK, OK))
      for body in OPS_DESK_READ_CALLBACKS.values()],
    *[("/_dash-update-component", "POST", lambda ids: "/_dash-update-component",
       lambda ids, body=body: body, expect(LOGIN, DENY, DENY, OK, DENY, OK))
      for body in OPS_DESK_WRITE_CALLBACKS.values()],
]
# endpoints that exist but are not worth a request here, with the reason
NOT_WALKED = {
    "login.login_submit": "POST /login is exercised in test_accounts (credentials, CSRF, lockout)",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>":
        "every script URL of the index page is fetched in test_pages",
    "/_reload-hash": "development hot-reload only; declared public, returns a hash",
}
CALLBACKS = {".._pages_content.children..._pages_store.data..", "zt-audit-table.children",
             *EXPLORER_CALLBACKS, *TASK_CALLBACKS, *DRAW_WRITE_CALLBACKS, *DRAW_READ_CALLBACKS,
             *CASE_LIST_CALLBACKS, *CASE_ACTION_CALLBACKS, "zt-kpi-target-msg.children",
             *OPS_DESK_READ_CALLBACKS, *OPS_DESK_WRITE_CALLBACKS}


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

"""Small builders shared by the access tests."""

from __future__ import annotations

import json
from contextlib import closing

from geo.db import connect


def one(db_url: str, query: str, params: tuple = ()):
    """First column of the first row, as the database owner (bypasses row-level security)."""
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
        return None if row is None else row[0]


def entity_in(db_url: str, district: str) -> int:
    return one(db_url, "SELECT min(id) FROM entities WHERE district_adcode = %s", (district,))


def case_in(db_url: str, district: str) -> int:
    existing = one(db_url, "SELECT min(id) FROM cases WHERE district_adcode = %s", (district,))
    if existing:
        return existing
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO cases (case_no, entity_id, title, stage, opened_on, district_adcode)
                       SELECT '测试' || id || '号', id, '无证经营', '立案', current_date, district_adcode
                       FROM entities WHERE district_adcode = %s ORDER BY id LIMIT 1 RETURNING id""",
                    (district,))
        return cur.fetchone()[0]


def pages_request(path: str) -> dict:
    """The body Dash's renderer posts to render the page at ``path``."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def audit_search_request() -> dict:
    states = [("zt-audit-user", "value"), ("zt-audit-action", "value"), ("zt-audit-object", "value"),
              ("zt-audit-dates", "start_date"), ("zt-audit-dates", "end_date")]
    return {"output": "zt-audit-table.children",
            "outputs": {"id": "zt-audit-table", "property": "children"},
            "inputs": [{"id": "zt-audit-search", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["zt-audit-search.n_clicks"],
            "state": [{"id": i, "property": p, "value": None} for i, p in states]}


def callback_request(output: str, inputs: list[tuple[object, str, object]],
                     state: list[tuple[object, str, object]] = ()) -> dict:
    """A hand-made Dash callback body: ``inputs``/``state`` are (id, property, value) triples."""
    def spec(items):
        return [{"id": i, "property": p, "value": v} for i, p, v in items]

    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in output.strip(".").split("...")]
    return {"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": spec(inputs), "state": spec(state),
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}


SQUARE_TIANHE = {"type": "Polygon", "coordinates": [[[113.30, 23.11], [113.36, 23.11], [113.36, 23.16],
                                                     [113.30, 23.16], [113.30, 23.11]]]}
def task_create_request(entity_id, assignees, due, kind="complaint") -> dict:
    """The tasks page's create callback, as the browser would post it."""
    return callback_request("..zt-task-message.children...zt-task-table.children..",
                            [("zt-task-create", "n_clicks", 1)],
                            [("zt-task-entity", "value", entity_id), ("zt-task-assignees", "value", assignees),
                             ("zt-task-due", "date", due), ("zt-task-kind", "value", kind),
                             ("zt-task-note", "value", None)])


TASK_CALLBACKS = {
    "zt-task-entity.options": callback_request("zt-task-entity.options", [("zt-task-entity-search", "value", "天河")]),
    "zt-task-assignees.options": callback_request("zt-task-assignees.options", [("zt-task-entity", "value", 1)]),
    "..zt-task-message.children...zt-task-table.children..": task_create_request(None, [], None),
}
EXPLORER_CALLBACKS = {
    "zt-search-results.children": callback_request(
        "zt-search-results.children", [("zt-search", "value", "天河")]),
    "zt-selection-result.children": callback_request(
        "zt-selection-result.children", [("zt-selection", "data", SQUARE_TIANHE),
                                         ("zt-selection-layer", "value", "entities")]),
    "zt-download.data": callback_request(
        "zt-download.data", [("zt-export-csv", "n_clicks", 1), ("zt-export-xlsx", "n_clicks", 0)],
        [("zt-selection", "data", SQUARE_TIANHE), ("zt-selection-layer", "value", "entities")]),
    "..zt-choropleth-data.data...zt-choropleth-legend.children..": callback_request(
        "..zt-choropleth-data.data...zt-choropleth-legend.children..",
        [("zt-choropleth", "value", "entity_count")]),
}


def _photos_dir():
    """The shared real-camera photos: beside the clone (as in CI), or named by ZHENGTU_SHARED_DIR."""
    import os
    from pathlib import Path

    here = Path(__file__).resolve().parents[1]
    candidates = [Path(os.environ["ZHENGTU_SHARED_DIR"]) if os.environ.get("ZHENGTU_SHARED_DIR") else None,
                  here.parent / "shared", Path("/work/shared")]
    for base in filter(None, candidates):
        if (base / "fixtures/photos/DSCN0010.jpg").exists():
            return base / "fixtures/photos"
    raise FileNotFoundError("找不到 shared/fixtures/photos：请把 shared/ 放在仓库旁，或设置 ZHENGTU_SHARED_DIR")


PHOTOS = _photos_dir()


def new_task(client, tokens_: dict, entity_id: int, assignees: list[str], kind: str = "routine") -> int:
    """An ad-hoc task made through the API by the administrator (cases, results, documents tests)."""
    from datetime import date, timedelta

    body = {"entity_id": entity_id, "assignees": assignees, "kind": kind,
            "due": (date.today() + timedelta(days=2)).isoformat()}
    response = client.post("/api/tasks", json=body, headers={"Authorization": f"Bearer {tokens_['t_admin_gd']}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def upload_photo(client, tokens_: dict, task_id: int, name: str = "DSCN0010.jpg", user: str = "insp_tianhe"):
    """A real camera photo as task evidence through ``POST /api/evidence``; returns the receipt.

    A few unique bytes follow the JPEG's end marker, so every call is a new file (other tests count
    the rows of the unmodified photos).
    """
    import hashlib
    import io
    import uuid

    data = (PHOTOS / name).read_bytes() + uuid.uuid4().bytes
    form = {"file": (io.BytesIO(data), name), "sha256": hashlib.sha256(data).hexdigest(), "kind": "photo",
            "task_id": str(task_id), "lon": "113.33", "lat": "23.135", "accuracy_m": "12",
            "captured_at": "2026-11-25T10:00:00+08:00"}
    headers = {"Authorization": f"Bearer {tokens_[user]}", "Idempotency-Key": str(uuid.uuid4())}
    response = client.post("/api/evidence", data=form, headers=headers, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _draw_act_request() -> dict:
    """The draws page's create/publish/run/join callback, as the browser posts it (create, empty form)."""
    ratio_states = [(f"zt-draw-ratio-{k}", "value", None) for k in "ABCD"]
    return callback_request(
        "..zt-draw-message.children...zt-draw-plans.children...zt-draw-plan.options..."
        "zt-draw-joint-plans.options...zt-draw-result-plan.options..",
        [("zt-draw-create", "n_clicks", 1), ("zt-draw-publish", "n_clicks", None),
         ("zt-draw-run", "n_clicks", None), ("zt-draw-joint", "n_clicks", None)],
        [("zt-draw-name", "value", None), ("zt-draw-region", "value", None),
         ("zt-draw-department", "value", None), ("zt-draw-categories", "value", None), *ratio_states,
         ("zt-draw-period", "start_date", None), ("zt-draw-period", "end_date", None),
         ("zt-draw-draft", "value", []), ("zt-draw-plan", "value", None), ("zt-draw-joint-plans", "value", None)])


DRAW_WRITE_CALLBACKS = {
    "..zt-draw-message.children...zt-draw-plans.children...zt-draw-plan.options...zt-draw-joint-plans.options"
    "...zt-draw-result-plan.options..": _draw_act_request(),
    # no officer chosen: a message (200) for supervisors, refused for everyone else
    "zt-draw-conflict-message.children": callback_request(
        "zt-draw-conflict-message.children", [("zt-draw-conflict-save", "n_clicks", 1)],
        [("zt-draw-conflict-officer", "value", None), ("zt-draw-conflict-uscc", "value", None),
         ("zt-draw-conflict-reason", "value", None)]),
}
DRAW_READ_CALLBACKS = {
    "zt-draw-results.children": callback_request("zt-draw-results.children", [("zt-draw-result-plan", "value", None)]),
    "zt-draw-verify-message.children": callback_request(
        "zt-draw-verify-message.children", [("zt-draw-verify", "n_clicks", 1)],
        [("zt-draw-result-plan", "value", None)]),
}


CASE_LIST_CALLBACKS = {"zt-cases-table.children": callback_request("zt-cases-table.children",
                                                                   [("zt-cases-stage", "value", "立案")])}
CASE_ACTION_CALLBACKS = {
    "..zt-case-message.children...zt-case-body.children...zt-case-action.options...zt-case-action.value..":
        callback_request("..zt-case-message.children...zt-case-body.children...zt-case-action.options..."
                         "zt-case-action.value..", [("zt-case-submit", "n_clicks", 1)],
                         [("zt-case-id", "data", 1), ("zt-case-action", "value", None), ("zt-case-note", "value", None),
                          ("zt-case-decision", "value", None), ("zt-case-penalty", "value", None)]),
}


def _pattern_request(output: str, pattern: dict, prop: str, value: object,
                     state: list[tuple[object, str, object]]) -> dict:
    """A callback whose input is a pattern-matching ALL list (one matched component)."""
    changed = json.dumps(pattern, sort_keys=True, separators=(",", ":")) + "." + prop
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in output.strip(".").split("...")]
    return {"output": output, "outputs": outputs,
            "inputs": [[{"id": pattern, "property": prop, "value": value}]],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state], "changedPropIds": [changed]}


# 调度台 /ops/desk: the queue and the selected event (operator, manager, admin) and its two writes
# (operator, admin). Event 999999999 does not exist: the step answers with a message (200).
OPS_DESK_READ_CALLBACKS = {
    "..zt-desk-queue.children...zt-desk-geojson.data..": callback_request(
        "..zt-desk-queue.children...zt-desk-geojson.data..",
        [("zt-desk-status", "value", None), ("zt-desk-district", "value", None), ("zt-desk-category", "value", None),
         ("zt-desk-overdue", "value", []), ("zt-desk-refresh", "n_clicks", 1), ("zt-desk-tick", "n_intervals", None),
         ("zt-desk-acted", "data", None), ("zt-desk-registered", "data", None)],
        [("zt-desk-selected", "data", None)]),
    "zt-desk-detail.children": callback_request(
        "zt-desk-detail.children", [("zt-desk-selected", "data", 999999999), ("zt-desk-acted", "data", None)]),
    "zt-desk-alerts.children": callback_request(
        "zt-desk-alerts.children", [("zt-desk-tick", "n_intervals", 1), ("zt-desk-acked", "data", None)]),
}
OPS_DESK_WRITE_CALLBACKS = {
    "..zt-desk-message.children...zt-desk-acted.data..": _pattern_request(
        "..zt-desk-message.children...zt-desk-acted.data..", {"type": "zt-desk-do", "to": "立案"}, "n_clicks", 1,
        [("zt-desk-selected", "data", 999999999), ("zt-desk-note", "value", None),
         ("zt-desk-department", "value", None)]),
    "..zt-desk-reg-message.children...zt-desk-registered.data..": callback_request(
        "..zt-desk-reg-message.children...zt-desk-registered.data..", [("zt-desk-register", "n_clicks", 1)],
        [("zt-desk-reg-category", "value", None), ("zt-desk-lon", "value", None), ("zt-desk-lat", "value", None),
         ("zt-desk-description", "value", None), ("zt-desk-source", "value", "hotline")]),
    # alert 999999999 does not exist: the acknowledgement answers with a message (200)
    "..zt-desk-ack-message.children...zt-desk-acked.data..": _pattern_request(
        "..zt-desk-ack-message.children...zt-desk-acked.data..", {"type": "zt-desk-ack", "id": 999999999},
        "n_clicks", 1, []),
}

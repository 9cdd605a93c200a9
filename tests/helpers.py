"""Small builders shared by the access tests."""

from __future__ import annotations

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

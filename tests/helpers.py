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

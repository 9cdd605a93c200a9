"""Reading entities and cases for a caller: row-level security decides what exists for them,
``accounts.masking`` decides what of it they may read, and every unmasked personal field is audited.
"""

from __future__ import annotations

import psycopg2.extensions

from accounts.audit import record as audit
from accounts.masking import mask_record
from accounts.roles import Principal
from geo.errors import BadRequest, NotFound

ENTITY_SQL = """
SELECT e.id, e.uscc, e.name, e.category, c.name_zh AS category_name, e.risk_class,
       e.licence_no, e.licence_valid_until, e.legal_rep_name, e.legal_rep_id, e.contact_phone,
       e.address, e.district_adcode, d.name AS district_name, e.registered_on,
       ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat
FROM entities e
JOIN entity_categories c ON c.code = e.category
LEFT JOIN admin_areas d ON d.level = 'district' AND d.adcode = e.district_adcode
WHERE e.id = %s
"""
ENTITY_TASKS_SQL = """
SELECT id, kind, status, due_date FROM inspection_tasks WHERE entity_id = %s ORDER BY due_date DESC
"""
ENTITY_CASES_SQL = """
SELECT id, case_no, title, stage, opened_on FROM cases WHERE entity_id = %s ORDER BY opened_on DESC
"""
ENTITY_EVIDENCE_SQL = """
SELECT v.id, v.kind, v.media_type, to_char(v.received_at, 'YYYY-MM-DD HH24:MI') AS received_at,
       v.thumb_path IS NOT NULL AS has_thumb, v.flags
FROM evidence v
LEFT JOIN inspection_tasks t ON t.id = v.task_id
LEFT JOIN cases c ON c.id = v.case_id
WHERE t.entity_id = %(id)s OR c.entity_id = %(id)s
ORDER BY v.received_at DESC LIMIT 50
"""
ENTITY_EVENTS_SQL = """
SELECT v.id, v.category, v.status, to_char(v.reported_at, 'YYYY-MM-DD HH24:MI') AS reported_at,
       round(ST_Distance(v.geom::geography, e.geom::geography)) AS distance_m
FROM entities e JOIN city_events v
  ON v.geom && ST_Expand(e.geom, 0.006) AND ST_DWithin(v.geom::geography, e.geom::geography, 500)
WHERE e.id = %(id)s
ORDER BY v.reported_at DESC LIMIT 20
"""
CASE_SQL = """
SELECT c.id, c.case_no, c.title, c.stage, c.opened_on, c.district_adcode, c.entity_id,
       e.name AS entity_name, e.uscc
FROM cases c JOIN entities e ON e.id = c.entity_id
WHERE c.id = %s
"""


def parse_id(raw: object, what: str = "id") -> int:
    """A positive integer id from a URL segment, or a 400 naming the field."""
    try:
        value = int(str(raw))
    except ValueError:
        raise BadRequest(f"{what} 应为正整数：{raw!r} / {what} must be a positive integer") from None
    if value <= 0 or value > 2**62:
        raise BadRequest(f"{what} 超出范围：{raw!r} / {what} out of range")
    return value


def _rows(cur: psycopg2.extensions.cursor) -> list[dict]:
    cols = [c.name for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def entity_dossier(conn: psycopg2.extensions.connection, who: Principal, entity_id: int,
                   *, ip: str | None = None) -> dict:
    """An entity with its tasks and cases, personal data masked for the caller's role.

    Outside the caller's region the entity does not exist for them (404, not 403): row-level
    security hides it, and we do not confirm that it exists elsewhere.
    """
    with conn.cursor() as cur:
        cur.execute(ENTITY_SQL, (entity_id,))
        found = _rows(cur)
        if not found:
            raise NotFound(f"监管对象 {entity_id} 不存在或不在您的辖区 / entity not found")
        entity, revealed = mask_record(found[0], who.role)
        cur.execute(ENTITY_TASKS_SQL, (entity_id,))
        entity["tasks"] = _rows(cur)
        cur.execute(ENTITY_CASES_SQL, (entity_id,))
        entity["cases"] = _rows(cur)
        cur.execute(ENTITY_EVIDENCE_SQL, {"id": entity_id})
        entity["evidence"] = _rows(cur)
        cur.execute(ENTITY_EVENTS_SQL, {"id": entity_id})
        entity["nearby_events"] = _rows(cur)
    if revealed:
        audit(conn, who, "read_personal", object_type="entities", object_id=entity_id,
              detail={"fields": revealed}, ip=ip)
    return entity


def case_record(conn: psycopg2.extensions.connection, entity_case_id: int) -> dict:
    """One enforcement case (RLS-filtered), or NotFound."""
    with conn.cursor() as cur:
        cur.execute(CASE_SQL, (entity_case_id,))
        found = _rows(cur)
    if not found:
        raise NotFound(f"案件 {entity_case_id} 不存在或不在您的辖区 / case not found")
    return found[0]

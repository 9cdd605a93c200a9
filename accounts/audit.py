"""The audit log: who did what, when, from where. Rows are written here and by database triggers.

The table is append-only (a trigger refuses UPDATE/DELETE/TRUNCATE; ``zt_purge_audit`` removes only
rows older than the retention period, at least six months).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import psycopg2.extensions

from accounts.roles import Principal

INSERT = """
INSERT INTO audit_log (username, role, region, action, object_type, object_id, detail, ip, user_agent)
VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
"""
SEARCH = """
SELECT id, at, username, role, region, action, object_type, object_id, detail, host(ip) AS ip
FROM audit_log
WHERE (%(username)s IS NULL OR username = %(username)s)
  AND (%(action)s IS NULL OR action = %(action)s)
  AND (%(object_type)s IS NULL OR object_type = %(object_type)s)
  AND (%(object_id)s IS NULL OR object_id = %(object_id)s)
  AND (%(since)s IS NULL OR at >= %(since)s::date)
  AND (%(until)s IS NULL OR at < %(until)s::date + 1)
ORDER BY at DESC, id DESC
LIMIT %(limit)s
"""
RETENTION_MONTHS = 6
ACTIONS = ("login", "login_failed", "logout", "read_personal", "insert", "update", "delete",
           "bulk_load", "token_issued", "user_added", "user_disabled")


@dataclass(frozen=True)
class AuditQuery:
    """Filters for the administrators' audit search (all optional)."""

    username: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 500


def record(conn: psycopg2.extensions.connection, who: Principal | str, action: str, *,
           object_type: str | None = None, object_id: object = None, detail: dict | None = None,
           ip: str | None = None, user_agent: str | None = None) -> None:
    """Append one audit row (in the caller's transaction)."""
    if isinstance(who, Principal):
        username, role, region = who.username, who.role, who.region or None
    else:
        username, role, region = who, None, None
    with conn.cursor() as cur:
        cur.execute(INSERT, (username, role, region, action, object_type,
                             None if object_id is None else str(object_id),
                             json.dumps(detail or {}, ensure_ascii=False, default=str), ip,
                             (user_agent or "")[:300] or None))


def search(conn: psycopg2.extensions.connection, query: AuditQuery) -> list[dict]:
    """Audit rows matching the filters, newest first (row-level security limits to admins' region)."""
    params = {**query.__dict__, "limit": max(1, min(query.limit, 5000))}
    with conn.cursor() as cur:
        cur.execute(SEARCH, params)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

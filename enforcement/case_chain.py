"""What the chain links of results, cases and documents commit to, rebuilt from the stored rows.

The same functions build the payload when a link is appended and when ``verify.py`` checks it, so
that a changed row (or a removed one) shows up as a break.
"""

from __future__ import annotations

import psycopg2.extensions

KINDS = ("task_result", "case_event", "case_evidence", "document")

TASK_RESULT = """
SELECT task_id, result, findings, username, recorded_at, case_id FROM task_results WHERE task_id = %s
"""
CASE_EVENT = """
SELECT id, case_id, action, from_stage, to_stage, note, detail, username, role, at
FROM case_events WHERE id = %s
"""
CASE_EVIDENCE = """
SELECT a.id, a.case_id, a.evidence_id, v.sha256, v.sm3, a.attached_by, a.attached_at
FROM case_evidence a JOIN evidence v ON v.id = a.evidence_id WHERE a.id = %s
"""
DOCUMENT = """
SELECT id, case_id, kind, number, version, source_hash, sha256, sm3, size, username, created_at
FROM case_documents WHERE id = %s
"""
QUERIES = {"task_result": TASK_RESULT, "case_event": CASE_EVENT, "case_evidence": CASE_EVIDENCE,
           "document": DOCUMENT}


def normalise(row: dict) -> dict:
    """Hash strings without char padding, so a row read back hashes like the one written."""
    return {k: (v.strip() if isinstance(v, str) and k in ("sha256", "sm3", "source_hash") else v)
            for k, v in row.items()}


def stored_payload(conn: psycopg2.extensions.connection, kind: str, ref: int) -> dict | None:
    """The payload of a link of one of ``KINDS``, from its row (None if the row is gone)."""
    with conn.cursor() as cur:
        cur.execute(QUERIES[kind], (ref,))
        row = cur.fetchone()
        if row is None:
            return None
        return normalise(dict(zip([c.name for c in cur.description], row, strict=True)))

"""Recompute every chain, every stored file's hash and every recorded daily digest; name each break.

Run as the database owner (``zhengtu evidence verify``): verification must see every region.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2.extensions

from enforcement import case_chain
from enforcement.chain import GENESIS, day_root, link_hash, payload_hash
from enforcement.evidence_payload import evidence_payload
from enforcement.field import checkin_payload, task_payload

LINKS = """
SELECT chain_key, idx, kind, ref_id, payload_hash, prev_hash, hash FROM chain_links
WHERE %(key)s::text IS NULL OR chain_key = %(key)s
ORDER BY chain_key, idx
"""
TASK = "SELECT id, entity_id, kind, due_date, assigned_users, created_by FROM inspection_tasks WHERE id = %s"
CHECKIN = """
SELECT id, task_id, username, ST_X(geom) AS lon, ST_Y(geom) AS lat, accuracy_m, phone_time,
       server_time, distance_m, on_site FROM checkins WHERE id = %s
"""
REASON = "SELECT checkin_id, reason, at FROM checkin_reasons WHERE checkin_id = %s"
EVIDENCE = """
SELECT id, task_id, case_id, kind, sha256, sm3, size, media_type, path, username,
       ST_X(geom) AS lon, ST_Y(geom) AS lat, accuracy_m, captured_at, received_at
FROM evidence WHERE id = %s
"""


def _row(conn: psycopg2.extensions.connection, query: str, ref: int) -> dict | None:
    with conn.cursor() as cur:
        cur.execute(query, (ref,))
        row = cur.fetchone()
        return None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))


def _payload(conn: psycopg2.extensions.connection, kind: str, ref: int, store: Path
             ) -> tuple[dict | None, list[str]]:
    """The record a link points at, rebuilt from the database, plus file problems for evidence."""
    if kind == "task_created":
        row = _row(conn, TASK, ref)
        return (None, []) if row is None else (task_payload(
            row["id"], row["entity_id"], row["kind"], row["due_date"], row["assigned_users"],
            row["created_by"]), [])
    if kind == "checkin":
        row = _row(conn, CHECKIN, ref)
        return (None if row is None else checkin_payload(row)), []
    if kind == "reason":
        row = _row(conn, REASON, ref)
        return (None if row is None else row), []
    if kind == "evidence":
        row = _row(conn, EVIDENCE, ref)
        if row is None:
            return None, []
        return evidence_payload(row), _file_problems(row, store)
    if kind in case_chain.KINDS:  # task results, case events, attached evidence, documents
        return case_chain.stored_payload(conn, kind, ref), []
    return None, [f"unknown link kind {kind}"]


def _file_problems(row: dict, store: Path) -> list[str]:
    from enforcement.media import verify_file

    path = store / row["path"]
    if not path.exists():
        return [f"evidence {row['id']}: file missing ({row['path']})"]
    if not verify_file(path, row["sha256"]):
        return [f"evidence {row['id']}: file content does not match its SHA-256 ({row['path']})"]
    return []


def _links(conn: psycopg2.extensions.connection, key: str | None) -> Iterator[tuple]:
    with conn.cursor() as cur:
        cur.execute(LINKS, {"key": key})
        yield from cur.fetchall()


def verify_chains(conn: psycopg2.extensions.connection, store: Path, chain_key: str | None = None,
                  progress: Callable[[int], None] | None = None) -> tuple[int, list[str]]:
    """Check every link (or one chain's); return the number checked and the problems found."""
    problems: list[str] = []
    expected_prev, expected_idx, current = GENESIS, 0, None
    count = 0
    for key, idx, kind, ref, stored_payload, prev, stored_hash in _links(conn, chain_key):
        if key != current:
            current, expected_prev, expected_idx = key, GENESIS, 0
        where = f"{key} link {idx} ({kind} {ref})"
        if idx != expected_idx:
            problems.append(f"{where}: expected link {expected_idx} — a link is missing")
        if prev != expected_prev:
            problems.append(f"{where}: previous hash does not match the link before it")
        if link_hash(key, idx, kind, ref, stored_payload, prev) != stored_hash:
            problems.append(f"{where}: link hash does not match its contents")
        record, file_problems = _payload(conn, kind, ref, store)
        problems += [f"{where}: {p}" for p in file_problems]
        if record is None:
            problems.append(f"{where}: the record it points to is gone")
        elif payload_hash(record) != stored_payload:
            problems.append(f"{where}: the record was changed after it was chained")
        expected_prev, expected_idx = stored_hash, idx + 1
        count += 1
        if progress:
            progress(1)
    return count, problems


def verify_digests(conn: psycopg2.extensions.connection) -> list[str]:
    """Recompute each recorded day's Merkle root."""
    with conn.cursor() as cur:
        cur.execute("SELECT day, merkle_root, links FROM chain_digests ORDER BY day")
        recorded = cur.fetchall()
    problems = []
    for day, root, links in recorded:
        now_root, now_links = day_root(conn, day)
        if (now_root, now_links) != (root.strip(), links):
            problems.append(f"digest {day}: recorded {links} links / {root[:12]}…, now {now_links} / "
                            f"{now_root[:12]}… — that day's history changed")
    return problems

"""The integrity chain (全过程记录): every evidence item and action is a link in its task's or case's
chain, each link hashing the one before it, and each day's links are summed up in a Merkle root.

Why both: the chain makes an edited or removed link visible within its case; the daily digest makes
a rewrite of a whole chain visible, once the digest has been recorded (and, ideally, published).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg2.extensions

GENESIS = "0" * 64
LAST_LINK = """
SELECT idx, hash FROM chain_links WHERE chain_key = %s ORDER BY idx DESC LIMIT 1
"""
INSERT_LINK = """
INSERT INTO chain_links (chain_key, idx, kind, ref_id, payload_hash, prev_hash, hash, district_adcode)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""
DAY_LINKS = """
SELECT hash FROM chain_links
WHERE created_at >= %(day)s::date AND created_at < %(day)s::date + 1 ORDER BY id
"""


def canonical(payload: dict) -> bytes:
    """Stable bytes for a record: sorted keys, UTC ISO times, no whitespace."""
    def default(value: object) -> str:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=default).encode("utf-8")


def payload_hash(payload: dict) -> str:
    """SHA-256 of a record's canonical form."""
    return hashlib.sha256(canonical(payload)).hexdigest()


def link_hash(chain_key: str, idx: int, kind: str, ref_id: int | None, payload: str, prev: str) -> str:
    """The hash of one link: everything about it, and the previous link's hash."""
    text = f"{chain_key}|{idx}|{kind}|{'' if ref_id is None else ref_id}|{payload}|{prev}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Link:
    """Where a record sits in its chain."""

    index: int
    hash: str


def append_link(conn: psycopg2.extensions.connection, chain_key: str, kind: str, ref_id: int | None,
                payload: dict, district: str) -> Link:
    """Add a link at the end of ``chain_key`` (serialised per chain by an advisory lock)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (chain_key,))
        cur.execute(LAST_LINK, (chain_key,))
        last = cur.fetchone()
        idx, prev = (last[0] + 1, last[1]) if last else (0, GENESIS)
        digest = payload_hash(payload)
        new = link_hash(chain_key, idx, kind, ref_id, digest, prev)
        cur.execute(INSERT_LINK, (chain_key, idx, kind, ref_id, digest, prev, new, district))
    return Link(idx, new)


def merkle_root(hashes: list[str]) -> str:
    """Merkle root of hex hashes (pairs hashed upwards; an odd last one is paired with itself)."""
    level = [bytes.fromhex(h) for h in hashes] or [hashlib.sha256(b"").digest()]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


def day_root(conn: psycopg2.extensions.connection, day: date) -> tuple[str, int]:
    """The Merkle root and link count of one day's links (Beijing time days)."""
    with conn.cursor() as cur:
        cur.execute(DAY_LINKS, {"day": day})
        hashes = [row[0] for row in cur.fetchall()]
    return merkle_root(hashes), len(hashes)


def record_digest(conn: psycopg2.extensions.connection, day: date) -> tuple[str, int]:
    """Record a day's digest once (later runs for the same day keep the first)."""
    root, count = day_root(conn, day)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO chain_digests (day, merkle_root, links) VALUES (%s, %s, %s) "
                    "ON CONFLICT (day) DO NOTHING", (day, root, count))
    return root, count

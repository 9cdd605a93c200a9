"""Evidence intake: a file from the field becomes a stored, hashed, chained, append-only record.

Order matters, so that nothing is ever half-recorded: validate the request → find the task or case
(row-level security) → receive the bytes into the content-addressed store (fsync + rename) →
insert the row and its chain link in one transaction. A retry with the same Idempotency-Key and the
same bytes returns the first record; other bytes under the same key are a conflict.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import psycopg2.errors
import psycopg2.extensions

from accounts.roles import INSPECTOR, Principal
from enforcement import media
from enforcement.chain import append_link
from enforcement.evidence_payload import evidence_payload
from enforcement.field import parse_time
from geo.errors import BadRequest, Conflict, Forbidden, NotFound

KINDS = ("photo", "video", "audio", "document", "note")
TARGET = {
    "task": "SELECT t.district_adcode, t.assigned_users, ST_X(e.geom), ST_Y(e.geom) "
            "FROM inspection_tasks t JOIN entities e ON e.id = t.entity_id WHERE t.id = %s",
    "case": "SELECT c.district_adcode, NULL::text[], ST_X(e.geom), ST_Y(e.geom) "
            "FROM cases c JOIN entities e ON e.id = c.entity_id WHERE c.id = %s",
}
INSERT = """
INSERT INTO evidence (idempotency_key, task_id, case_id, kind, sha256, sm3, size, media_type, path,
                      thumb_path, geom, accuracy_m, captured_at, username, exif,
                      distance_to_entity_m, flags, district_adcode)
VALUES (%(key)s, %(task_id)s, %(case_id)s, %(kind)s, %(sha256)s, %(sm3)s, %(size)s, %(media_type)s,
        %(path)s, %(thumb)s,
        CASE WHEN %(lon)s::float8 IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
        %(accuracy)s, %(captured_at)s, %(user)s, %(exif)s::jsonb, %(distance)s, %(flags)s, %(district)s)
RETURNING id, received_at
"""
COLUMNS = """
SELECT id, idempotency_key, task_id, case_id, kind, sha256, sm3, size, media_type, path, thumb_path,
       ST_X(geom) AS lon, ST_Y(geom) AS lat, accuracy_m, captured_at, received_at, username, exif,
       distance_to_entity_m, flags, district_adcode
FROM evidence
"""
BY_ID = COLUMNS + "WHERE id = %s"
BY_KEY = COLUMNS + "WHERE idempotency_key = %s"
LINK_OF = "SELECT idx, hash FROM chain_links WHERE kind = 'evidence' AND ref_id = %s"


@dataclass(frozen=True)
class Upload:
    """A validated evidence request (the file itself is streamed separately)."""

    key: uuid.UUID
    sha256: str
    kind: str
    target: str  # "task" | "case"
    target_id: int
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    captured_at: object


def _optional_number(form: dict, name: str, low: float, high: float) -> float | None:
    raw = form.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} 不是数字：{raw!r} / {name} is not a number") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} 超出范围 {low:g}–{high:g} / {name} out of range")
    return value


def parse_upload(key: str | None, form: dict) -> Upload:
    """Check the header and form fields of ``POST /api/evidence``; 400 names the first problem."""
    try:
        idem = uuid.UUID(str(key))
    except ValueError:
        raise BadRequest("缺少或无效的 Idempotency-Key（应为 UUID）/ missing or invalid Idempotency-Key") from None
    kind = form.get("kind")
    if kind not in KINDS:
        raise BadRequest(f"kind 应为 {'、'.join(KINDS)} 之一 / invalid kind")
    targets = [(t, form.get(f"{t}_id")) for t in ("task", "case") if form.get(f"{t}_id")]
    if len(targets) != 1:
        raise BadRequest("须且只须给出 task_id 或 case_id 之一 / give exactly one of task_id, case_id")
    target, raw_id = targets[0]
    if not str(raw_id).isdigit():
        raise BadRequest(f"{target}_id 应为正整数 / {target}_id must be a positive integer")
    lon, lat = _optional_number(form, "lon", -180, 180), _optional_number(form, "lat", -90, 90)
    if (lon is None) != (lat is None):
        raise BadRequest("lon 与 lat 须同时给出 / give both lon and lat")
    return Upload(idem, str(form.get("sha256") or "").lower(), kind, target, int(raw_id), lon, lat,
                  _optional_number(form, "accuracy_m", 0, 100_000),
                  parse_time(form.get("captured_at"), "captured_at"))


def _target(conn: psycopg2.extensions.connection, who: Principal, up: Upload) -> tuple:
    with conn.cursor() as cur:
        cur.execute(TARGET[up.target], (up.target_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"{'任务' if up.target == 'task' else '案件'} {up.target_id} 不存在或不在您的辖区 / not found")
    district, assigned, elon, elat = row
    if who.role == INSPECTOR and up.target == "task" and who.username not in (assigned or []):
        raise Forbidden("这不是分配给您的任务 / not your task")
    return district, elon, elat


def find(conn: psycopg2.extensions.connection, *, evidence_id: int | None = None,
         key: uuid.UUID | None = None) -> dict | None:
    """One evidence row (RLS-filtered) by id or idempotency key, with its chain link."""
    query, value = (BY_ID, evidence_id) if evidence_id is not None else (BY_KEY, str(key))
    with conn.cursor() as cur:
        cur.execute(query, (value,))
        row = cur.fetchone()
        if row is None:
            return None
        record = dict(zip([c.name for c in cur.description], row, strict=True))
        cur.execute(LINK_OF, (record["id"],))
        link = cur.fetchone()
    record["chain"] = {"index": link[0], "hash": link[1]} if link else None
    return record


def receipt(record: dict) -> dict:
    """The public answer for an evidence record (what the phone keeps as its receipt)."""
    exif = record.get("exif") or None
    return {"id": record["id"], "sha256": record["sha256"].strip(), "sm3": record["sm3"].strip(),
            "size": record["size"], "media_type": record["media_type"], "kind": record["kind"],
            "task_id": record["task_id"], "case_id": record["case_id"],
            "exif": exif, "distance_to_entity_m": record["distance_to_entity_m"],
            "flags": list(record["flags"] or []), "received_at": record["received_at"].isoformat(),
            "chain": record["chain"]}


def _replay(conn: psycopg2.extensions.connection, up: Upload) -> dict | None:
    existing = find(conn, key=up.key)
    if existing is None:
        return None
    if existing["sha256"].strip() != up.sha256:
        raise Conflict("同一 Idempotency-Key 已用于另一文件 / this key was used for other content")
    return receipt(existing)


@dataclass(frozen=True)
class Intake:
    """Where files go and how big they may be."""

    store: Path
    max_bytes: int


def record_evidence(conn: psycopg2.extensions.connection, who: Principal, up: Upload,
                    stream: BinaryIO, intake: Intake) -> tuple[dict, bool]:
    """Store and record one piece of evidence; returns (receipt, created?)."""
    replay = _replay(conn, up)
    if replay is not None:
        return replay, False
    district, elon, elat = _target(conn, who, up)
    got = media.receive(stream, store=intake.store, max_bytes=intake.max_bytes,
                        declared_sha256=up.sha256, kind=up.kind)
    facts, flags, thumb = _photo_checks(got, up, elon, elat, intake.store)
    distance = (media.distance_m(up.lon, up.lat, elon, elat) if up.lon is not None else None)
    if up.lon is None:
        flags.append("no_gps_fix")
    params = {"key": str(up.key), "task_id": up.target_id if up.target == "task" else None,
              "case_id": up.target_id if up.target == "case" else None, "kind": up.kind,
              "sha256": got.sha256, "sm3": got.sm3, "size": got.size, "media_type": got.media_type.mime,
              "path": str(got.relpath), "thumb": thumb, "lon": up.lon,
              "lat": up.lat, "accuracy": up.accuracy_m, "captured_at": up.captured_at,
              "user": who.username, "exif": _exif_json(facts), "distance": distance,
              "flags": flags, "district": district}
    try:
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT evidence_insert")
            cur.execute(INSERT, params)
            evidence_id, received_at = cur.fetchone()
    except psycopg2.errors.UniqueViolation:  # a concurrent retry with the same key won the race
        with conn.cursor() as cur:
            cur.execute("ROLLBACK TO SAVEPOINT evidence_insert")
        replay = _replay(conn, up)
        if replay is None:
            raise Conflict("Idempotency-Key 冲突 / key conflict") from None
        return replay, False
    # the chained record under the column names verify.py reads back from the stored row
    row = {**params, "id": evidence_id, "received_at": received_at, "username": who.username,
           "accuracy_m": up.accuracy_m}
    append_link(conn, f"{up.target}:{up.target_id}", "evidence", evidence_id, evidence_payload(row),
                district)
    return receipt(find(conn, evidence_id=evidence_id)), True


def _exif_json(facts: object) -> str | None:
    if facts is None:
        return None
    taken = facts.taken_at or facts.taken_local
    return json.dumps({"lon": facts.lon, "lat": facts.lat,
                       "taken_at": taken.isoformat() if taken else None})


def _photo_checks(got: media.Received, up: Upload, elon: float, elat: float, store: Path
                  ) -> tuple[object, list[str], str | None]:
    """EXIF facts, flags and a thumbnail for photos; nothing for other media."""
    if got.media_type.category != "photo":
        return None, [], None
    facts = media.photo_facts(got.path)
    flags = media.flag_photo(facts, entity_lon=elon, entity_lat=elat, captured_at=up.captured_at) \
        if facts is not None else ["no_exif_gps", "no_exif_time"]
    thumb = store / "thumbs" / f"{got.sha256}.jpg"
    if not thumb.exists():
        thumb.parent.mkdir(parents=True, exist_ok=True)
        media.make_thumbnail(got.path, thumb)
    return facts, flags, str(thumb.relative_to(store))

"""双随机 plans and draws in the database: create, publish, join, draw, verify.

The draw itself is ``enforcement.draw_core.compute_draw`` (pure). This module gathers its inputs (a
snapshot of the register as the caller may see it), reveals the seed through ``zt_draw_reveal`` (the
app role can write a seed but never read one), stores the snapshot, the rows and the hashes, and turns
each row into an inspection task (kind ``random``) with the first link of its chain. Everything runs
in the caller's transaction: a failed draw leaves the plan published and its seed secret.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from accounts.roles import check_region
from data.ids import uscc_error
from enforcement.chain import GENESIS, link_hash, payload_hash
from enforcement.draw_core import (
    DrawError,
    DrawRow,
    PlanSpec,
    Register,
    compute_draw,
    first_difference,
    parse_ratios,
    result_hash,
    seed_hash,
)
from enforcement.field import task_payload
from geo.errors import BadRequest, Conflict, Forbidden, NotFound

DUE_DAYS = 30  # a drawn task's due date when the plan names no period


class DrawConflict(Conflict):
    """The plan is not in a state that allows this (e.g. drawing it twice)."""


PLAN_COLUMNS = ("id, name, kind, region_adcode, department, categories, ratios, members, joint_id, "
                "period_from, period_to, status, seed_hash, seed, register_hash, result_hash, "
                "entities_total, drawn_count, created_by, created_at, published_at, drawn_at, drawn_by")
PLAN_SQL = f"SELECT {PLAN_COLUMNS} FROM draw_plans WHERE id = %s"
PLANS_SQL = f"SELECT {PLAN_COLUMNS} FROM draw_plans ORDER BY id DESC LIMIT %s"
INSERT_PLAN = """
INSERT INTO draw_plans (name, kind, region_adcode, department, categories, ratios, members,
                        period_from, period_to, status, seed_hash, created_by, published_at)
VALUES (%(name)s, %(kind)s, %(region)s, %(department)s, %(categories)s, %(ratios)s, %(members)s,
        %(from)s, %(to)s, %(status)s, %(seed_hash)s, %(by)s,
        CASE WHEN %(status)s = 'published' THEN now() END)
RETURNING id
"""
INSERT_SEED = "INSERT INTO draw_seeds (plan_id, seed) VALUES (%s, %s)"
# The register as the caller sees it: entities under any member plan's region and categories
# ({where} is composed from psycopg2.sql literals by ``_eligible``, never from raw text).
ENTITIES_COPY = """
COPY (SELECT lpad(e.id::text, 19, '0') || rpad(e.uscc, 18) || rpad(e.district_adcode, 6)
             || rpad(e.category, 16) || e.risk_class
      FROM entities e WHERE {where})
TO STDOUT
"""
# Each line of ENTITIES_COPY is fixed-width, so 4 million rows become numpy columns without parsing.
ENTITY_RECORD = np.dtype([("id", "S19"), ("uscc", "S18"), ("district", "S6"), ("category", "S16"),
                          ("risk", "S1"), ("newline", "S1")])
OFFICERS_SQL = """
SELECT id, department, region_adcode FROM officers
WHERE left(region_adcode, length(%(region)s)) = %(region)s
"""
CONFLICTS_SQL = """
SELECT c.officer_id, coalesce(c.entity_id, e.id) FROM officer_conflicts c
LEFT JOIN entities e ON c.entity_id IS NULL AND e.uscc = c.uscc
WHERE coalesce(c.entity_id, e.id) IS NOT NULL
  AND left(c.district_adcode, length(%(region)s)) = %(region)s
"""
# The officers of each entity's previous random inspection (all tasks of that visit).
HISTORY_SQL = """
WITH last AS (
    SELECT DISTINCT ON (entity_id) entity_id, created_at FROM inspection_tasks
    WHERE kind = 'random' AND cardinality(assignees) > 0
      AND left(district_adcode, length(%(region)s)) = %(region)s
    ORDER BY entity_id, created_at DESC, id DESC)
SELECT DISTINCT t.entity_id, o.officer
FROM inspection_tasks t JOIN last l USING (entity_id, created_at), unnest(t.assignees) AS o(officer)
WHERE t.kind = 'random'
"""
# One statement each for the tasks, their first chain links and the result rows (arrays unnested in
# the server; COPY is not allowed under row-level security, and row-by-row VALUES are slow).
INSERT_TASKS = """
INSERT INTO inspection_tasks (entity_id, kind, due_date, assignees, assigned_users, created_by, note,
                              district_adcode)
SELECT x.e, 'random', x.due, ARRAY[x.o1, x.o2], string_to_array(x.users, ','), %(by)s, x.note, x.district
FROM unnest(%(entity)s::bigint[], %(due)s::date[], %(o1)s::bigint[], %(o2)s::bigint[], %(users)s::text[],
            %(note)s::text[], %(district)s::text[]) AS x(e, due, o1, o2, users, note, district)
RETURNING id, entity_id, assignees
"""
INSERT_LINKS = """
INSERT INTO chain_links (chain_key, idx, kind, ref_id, payload_hash, prev_hash, hash, district_adcode)
SELECT 'task:' || x.task, 0, 'task_created', x.task, x.payload, %(genesis)s, x.hash, x.district
FROM unnest(%(task)s::bigint[], %(payload)s::text[], %(hash)s::text[], %(district)s::text[])
     AS x(task, payload, hash, district)
"""
INSERT_RESULTS = """
INSERT INTO draw_results (plan_id, seq, entity_id, member_plan_id, department, officer_ids, task_id,
                          district_adcode)
SELECT %(plan)s, x.seq, x.e, x.member, x.department, ARRAY[x.o1, x.o2], x.task, x.district
FROM unnest(%(seq)s::integer[], %(entity)s::bigint[], %(member)s::bigint[], %(department)s::text[],
            %(o1)s::bigint[], %(o2)s::bigint[], %(task)s::bigint[], %(district)s::text[])
     AS x(seq, e, member, department, o1, o2, task, district)
"""
RESULTS_SQL = """
SELECT seq, entity_id, member_plan_id, department, officer_ids FROM draw_results
WHERE plan_id = %s ORDER BY seq
"""
RESULT_LIST_SQL = """
SELECT r.seq, r.entity_id, e.name AS entity_name, e.uscc, e.risk_class, e.district_adcode,
       coalesce(a.name, r.district_adcode) AS district_name, r.member_plan_id, r.department,
       r.officer_ids, (SELECT string_agg(o.name, '、' ORDER BY o.id) FROM officers o
                       WHERE o.id = ANY (r.officer_ids)) AS officer_names, r.task_id, t.status
FROM draw_results r JOIN entities e ON e.id = r.entity_id
LEFT JOIN inspection_tasks t ON t.id = r.task_id
LEFT JOIN admin_areas a ON a.adcode = r.district_adcode
WHERE r.plan_id = %s ORDER BY r.seq LIMIT %s
"""


@dataclass(frozen=True)
class DrawOutcome:
    """What a draw did."""

    plan_id: int
    seed_hex: str
    register_hash: str
    result_hash: str
    entities: int
    rows: int
    tasks: list[int]


# --- plans -----------------------------------------------------------------------------------------

def _parse_day(raw: object, field: str) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise BadRequest(f"{field} 应为日期 YYYY-MM-DD：{raw!r} / {field} must be a date") from None


def _categories(conn: psycopg2.extensions.connection, raw: Iterable[str] | str | None) -> list[str]:
    if isinstance(raw, str):
        raw = raw.split(",")
    wanted = sorted({c.strip() for c in raw or () if c and c.strip()})
    if not wanted:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM entity_categories WHERE code = ANY (%s)", (wanted,))
        known = {r[0] for r in cur.fetchall()}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise BadRequest(f"未知的监管对象类别：{'、'.join(unknown)} / unknown categories")
    return wanted


def _insert_plan(conn: psycopg2.extensions.connection, params: dict) -> dict:
    seed = secrets.token_bytes(32)
    params = {**params, "seed_hash": seed_hash(seed)}
    try:
        with conn.cursor() as cur:
            cur.execute(INSERT_PLAN, params)
            plan_id = int(cur.fetchone()[0])
            cur.execute(INSERT_SEED, (plan_id, seed))
    except psycopg2.errors.InsufficientPrivilege:
        raise Forbidden("计划区域不在您的辖区内 / the plan's region is outside your jurisdiction") from None
    return {"id": plan_id, "seed_hash": params["seed_hash"], "status": params["status"]}


def create_plan(conn: psycopg2.extensions.connection, created_by: str, *, name: str, region: str,
                ratios: str | dict, department: str | None = None,
                categories: Iterable[str] | str | None = None, period_from: object = None,
                period_to: object = None, publish: bool = True) -> dict:
    """A department's plan with a fresh secret seed; returns ``{id, seed_hash, status}``.

    Published at once unless ``publish`` is false (a draft stays off the public page and cannot be
    drawn until published).
    """
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise BadRequest("计划名称应为 1–200 字 / name must be 1–200 characters")
    try:
        region = check_region(str(region or "").strip())
        parsed = parse_ratios(ratios)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    start, end = _parse_day(period_from, "from"), _parse_day(period_to, "to")
    if start and end and start > end:
        raise BadRequest("开始日期晚于结束日期 / period starts after it ends")
    department = (department or "").strip() or None
    return _insert_plan(conn, {
        "name": name, "kind": "plan", "region": region, "department": department,
        "categories": _categories(conn, categories), "members": [],
        "ratios": json.dumps({k: str(v) for k, v in parsed.items()}), "from": start, "to": end,
        "status": "published" if publish else "draft", "by": created_by})


def get_plan(conn: psycopg2.extensions.connection, plan_id: int) -> dict:
    """One plan (the seed only once drawn), or 404 if it is not in the caller's region."""
    with conn.cursor() as cur:
        cur.execute(PLAN_SQL, (int(plan_id),))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"抽查计划 {plan_id} 不存在或不在您的辖区 / plan not found")
        return _plan_dict(cur, row)


def _plan_dict(cur: psycopg2.extensions.cursor, row: tuple) -> dict:
    plan = dict(zip([c.name for c in cur.description], row, strict=True))
    plan["seed"] = bytes(plan["seed"]).hex() if plan["seed"] is not None else None
    return plan


def list_plans(conn: psycopg2.extensions.connection, limit: int = 200) -> list[dict]:
    """Plans of the caller's region, newest first."""
    with conn.cursor() as cur:
        cur.execute(PLANS_SQL, (limit,))
        return [_plan_dict(cur, r) for r in cur.fetchall()]


def publish_plan(conn: psycopg2.extensions.connection, plan_id: int) -> dict:
    """Publish a draft: from now on its seed hash is public and it can be drawn."""
    plan = get_plan(conn, plan_id)
    if plan["status"] != "draft":
        raise DrawConflict(f"计划 {plan_id} 已发布 / plan {plan_id} is already {plan['status']}")
    with conn.cursor() as cur:
        cur.execute("UPDATE draw_plans SET status = 'published', published_at = now() WHERE id = %s",
                    (plan["id"],))
    return get_plan(conn, plan_id)


def _common_region(regions: list[str]) -> str:
    prefix = regions[0]
    for region in regions[1:]:
        while not region.startswith(prefix):
            prefix = prefix[:-2]
    if len(prefix) < 2:
        raise BadRequest("联合抽查的计划应在同一省内 / joint plans must share a province")
    return prefix


def create_joint(conn: psycopg2.extensions.connection, created_by: str, plan_ids: list[int],
                 name: str | None = None) -> dict:
    """Group published department plans into one joint draw (部门联合抽查) with its own seed."""
    ids = sorted({int(p) for p in plan_ids})
    if len(ids) < 2:
        raise BadRequest("联合抽查至少需要两个计划 / a joint draw needs at least two plans")
    plans = [get_plan(conn, p) for p in ids]
    problems = [f"计划 {p['id']}：{why}" for p in plans for why in (
        "联合计划不能再联合" if p["kind"] == "joint" else None,
        f"状态为 {p['status']}，应为已发布" if p["status"] != "published" else None,
        f"已属联合抽查 {p['joint_id']}" if p["joint_id"] else None) if why]
    if problems:
        raise DrawConflict("不能联合抽取 / cannot join：" + "；".join(problems))
    joint_name = (name or "").strip() or "部门联合抽查：" + "、".join(p["department"] or p["name"] for p in plans)
    created = _insert_plan(conn, {
        "name": joint_name[:200], "kind": "joint",
        "region": _common_region([p["region_adcode"] for p in plans]), "department": None,
        "categories": [], "members": ids, "ratios": None,
        "from": min((p["period_from"] for p in plans if p["period_from"]), default=None),
        "to": max((p["period_to"] for p in plans if p["period_to"]), default=None),
        "status": "published", "by": created_by})
    with conn.cursor() as cur:
        cur.execute("UPDATE draw_plans SET joint_id = %s WHERE id = ANY (%s)", (created["id"], ids))
    return created


def declare_conflict(conn: psycopg2.extensions.connection, officer_id: int, uscc: str, reason: str) -> int:
    """Record an officer's declared conflict of interest with an entity (by USCC); later draws skip it."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise BadRequest("请填写利益冲突原因（至少 2 字）/ give a reason")
    uscc = (uscc or "").strip().upper()
    problem = uscc_error(uscc)
    if problem:
        raise BadRequest(f"统一社会信用代码有误：{problem} / bad USCC {uscc[:18]!r}")
    with conn.cursor() as cur:
        cur.execute("SELECT region_adcode FROM officers WHERE id = %s", (int(officer_id),))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"执法人员 {officer_id} 不存在或不在您的辖区 / officer not found")
        cur.execute("INSERT INTO officer_conflicts (officer_id, entity_id, uscc, reason, district_adcode) "
                    "SELECT %s, (SELECT id FROM entities WHERE uscc = %s), %s, %s, %s RETURNING id",
                    (int(officer_id), uscc, uscc, reason, row[0]))
        return int(cur.fetchone()[0])


def link_officer(conn: psycopg2.extensions.connection, officer_id: int, username: str | None) -> None:
    """Link an officer of the register to a login, so that drawn tasks reach that inspector's phone."""
    with conn.cursor() as cur:
        if username:
            cur.execute("SELECT role FROM users WHERE username = %s AND NOT disabled", (username,))
            row = cur.fetchone()
            if row is None or row[0] != "inspector":
                raise BadRequest(f"{username} 不是在岗执法人员账户 / not an active inspector account")
        cur.execute("UPDATE officers SET username = %s WHERE id = %s", (username or None, int(officer_id)))
        if cur.rowcount == 0:
            raise NotFound(f"执法人员 {officer_id} 不存在或不在您的辖区 / officer not found")


# --- the draw --------------------------------------------------------------------------------------

def _specs(conn: psycopg2.extensions.connection, plan: dict) -> list[PlanSpec]:
    members = [get_plan(conn, m) for m in plan["members"]] if plan["kind"] == "joint" else [plan]
    return [PlanSpec(p["id"], p["region_adcode"], p["department"], tuple(p["categories"] or ()),
                     {k: Decimal(v) for k, v in (p["ratios"] or {}).items()}) for p in members]


def _eligible(specs: list[PlanSpec]) -> sql.Composable:
    """``(district under region AND category in list) OR …`` for the plans, as bound literals.

    Plain per-plan conditions (not a join against an array of plans) keep a 4-million-row scan cheap.
    """
    parts = []
    for spec in specs:
        part = sql.SQL("left(e.district_adcode, {n}) = {region}").format(
            n=sql.Literal(len(spec.region)), region=sql.Literal(spec.region))
        if spec.categories:
            part = sql.SQL("({} AND e.category = ANY ({}))").format(part, sql.Literal(list(spec.categories)))
        parts.append(part)
    return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))


def load_register(conn: psycopg2.extensions.connection, region: str, specs: list[PlanSpec]) -> Register:
    """Snapshot what the draw reads, as the caller sees it (row-level security applies)."""
    query = sql.SQL(ENTITIES_COPY).format(where=_eligible(specs))
    buf = io.BytesIO()
    with conn.cursor() as cur:
        cur.copy_expert(query.as_string(conn), buf)
        cur.execute(OFFICERS_SQL, {"region": region})
        officers = cur.fetchall()
        cur.execute(CONFLICTS_SQL, {"region": region})
        conflicts = cur.fetchall()
        cur.execute(HISTORY_SQL, {"region": region})
        history = cur.fetchall()
    raw = buf.getbuffer()
    if len(raw) % ENTITY_RECORD.itemsize:
        raise BadRequest("登记册中有不合规格的代码（USCC 18 位、类别不超过 16 字符）/ malformed register rows")
    table = np.frombuffer(raw, dtype=ENTITY_RECORD)
    category = table["category"].copy()
    padded = category.view(np.uint8)
    padded[padded == ord(" ")] = 0  # rpad's spaces → NUL, which numpy's bytes type drops
    ids = table["id"].astype(np.int64)
    officer_ids = np.array([o[0] for o in officers], dtype=np.int64)
    return Register.build(
        (ids, table["uscc"], table["district"], category, table["risk"]),
        (officer_ids, np.array([o[1] for o in officers], dtype=str),
         np.array([o[2].strip() for o in officers], dtype=str)),
        ([c[0] for c in conflicts], [c[1] for c in conflicts]),
        ([h[0] for h in history], [h[1] for h in history]))


def _reveal(conn: psycopg2.extensions.connection, plan_id: int) -> bytes:
    try:
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT reveal")
            cur.execute("SELECT zt_draw_reveal(%s)", (plan_id,))
            seed = bytes(cur.fetchone()[0])
            cur.execute("RELEASE SAVEPOINT reveal")
            return seed
    except (psycopg2.errors.NoDataFound, psycopg2.errors.CheckViolation) as exc:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK TO SAVEPOINT reveal")
        error = NotFound if isinstance(exc, psycopg2.errors.NoDataFound) else DrawConflict
        raise error(exc.diag.message_primary) from None


def run_draw(conn: psycopg2.extensions.connection, plan_id: int, drawn_by: str,
             today: date | None = None) -> DrawOutcome:
    """Draw a published plan (or joint plan): reveal the seed, compute, store, create the tasks."""
    plan = get_plan(conn, plan_id)
    if plan["joint_id"]:
        raise DrawConflict(f"计划 {plan_id} 属于联合抽查 {plan['joint_id']}，请抽取联合计划 / "
                           "draw the joint plan")
    specs = _specs(conn, plan)
    seed = _reveal(conn, plan["id"])
    register = load_register(conn, plan["region_adcode"], specs)
    try:
        rows = compute_draw(specs, register, seed)
    except DrawError as exc:
        raise BadRequest(str(exc)) from None
    reg_hash, res_hash = register.digest(), result_hash(rows)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO draw_snapshots (plan_id, register_hash, entities, data, region_adcode) "
                    "VALUES (%s, %s, %s, %s, %s)", (plan["id"], reg_hash, register.entities,
                                                    psycopg2.Binary(register.to_bytes()),
                                                    plan["region_adcode"]))
    tasks = _create_tasks(conn, plan, specs, rows, register, drawn_by, today or date.today())
    with conn.cursor() as cur:
        cur.execute("UPDATE draw_plans SET register_hash = %s, result_hash = %s, entities_total = %s, "
                    "drawn_count = %s WHERE id = %s",
                    (reg_hash, res_hash, register.entities, len(rows), plan["id"]))
        for spec in specs:
            if spec.plan_id != plan["id"]:
                cur.execute("UPDATE draw_plans SET drawn_count = %s WHERE id = %s",
                            (sum(r.plan_id == spec.plan_id for r in rows), spec.plan_id))
        cur.execute("INSERT INTO audit_log (username, role, region, action, object_type, object_id, detail) "
                    "VALUES (%s, nullif(current_setting('zhengtu.role', true), ''), zt_region(), 'draw', "
                    "'draw_plans', %s, %s::jsonb)",
                    (drawn_by, str(plan["id"]), json.dumps({"rows": len(rows), "register_hash": reg_hash,
                                                            "result_hash": res_hash})))
    return DrawOutcome(plan["id"], seed.hex(), reg_hash, res_hash, register.entities, len(rows), tasks)


def _create_tasks(conn: psycopg2.extensions.connection, plan: dict, specs: list[PlanSpec],
                  rows: list[DrawRow], register: Register, drawn_by: str, today: date) -> list[int]:
    """One random inspection task per row, assigned to the officers (and their linked logins), with
    the first link of its chain and the stored result row; set-based, one audit row for the lot."""
    if not rows:
        return []
    entity_ids = np.array([r.entity_id for r in rows], dtype=np.int64)
    where = np.searchsorted(register["entity_id"], entity_ids)
    districts = [d.decode() for d in register["district"][where].tolist()]
    o1, o2 = [r.officers[0] for r in rows], [r.officers[1] for r in rows]
    with conn.cursor() as cur:
        cur.execute("SELECT id, username FROM officers WHERE id = ANY (%s) AND username IS NOT NULL",
                    (sorted(set(o1) | set(o2)),))
        logins = dict(cur.fetchall())
        cur.execute("SELECT id, name, period_to FROM draw_plans WHERE id = ANY (%s)",
                    ([s.plan_id for s in specs],))
        meta = {i: (n, p) for i, n, p in cur.fetchall()}
        due = {i: max(p or today + timedelta(days=DUE_DAYS), today) for i, (_, p) in meta.items()}
        users = [sorted(logins[o] for o in r.officers if o in logins) for r in rows]
        cur.execute("SELECT set_config('zhengtu.bulk', 'on', true)")  # one audit row, not one per task
        cur.execute(INSERT_TASKS, {
            "by": drawn_by, "entity": entity_ids.tolist(), "due": [due[r.plan_id] for r in rows],
            "o1": o1, "o2": o2, "users": [",".join(u) for u in users], "district": districts,
            "note": [f"双随机抽查：{meta[r.plan_id][0]}（计划 {plan['id']} 第 {r.seq} 行）" for r in rows]})
        task_of = {(e, tuple(a)): t for t, e, a in cur.fetchall()}
        tasks = [task_of[(r.entity_id, r.officers)] for r in rows]
        payloads = [payload_hash(task_payload(t, r.entity_id, "random", due[r.plan_id], u, drawn_by))
                    for t, r, u in zip(tasks, rows, users, strict=True)]
        cur.execute(INSERT_LINKS, {
            "genesis": GENESIS, "task": tasks, "payload": payloads, "district": districts,
            "hash": [link_hash(f"task:{t}", 0, "task_created", t, d, GENESIS) for t, d in zip(tasks, payloads,
                                                                                            strict=True)]})
        cur.execute(INSERT_RESULTS, {
            "plan": plan["id"], "seq": [r.seq for r in rows], "entity": entity_ids.tolist(),
            "member": [r.plan_id for r in rows], "department": [r.department for r in rows], "o1": o1,
            "o2": o2, "task": tasks, "district": districts})
        cur.execute("SELECT set_config('zhengtu.bulk', 'off', true)")
    return tasks


# --- reading and verifying -------------------------------------------------------------------------

def plan_results(conn: psycopg2.extensions.connection, plan_id: int, limit: int = 1000) -> list[dict]:
    """The drawn rows with entity names, officers' names and task status (caller's region)."""
    with conn.cursor() as cur:
        cur.execute(RESULT_LIST_SQL, (int(plan_id), limit))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def recorded_rows(conn: psycopg2.extensions.connection, plan_id: int) -> list[DrawRow]:
    """The stored result of a draw, as rows comparable with a recomputation."""
    with conn.cursor() as cur:
        cur.execute(RESULTS_SQL, (plan_id,))
        return [DrawRow(s, e, p, d, tuple(o)) for s, e, p, d, o in cur.fetchall()]


def load_snapshot(conn: psycopg2.extensions.connection, plan_id: int) -> tuple[str, Register] | None:
    """The stored register snapshot of a drawn plan and the hash recorded beside it."""
    with conn.cursor() as cur:
        cur.execute("SELECT register_hash, data FROM draw_snapshots WHERE plan_id = %s", (plan_id,))
        row = cur.fetchone()
    return None if row is None else (row[0], Register.from_bytes(bytes(row[1])))


def verify_draw(conn: psycopg2.extensions.connection, plan_id: int) -> list[str]:
    """Recompute a draw from its stored inputs; the problems found, in order (empty: it matches).

    Checks, in order: the revealed seed against the hash published before the draw, the register
    snapshot against ``register_hash``, then the recomputed rows against the recorded ones (the first
    differing row is named) and the recorded ``result_hash``.
    """
    plan = get_plan(conn, plan_id)
    if plan["joint_id"]:
        plan = get_plan(conn, plan["joint_id"])
    if plan["status"] != "drawn":
        return [f"计划 {plan['id']} 尚未抽取（状态 {plan['status']}）/ plan not drawn yet"]
    problems = []
    seed = bytes.fromhex(plan["seed"])
    if seed_hash(seed) != plan["seed_hash"]:
        problems.append(f"种子与公布的哈希不符：SHA-256(seed) = {seed_hash(seed)}，公布为 {plan['seed_hash']} / "
                        "seed does not match the published hash")
    stored = load_snapshot(conn, plan["id"])
    if stored is None:
        return [*problems, "缺少登记册快照 / register snapshot missing"]
    snap_hash, register = stored
    actual = register.digest()
    for label, recorded in (("快照记录", snap_hash), ("计划记录", plan["register_hash"])):
        if actual != recorded:
            problems.append(f"登记册快照与 register_hash 不符（{label} {recorded}，实际 {actual}）/ "
                            "register snapshot does not match register_hash")
    try:
        expected = compute_draw(_specs(conn, plan), register, seed)
    except DrawError as exc:
        return [*problems, f"无法重算 / cannot recompute: {exc}"]
    difference = first_difference(expected, recorded_rows(conn, plan["id"]))
    if difference:
        problems.append(difference)
    if result_hash(expected) != plan["result_hash"]:
        problems.append(f"结果哈希不符：重算 {result_hash(expected)}，记录 {plan['result_hash']} / "
                        "result_hash differs")
    return problems


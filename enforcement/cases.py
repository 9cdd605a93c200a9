"""Enforcement cases in the database: opening, moving through the stages, clocks, the timeline.

Rules live in ``case_rules`` (no database); this module reads and locks the case row (row-level
security decides whether it exists for the caller), applies a rule, writes the change, an
append-only ``case_events`` row and a link in the case's hash chain (``case:<id>``), all in the
caller's transaction. The audit trigger on ``cases`` records every column change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import psycopg2.extensions

from accounts.roles import INSPECTOR, Principal
from enforcement import case_chain
from enforcement.case_rules import (
    DEFAULT_LIMITS,
    STAGES,
    Actor,
    CaseState,
    Clock,
    Limit,
    Pause,
    RuleError,
    allowed_moves,
    check_extension,
    check_pause,
    check_transition,
    compute_clock,
)
from enforcement.chain import Link, append_link
from geo.errors import BadRequest, NotFound, ZhengtuError
from geo.workdays import WorkCalendar, from_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Short names used in document and case numbers (穗 for 广州 …); other cities use their first character.
CITY_ABBR = {"4401": "穗", "4403": "深", "4404": "珠", "4405": "汕", "4406": "佛", "4402": "韶",
             "4408": "湛", "4412": "肇", "4407": "江", "4409": "茂", "4413": "惠", "4414": "梅",
             "4415": "汕尾", "4416": "河", "4417": "阳", "4418": "清", "4419": "莞", "4420": "中",
             "4451": "潮", "4452": "揭", "4453": "云"}

CASE_ROW = """
SELECT c.id, c.case_no, c.title, c.stage, c.opened_on, c.stage_since, c.district_adcode, c.entity_id,
       c.task_id, c.created_by, c.officers, c.rework_count, c.extension_days, c.extended_by,
       c.decision, c.penalty_yuan, c.decided_on, c.closed_on, c.published,
       EXISTS (SELECT 1 FROM case_clock_pauses p WHERE p.case_id = c.id AND p.ended_on IS NULL) AS open_pause
FROM cases c WHERE c.id = %s
"""
LOCK_CASE = "SELECT id FROM cases WHERE id = %s FOR UPDATE"
LIST_SQL = """
SELECT c.id, c.case_no, c.title, c.stage, c.opened_on, c.stage_since, c.extension_days, c.rework_count,
       c.entity_id, e.name AS entity, c.district_adcode, d.name AS district_name, c.officers,
       c.decided_on, c.closed_on, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat
FROM cases c JOIN entities e ON e.id = c.entity_id
LEFT JOIN admin_areas d ON d.level = 'district' AND d.adcode = c.district_adcode
WHERE (%(mine)s::text IS NULL OR %(mine)s = ANY (c.officers) OR c.created_by = %(mine)s)
  AND (%(stage)s::text IS NULL OR c.stage = %(stage)s)
ORDER BY c.stage = '结案', c.opened_on, c.id
LIMIT %(limit)s
"""
PAUSES_OF = """
SELECT case_id, id, kind, started_on, ended_on, started_by, ended_by, note
FROM case_clock_pauses WHERE case_id = ANY (%s) ORDER BY started_on, id
"""
LIMITS_SQL = "SELECT stage, days, unit, basis FROM case_stage_limits"
INSERT_CASE = """
INSERT INTO cases (case_no, entity_id, title, stage, opened_on, stage_since, district_adcode, task_id,
                   created_by, officers)
VALUES (%s, %s, %s, '立案', %s, %s, %s, %s, %s, %s) RETURNING id
"""
INSERT_EVENT = """
INSERT INTO case_events (case_id, action, from_stage, to_stage, note, detail, username, role,
                         district_adcode)
VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) RETURNING id
"""
ATTACH = """
INSERT INTO case_evidence (case_id, evidence_id, attached_by, district_adcode)
VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id
"""
EVENTS_SQL = """
SELECT id, action, from_stage, to_stage, note, detail, username, role,
       to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS at
FROM case_events WHERE case_id = %s ORDER BY id
"""
EVIDENCE_SQL = """
SELECT v.id, v.kind, v.media_type, trim(v.sha256) AS sha256, trim(v.sm3) AS sm3, v.size, v.flags,
       v.exif, v.distance_to_entity_m, v.username, v.thumb_path IS NOT NULL AS has_thumb,
       to_char(v.received_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS received_at,
       to_char(v.captured_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS captured_at
FROM evidence v
WHERE v.case_id = %(id)s OR v.id IN (SELECT evidence_id FROM case_evidence WHERE case_id = %(id)s)
ORDER BY v.received_at, v.id
"""
DOCUMENTS_SQL = """
SELECT DISTINCT ON (kind) id, kind, number, version, trim(sha256) AS sha256, trim(sm3) AS sm3, size,
       to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS created_at
FROM case_documents WHERE case_id = %s ORDER BY kind, version DESC
"""
CHAIN_SQL = "SELECT idx, kind, ref_id, hash FROM chain_links WHERE chain_key = %s ORDER BY idx"


class CaseRefused(ZhengtuError):
    """A workflow rule said no; carries the rule's status (400/403/409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def today() -> date:
    """The date in Beijing time: legal days are local days."""
    return datetime.now(SHANGHAI).date()


def chain_key(case_id: int) -> str:
    """The hash chain of a case."""
    return f"case:{case_id}"


def _rows(cur: psycopg2.extensions.cursor) -> list[dict]:
    cols = [c.name for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def load_case(conn: psycopg2.extensions.connection, case_id: int, *, lock: bool = False) -> dict:
    """A case row (RLS-filtered), optionally locked against concurrent moves; else NotFound."""
    with conn.cursor() as cur:
        if lock:
            cur.execute(LOCK_CASE, (case_id,))
        cur.execute(CASE_ROW, (case_id,))
        found = _rows(cur)
    if not found:
        raise NotFound(f"案件 {case_id} 不存在或不在您的辖区 / case not found")
    return found[0]


def state_of(case: dict) -> CaseState:
    """The part of a case row the rules look at."""
    return CaseState(stage=case["stage"], officers=tuple(case["officers"] or ()), created_by=case["created_by"],
                     extension_days=case["extension_days"], open_pause=case["open_pause"])


def _actor(who: Principal) -> Actor:
    return Actor(who.username, who.role)


def _refuse(err: RuleError) -> CaseRefused:
    return CaseRefused(err.status, err.message)


def record_event(conn: psycopg2.extensions.connection, case: dict, who: Principal, action: str, *,
                 from_stage: str | None = None, to_stage: str | None = None, note: str = "",
                 detail: dict | None = None) -> tuple[int, Link]:
    """An append-only event and its chain link (the payload is read back from the stored row)."""
    with conn.cursor() as cur:
        cur.execute(INSERT_EVENT, (case["id"], action, from_stage, to_stage, note,
                                   json.dumps(detail or {}, ensure_ascii=False, default=str),
                                   who.username, who.role, case["district_adcode"]))
        event_id = int(cur.fetchone()[0])
    payload = case_chain.stored_payload(conn, "case_event", event_id)
    link = append_link(conn, chain_key(case["id"]), "case_event", event_id, payload, case["district_adcode"])
    return event_id, link


def attach_evidence(conn: psycopg2.extensions.connection, case: dict, who: Principal,
                    evidence_ids: Iterable[int]) -> list[int]:
    """Refer to task evidence from a case (evidence rows stay as they are); each gets a case link."""
    attached = []
    for evidence_id in evidence_ids:
        with conn.cursor() as cur:
            cur.execute(ATTACH, (case["id"], evidence_id, who.username, case["district_adcode"]))
            row = cur.fetchone()
        if row is None:
            continue
        payload = case_chain.stored_payload(conn, "case_evidence", row[0])
        append_link(conn, chain_key(case["id"]), "case_evidence", row[0], payload, case["district_adcode"])
        attached.append(evidence_id)
    return attached


def office_prefix(conn: psycopg2.extensions.connection, district: str) -> str:
    """The issuing office's short name, e.g. 穗天市监 for 广州市天河区市场监督管理局."""
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM admin_areas WHERE level = 'district' AND adcode = %s", (district,))
        row = cur.fetchone()
        cur.execute("SELECT name FROM admin_areas WHERE level = 'city' AND adcode = %s",
                    (district[:4] + "00",))
        city = cur.fetchone()
    city_abbr = CITY_ABBR.get(district[:4]) or (city[0][:1] if city else "粤")
    district_abbr = row[0][:1] if row and row[0] and district[4:] != "00" else ""
    return f"{city_abbr}{district_abbr}市监"


def next_case_no(conn: psycopg2.extensions.connection, district: str, year: int) -> str:
    """穗天市监立〔2026〕N号: a per-district, per-year sequence (serialised by an advisory lock)."""
    prefix = f"{office_prefix(conn, district)}立〔{year}〕"
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"case_no:{district}:{year}",))
        cur.execute("SELECT count(*) FROM cases WHERE district_adcode = %s AND case_no LIKE %s",
                    (district, prefix + "%"))
        n = int(cur.fetchone()[0]) + 1
    return f"{prefix}{n}号"


def open_case(conn: psycopg2.extensions.connection, who: Principal, *, entity_id: int, title: str,
              officers: list[str], task_id: int | None = None, evidence_ids: Iterable[int] = (),
              note: str = "") -> int:
    """立案: a new case at its first stage, its opening event, and the evidence it starts with."""
    title = title.strip()
    if not 2 <= len(title) <= 200:
        raise BadRequest("案由应为 2–200 字 / title must be 2–200 characters")
    with conn.cursor() as cur:
        cur.execute("SELECT district_adcode FROM entities WHERE id = %s", (entity_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound("监管对象不存在或不在您的辖区 / entity not found")
    district = row[0]
    day = today()
    case_no = next_case_no(conn, district, day.year)
    with conn.cursor() as cur:
        cur.execute(INSERT_CASE, (case_no, entity_id, title, day, day, district, task_id, who.username,
                                  sorted(set(officers))))
        case_id = int(cur.fetchone()[0])
    case = {"id": case_id, "district_adcode": district}
    record_event(conn, case, who, "open", to_stage="立案", note=note,
                 detail={"case_no": case_no, "entity_id": entity_id, "title": title, "task_id": task_id,
                         "officers": sorted(set(officers))})
    attach_evidence(conn, case, who, evidence_ids)
    return case_id


def create_case(conn: psycopg2.extensions.connection, who: Principal, body: dict) -> dict:
    """``POST /api/cases``: 立案 directly (a complaint, a referral) by an inspector or a manager."""
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象 / body must be a JSON object")
    try:
        entity_id = int(body.get("entity_id"))
    except (TypeError, ValueError):
        raise BadRequest("entity_id 应为正整数 / entity_id must be a positive integer") from None
    officers = body.get("officers") or ([who.username] if who.role == INSPECTOR else [])
    if not isinstance(officers, list) or not all(isinstance(o, str) for o in officers):
        raise BadRequest("officers 应为用户名列表 / officers must be a list of user names")
    if who.role == INSPECTOR and who.username not in officers:
        officers = [who.username, *officers]
    if not officers:
        raise BadRequest("请指定承办人 officers / name the handling officers")
    from enforcement.field import _check_assignees  # the same rule as for task assignees

    with conn.cursor() as cur:
        cur.execute("SELECT district_adcode FROM entities WHERE id = %s", (entity_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound("监管对象不存在或不在您的辖区 / entity not found")
    _check_assignees(conn, officers, row[0])
    case_id = open_case(conn, who, entity_id=entity_id, title=str(body.get("title") or ""), officers=officers,
                        note=str(body.get("note") or "")[:2000])
    return {"id": case_id, "case_no": load_case(conn, case_id)["case_no"], "stage": "立案"}


# ---- moves -------------------------------------------------------------------------------------

def _text(body: dict, field: str) -> str:
    value = body.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{field} 应为文本 / {field} must be text")
    return value.strip()


def _penalty(raw: object) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise BadRequest(f"罚款金额应为数字：{raw!r} / penalty_yuan must be a number") from None
    if not value.is_finite() or value < 0 or value > Decimal("1e12"):
        raise BadRequest("罚款金额应为 0 至 1 万亿元 / penalty_yuan out of range")
    return value.quantize(Decimal("0.01"))


def transition(conn: psycopg2.extensions.connection, who: Principal, case_id: int, body: dict) -> dict:
    """Move a case one stage (or send it back), if the rules allow it for this caller now."""
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象 / body must be a JSON object")
    to = _text(body, "to")
    if not to:
        raise BadRequest(f"缺少目标阶段 to（{'、'.join(STAGES)}）/ missing 'to'")
    note, decision = _text(body, "note"), _text(body, "decision")
    penalty = _penalty(body.get("penalty_yuan"))
    case = load_case(conn, case_id, lock=True)
    try:
        edge = check_transition(state_of(case), to, _actor(who), note=note, decision=decision)
    except RuleError as err:
        raise _refuse(err) from None
    sets = ["stage = %(to)s", "stage_since = %(day)s", "updated_at = now()"]
    day = today()
    detail: dict = {}
    if edge.action == "rework":
        sets.append("rework_count = rework_count + 1")
        detail["rework"] = case["rework_count"] + 1
    if edge.needs_decision:
        sets += ["decision = %(decision)s", "penalty_yuan = %(penalty)s", "decided_on = %(day)s"]
        detail.update(decision=decision, penalty_yuan=str(penalty) if penalty is not None else None)
    if to == "结案":
        sets += ["closed_on = %(day)s", "published = true"]
    with conn.cursor() as cur:
        cur.execute(f"UPDATE cases SET {', '.join(sets)} WHERE id = %(id)s",  # noqa: S608 — fixed fragments
                    {"to": to, "day": day, "decision": decision, "penalty": penalty, "id": case_id})
    event_id, link = record_event(conn, case, who, edge.action, from_stage=case["stage"], to_stage=to,
                                  note=note, detail=detail)
    return {"id": case_id, "stage": to, "from": case["stage"], "action": edge.action, "event_id": event_id,
            "chain": {"index": link.index, "hash": link.hash}}


def extend(conn: psycopg2.extensions.connection, who: Principal, case_id: int, body: dict) -> dict:
    """The one 30-day extension of the statutory clock, approved by someone not on the case."""
    reason = _text(body if isinstance(body, dict) else {}, "note") or _text(
        body if isinstance(body, dict) else {}, "reason")
    case = load_case(conn, case_id, lock=True)
    try:
        check_extension(state_of(case), _actor(who), reason)
    except RuleError as err:
        raise _refuse(err) from None
    from enforcement.case_rules import EXTENSION_DAYS

    with conn.cursor() as cur:
        cur.execute("UPDATE cases SET extension_days = %s, extended_by = %s, updated_at = now() WHERE id = %s",
                    (EXTENSION_DAYS, who.username, case_id))
    event_id, link = record_event(conn, case, who, "extension", note=reason, detail={"days": EXTENSION_DAYS})
    return {"id": case_id, "extension_days": EXTENSION_DAYS, "event_id": event_id,
            "chain": {"index": link.index, "hash": link.hash}}


def pause(conn: psycopg2.extensions.connection, who: Principal, case_id: int, body: dict) -> dict:
    """Stop the statutory clock for a hearing, a test or an appraisal (from today)."""
    body = body if isinstance(body, dict) else {}
    kind, note = _text(body, "kind"), _text(body, "note")
    case = load_case(conn, case_id, lock=True)
    try:
        check_pause(state_of(case), _actor(who), kind, resume=False)
    except RuleError as err:
        raise _refuse(err) from None
    with conn.cursor() as cur:
        cur.execute("INSERT INTO case_clock_pauses (case_id, kind, started_on, started_by, note, district_adcode) "
                    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                    (case_id, kind, today(), who.username, note, case["district_adcode"]))
        pause_id = int(cur.fetchone()[0])
    event_id, link = record_event(conn, case, who, "pause", note=note, detail={"pause_id": pause_id, "kind": kind})
    return {"id": case_id, "pause_id": pause_id, "kind": kind, "event_id": event_id,
            "chain": {"index": link.index, "hash": link.hash}}


def resume(conn: psycopg2.extensions.connection, who: Principal, case_id: int, body: dict) -> dict:
    """Restart the clock: the open pause ends today."""
    note = _text(body if isinstance(body, dict) else {}, "note")
    case = load_case(conn, case_id, lock=True)
    try:
        check_pause(state_of(case), _actor(who), None, resume=True)
    except RuleError as err:
        raise _refuse(err) from None
    with conn.cursor() as cur:
        cur.execute("UPDATE case_clock_pauses SET ended_on = %s, ended_by = %s WHERE case_id = %s "
                    "AND ended_on IS NULL RETURNING id, kind, started_on",
                    (today(), who.username, case_id))
        pause_id, kind, started = cur.fetchone()
    event_id, link = record_event(conn, case, who, "resume", note=note,
                                  detail={"pause_id": pause_id, "kind": kind, "started_on": started.isoformat(),
                                          "days": (today() - started).days})
    return {"id": case_id, "pause_id": pause_id, "event_id": event_id,
            "chain": {"index": link.index, "hash": link.hash}}


# ---- reading -----------------------------------------------------------------------------------

def stage_limits(conn: psycopg2.extensions.connection) -> dict[str, Limit]:
    """The stage limits as configured (the table), falling back to the shipped defaults."""
    with conn.cursor() as cur:
        cur.execute(LIMITS_SQL)
        rows = cur.fetchall()
    return {**DEFAULT_LIMITS, **{s: Limit(d, u, b) for s, d, u, b in rows}}


def _pauses(conn: psycopg2.extensions.connection, case_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in case_ids}
    with conn.cursor() as cur:
        cur.execute(PAUSES_OF, (case_ids,))
        for row in _rows(cur):
            out[row.pop("case_id")].append(row)
    return out


def clock_of(cal: WorkCalendar, limits: dict[str, Limit], case: dict, pauses: list[dict], day: date) -> Clock:
    """A case's clocks on ``day``."""
    return compute_clock(cal, stage=case["stage"], opened_on=case["opened_on"], stage_since=case["stage_since"],
                         extension_days=case["extension_days"],
                         pauses=[Pause(p["started_on"], p["ended_on"]) for p in pauses], today=day, limits=limits)


def clock_json(clock: Clock) -> dict:
    """A clock as JSON-ready values (dates as YYYY-MM-DD)."""
    def iso(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {"deadline": iso(clock.deadline), "deadline_kind": clock.deadline_kind, "days_left": clock.days_left,
            "overdue": clock.overdue, "warning": clock.warning, "paused": clock.paused,
            "stage_deadline": iso(clock.stage_deadline), "stage_days_left": clock.stage_days_left,
            "statutory_deadline": iso(clock.statutory_deadline),
            "statutory_days_left": clock.statutory_days_left, "paused_days": clock.paused_days}


def list_cases(conn: psycopg2.extensions.connection, who: Principal, *, stage: str | None = None,
               limit: int = 500, day: date | None = None) -> list[dict]:
    """An inspector's own cases (handling or opened), or every case in the caller's region."""
    if stage is not None and stage not in STAGES:
        raise BadRequest(f"未知阶段：{stage!r} / unknown stage")
    mine = who.username if who.role == INSPECTOR else None
    with conn.cursor() as cur:
        cur.execute(LIST_SQL, {"mine": mine, "stage": stage, "limit": max(1, min(limit, 2000))})
        rows = _rows(cur)
    cal, limits, day = from_db(conn), stage_limits(conn), day or today()
    pauses = _pauses(conn, [r["id"] for r in rows])
    out = []
    for row in rows:
        clock = clock_of(cal, limits, row, pauses[row["id"]], day)
        out.append({"id": row["id"], "case_no": row["case_no"], "title": row["title"], "entity": row["entity"],
                    "entity_id": row["entity_id"], "stage": row["stage"], "district_adcode": row["district_adcode"],
                    "district_name": row["district_name"], "opened_on": row["opened_on"].isoformat(),
                    "stage_since": row["stage_since"].isoformat(), "officers": list(row["officers"] or []),
                    "rework_count": row["rework_count"], "extended": bool(row["extension_days"]),
                    "lon": row["lon"], "lat": row["lat"], **clock_json(clock)})
    return out


def case_extras(conn: psycopg2.extensions.connection, case_id: int, who: Principal | None = None,
                day: date | None = None) -> dict:
    """What a case page shows beyond the case row: timeline, clock, pauses, evidence, documents, chain."""
    case = load_case(conn, case_id)
    cal, limits, day = from_db(conn), stage_limits(conn), day or today()
    pauses = _pauses(conn, [case_id])[case_id]
    with conn.cursor() as cur:
        cur.execute(EVENTS_SQL, (case_id,))
        events = _rows(cur)
        cur.execute(EVIDENCE_SQL, {"id": case_id})
        evidence = _rows(cur)
        cur.execute(DOCUMENTS_SQL, (case_id,))
        documents = _rows(cur)
        cur.execute(CHAIN_SQL, (chain_key(case_id),))
        chain = _rows(cur)
        cur.execute("SELECT result, findings FROM task_results WHERE case_id = %s", (case_id,))
        result = cur.fetchone()
    for row in evidence:
        row["size"] = int(row["size"])
    extras = {
        "officers": list(case["officers"] or []), "created_by": case["created_by"], "task_id": case["task_id"],
        "stage_since": case["stage_since"].isoformat(), "rework_count": case["rework_count"],
        "extension_days": case["extension_days"], "extended_by": case["extended_by"],
        "decision": case["decision"],
        "penalty_yuan": None if case["penalty_yuan"] is None else str(case["penalty_yuan"]),
        "decided_on": case["decided_on"].isoformat() if case["decided_on"] else None,
        "closed_on": case["closed_on"].isoformat() if case["closed_on"] else None,
        "published": case["published"], "clock": clock_json(clock_of(cal, limits, case, pauses, day)),
        "pauses": [{**p, "started_on": p["started_on"].isoformat(),
                    "ended_on": p["ended_on"].isoformat() if p["ended_on"] else None} for p in pauses],
        "timeline": events, "evidence": evidence, "documents": documents,
        "task_result": {"result": result[0], "findings": result[1]} if result else None,
        "chain": {"key": chain_key(case_id), "links": len(chain), "head": chain[-1]["hash"] if chain else None},
        "stages": list(STAGES),
    }
    if who is not None:
        actor, state = _actor(who), state_of(case)
        extras["allowed"] = [{"to": to, "action": e.action, "label": e.label, "needs_note": e.needs_note,
                              "needs_decision": e.needs_decision} for to, e in allowed_moves(state, actor)]
        extras["can_extend"] = _may(check_extension, state, actor, "理由充分")
        extras["can_pause"] = _may(check_pause, state, actor, "检测", resume=False)
        extras["can_resume"] = _may(check_pause, state, actor, None, resume=True)
    return extras


def _may(check, *args, **kwargs) -> bool:  # noqa: ANN001 — one of the case_rules checks
    try:
        check(*args, **kwargs)
    except RuleError:
        return False
    return True

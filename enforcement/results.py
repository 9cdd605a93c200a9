"""Inspection results (检查结果): one final result per task, by an inspector assigned to it.

A result that needs follow-up (``case_rules.FOLLOW_UP``) opens a case (立案) in the same transaction,
with the task's evidence attached by reference and the task's officers as the case's officers. The
result is a link in the task's chain; the case's opening and each attached evidence item are links in
the case's chain.
"""

from __future__ import annotations

import psycopg2.errors
import psycopg2.extensions

from accounts.roles import INSPECTOR, Principal
from enforcement import case_chain
from enforcement.case_rules import FOLLOW_UP, RESULTS
from enforcement.cases import open_case
from enforcement.chain import append_link
from geo.errors import BadRequest, Conflict, Forbidden, NotFound

FINDINGS_MAX = 2000
TASK_SQL = """
SELECT t.id, t.entity_id, t.district_adcode, t.assigned_users, r.task_id IS NOT NULL AS recorded
FROM inspection_tasks t LEFT JOIN task_results r ON r.task_id = t.id
WHERE t.id = %s FOR UPDATE OF t
"""
INSERT_RESULT = """
INSERT INTO task_results (task_id, result, findings, username, case_id, district_adcode)
VALUES (%s, %s, %s, %s, %s, %s)
"""
TASK_EVIDENCE = "SELECT id FROM evidence WHERE task_id = %s ORDER BY id"


def check_body(body: object) -> tuple[str, str]:
    """The result and findings of a request, or a 400 naming the standard list."""
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象 / body must be a JSON object")
    result, findings = body.get("result"), body.get("findings", "")
    if result not in RESULTS:
        raise BadRequest(f"检查结果应为以下之一：{'、'.join(RESULTS)}；收到 {result!r} / unknown result")
    if not isinstance(findings, str):
        raise BadRequest("findings 应为文本 / findings must be text")
    findings = findings.strip()
    if result != "未发现问题" and len(findings) < 2:
        raise BadRequest("请填写检查情况（至少 2 字）/ describe the findings")
    if len(findings) > FINDINGS_MAX:
        raise BadRequest(f"检查情况不超过 {FINDINGS_MAX} 字 / findings too long")
    return result, findings


def record_result(conn: psycopg2.extensions.connection, who: Principal, task_id: int, body: object) -> dict:
    """Record a task's result once; open a case if it needs follow-up. 409 if already recorded."""
    result, findings = check_body(body)
    with conn.cursor() as cur:
        cur.execute(TASK_SQL, (task_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在或不在您的辖区 / task not found")
    _, entity_id, district, assigned, recorded = row
    if who.role != INSPECTOR or who.username not in (assigned or []):
        raise Forbidden("只有被指派的执法人员可以登记检查结果 / only an assigned inspector may record the result")
    if recorded:
        raise Conflict("该任务已登记检查结果，结果不可更改 / this task already has a result (results are final)")
    case_id = None
    if result in FOLLOW_UP:
        with conn.cursor() as cur:
            cur.execute(TASK_EVIDENCE, (task_id,))
            evidence_ids = [r[0] for r in cur.fetchall()]
        title = f"{result}：{findings[:40]}" if findings else result
        case_id = open_case(conn, who, entity_id=entity_id, title=title, officers=list(assigned or []),
                            task_id=task_id, evidence_ids=evidence_ids, note=f"检查任务 {task_id} 结果：{result}")
    try:
        with conn.cursor() as cur:
            cur.execute("SAVEPOINT task_result")
            cur.execute(INSERT_RESULT, (task_id, result, findings, who.username, case_id, district))
            cur.execute("UPDATE inspection_tasks SET status = 'done' WHERE id = %s", (task_id,))
    except psycopg2.errors.UniqueViolation:  # a concurrent request won
        raise Conflict("该任务已登记检查结果 / this task already has a result") from None
    payload = case_chain.stored_payload(conn, "task_result", task_id)
    link = append_link(conn, f"task:{task_id}", "task_result", task_id, payload, district)
    return {"task_id": task_id, "result": result, "findings": findings, "case_id": case_id,
            "follow_up": result in FOLLOW_UP, "chain": {"index": link.index, "hash": link.hash}}

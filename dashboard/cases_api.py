"""JSON API of task results and enforcement cases, and the generated documents (PDF).

Thin adapters: parse, call ``enforcement``, return. Row-level security decides which tasks and cases
exist for the caller (another region: 404); the workflow rules decide who may do what (400/403/409).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from accounts import audit
from accounts.roles import INSPECTOR, LEGAL_REVIEWER, MANAGER
from enforcement import cases, documents, results
from enforcement.case_rules import READ_ROLES
from enforcement.records import parse_id
from geo.errors import BadRequest
from layers.web import json_object, principal, request_connection, requires

bp = Blueprint("cases_api", __name__, url_prefix="/api")
ACTORS = (INSPECTOR, LEGAL_REVIEWER, MANAGER)


@bp.post("/tasks/<task_id>/result")
@requires(INSPECTOR)
def task_result(task_id: str) -> tuple[Response, int]:
    """``{result, findings}`` by an assigned inspector → 201; opens a case when follow-up is needed."""
    tid = parse_id(task_id, "task_id")
    body = json_object()
    with request_connection() as conn:
        return jsonify(results.record_result(conn, principal(), tid, body)), 201


@bp.get("/cases")
@requires(*READ_ROLES)
def list_cases() -> Response:
    """The caller's cases (an inspector's own; everyone else's region) with deadlines and flags."""
    try:
        limit = int(request.args.get("limit", "500"))
    except ValueError:
        raise BadRequest("limit 应为整数 / limit must be an integer") from None
    with request_connection() as conn:
        return jsonify(cases.list_cases(conn, principal(), stage=request.args.get("stage") or None, limit=limit))


@bp.post("/cases")
@requires(INSPECTOR, MANAGER)
def create_case() -> tuple[Response, int]:
    """立案 directly: ``{entity_id, title, officers?, note?}`` → 201 ``{id, case_no, stage}``."""
    body = json_object()
    with request_connection() as conn:
        return jsonify(cases.create_case(conn, principal(), body)), 201


@bp.post("/cases/<case_id>/transitions")
@requires(*ACTORS)
def transition(case_id: str) -> tuple[Response, int]:
    """``{to, note?, decision?, penalty_yuan?}``: one step of the workflow, or a send-back."""
    cid = parse_id(case_id, "case_id")
    body = json_object()
    with request_connection() as conn:
        return jsonify(cases.transition(conn, principal(), cid, body)), 201


@bp.post("/cases/<case_id>/extension")
@requires(LEGAL_REVIEWER, MANAGER)
def extension(case_id: str) -> tuple[Response, int]:
    """``{note}``: the one 30-day extension of the 90-day decision limit."""
    cid = parse_id(case_id, "case_id")
    body = json_object()
    with request_connection() as conn:
        return jsonify(cases.extend(conn, principal(), cid, body)), 201


@bp.post("/cases/<case_id>/pauses")
@requires(*ACTORS)
def pause(case_id: str) -> tuple[Response, int]:
    """``{kind: 听证|检测|鉴定, note?}``: stop the statutory clock from today."""
    cid = parse_id(case_id, "case_id")
    body = json_object()
    with request_connection() as conn:
        return jsonify(cases.pause(conn, principal(), cid, body)), 201


@bp.post("/cases/<case_id>/pauses/resume")
@requires(*ACTORS)
def resume(case_id: str) -> tuple[Response, int]:
    """``{note?}``: restart the clock (the open pause ends today)."""
    cid = parse_id(case_id, "case_id")
    body = json_object()
    with request_connection() as conn:
        return jsonify(cases.resume(conn, principal(), cid, body)), 201


@bp.get("/cases/<case_id>/documents/<kind>.pdf")
@requires(*READ_ROLES)
def document(case_id: str, kind: str) -> Response:
    """现场检查笔录 / 责令改正通知书 as PDF: the stored version, or a new one if the case changed."""
    cid = parse_id(case_id, "case_id")
    documents.check_kind(kind)
    store = current_app.config["ZHENGTU_SETTINGS"].evidence_dir
    with request_connection() as conn:
        doc = documents.document_for(conn, principal(), cid, kind, store)
        audit.record(conn, principal(), "read_document", object_type="case_documents", object_id=doc.id,
                     detail={"case_id": cid, "kind": kind, "number": doc.number}, ip=request.remote_addr)
    response = send_file(doc.path, mimetype="application/pdf", download_name=f"{kind}-{cid}.pdf",
                         etag=doc.sha256, max_age=0)
    response.headers["X-Document-Number"] = quote(doc.number)  # percent-encoded UTF-8
    response.headers["X-Document-SHA256"] = doc.sha256
    response.headers["Cache-Control"] = "private, no-cache"
    return response

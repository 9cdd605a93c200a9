"""KPI endpoints: definitions, one KPI for a region and period, its records, targets, and exports.

Thin adapters over ``kpi``: parse, compute under the caller's row-level security, return. Legal
reviewers and operators may read the KPIs; managers and administrators also set targets.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from accounts.roles import ADMIN, LEGAL_REVIEWER, MANAGER, OPERATOR
from geo.errors import BadRequest
from kpi import compute, export, targets
from kpi.definitions import available
from kpi.regions import child_geojson, resolve
from kpi.report import parse_query, report
from layers.web import json_object, principal, request_connection, requires

bp = Blueprint("kpi_api", __name__)
KPI_READERS = (LEGAL_REVIEWER, OPERATOR, MANAGER, ADMIN)
KPI_SETTERS = (MANAGER, ADMIN)


def _query(conn, kpi_id: str):  # noqa: ANN001, ANN202 - a connection and a Query
    args = request.args
    return parse_query(conn, principal().region, kpi_id, args.get("region"), args.get("from"),
                       args.get("to"), args.get("category"))


def _kpi_body(conn, kpi_id: str) -> dict:  # noqa: ANN001
    q = _query(conn, kpi_id)
    return report(conn, q.kpi, q.region, q.period, q.category)


@bp.get("/api/kpi")
@requires(*KPI_READERS)
def definitions() -> Response:
    """Every KPI whose data exists, with its definition, formula, SQL and ``additive``."""
    with request_connection() as conn:
        return jsonify([k.as_dict() for k in available(conn)])


@bp.get("/api/kpi/<kpi_id>")
@requires(*KPI_READERS)
def kpi_value(kpi_id: str) -> Response:
    """``?region=&from=&to=&category=`` → value, numerator, denominator, target, children, series…"""
    with request_connection() as conn:
        return jsonify(_kpi_body(conn, kpi_id))


@bp.get("/api/kpi/<kpi_id>/records")
@requires(*KPI_READERS)
def kpi_records(kpi_id: str) -> Response:
    """The records behind the figure (up to ``limit``, default 200): tasks, cases, events, alerts."""
    try:
        limit = min(max(int(request.args.get("limit", "200")), 1), 5000)
    except ValueError:
        raise BadRequest("limit 应为整数 / limit must be an integer") from None
    with request_connection() as conn:
        q = _query(conn, kpi_id)
        rows = compute.records(conn, q.kpi, q.region, q.period, q.category, limit=limit)
    return jsonify({"id": q.kpi.id, "region": q.region.code, "from": q.period.start.isoformat(),
                    "to": q.period.end.isoformat(), "records": rows})


@bp.get("/api/kpi/<kpi_id>/targets")
@requires(*KPI_READERS)
def kpi_targets(kpi_id: str) -> Response:
    """Every target of this KPI the caller may see (own region and enclosing ones)."""
    with request_connection() as conn:
        return jsonify(targets.list_targets(conn, compute.get_kpi(conn, kpi_id)))


@bp.post("/api/kpi/<kpi_id>/targets")
@requires(*KPI_SETTERS)
def set_kpi_target(kpi_id: str) -> tuple[Response, int]:
    """``{region, target, from?, to?, note?}`` → 201 ``{id}``; only inside the caller's region."""
    body = json_object()
    with request_connection() as conn:
        kpi = compute.get_kpi(conn, kpi_id)
        where = resolve(conn, body.get("region") if isinstance(body.get("region"), str) else None,
                        principal().region)
        target_id = targets.set_target(conn, kpi, where, body)
    return jsonify({"id": target_id}), 201


@bp.get("/kpi/export.xlsx")
@requires(*KPI_READERS)
def export_xlsx() -> Response:
    """The current view (``?kpi=&region=&from=&to=&category=``) as an Excel workbook."""
    with request_connection() as conn:
        body = _kpi_body(conn, request.args.get("kpi") or "")
        q = _query(conn, body["id"])
        rows = compute.records(conn, q.kpi, q.region, q.period, q.category, limit=5000)
    data = export.workbook(body, rows)
    name = f"kpi-{body['id']}-{body['region']}-{body['from']}-{body['to']}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/kpi/export.pdf")
@requires(*KPI_READERS)
def export_pdf() -> Response:
    """The current view as a one-page PDF briefing (map, ranking, trend; CJK font embedded)."""
    with request_connection() as conn:
        body = _kpi_body(conn, request.args.get("kpi") or "")
        q = _query(conn, body["id"])
        grids = [c["region"] for c in body["children"] if c["region"]]
        shapes = child_geojson(conn, q.region, grids)
    data = export.briefing_pdf(body, shapes)
    name = f"kpi-{body['id']}-{body['region']}-{body['from']}-{body['to']}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

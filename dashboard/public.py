"""一公开 at /public: published draws, their results and closed-case decisions, for anyone, no login.

A small Flask blueprint of autoescaped Jinja pages (like /field): plain HTML that reads well on a phone
and a desktop, with no script. Every read goes through ``enforcement.public`` and so through the
SECURITY DEFINER functions that return published rows and masked columns only; the same data is JSON
at ``GET /api/public/results``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from accounts.roles import PUBLIC
from enforcement import public
from geo.errors import ZhengtuError
from layers.web import request_connection, requires

bp = Blueprint("public", __name__, template_folder="public_templates")
STATUS_LABELS = {"published": "已公布，待抽取", "drawn": "已抽取"}
TASK_LABELS = {"open": "待检查", "in_progress": "检查中", "done": "已检查"}


@bp.get("/public", strict_slashes=False)
@requires(PUBLIC)
def page() -> tuple[str, int]:
    """The public results page; filters in the query string (q, district, from, to, plan, page)."""
    try:
        query = public.parse_query(request.args)
    except ZhengtuError as exc:
        query, error, status = public.PublicQuery(), exc.message, exc.status
    else:
        error, status = None, 200
    with request_connection() as conn:
        data = public.public_overview(conn, query)
        areas = public.area_options(conn)
    pages = max(1, -(-data["results"]["total"] // public.PAGE_SIZE))
    return render_template("public/page.html", data=data, query=query, areas=areas, error=error,
                           status_labels=STATUS_LABELS, task_labels=TASK_LABELS, pages=pages,
                           page_url=_page_url, plan_url=_plan_url), status


def _page_url(number: int) -> str:
    params = request.args.to_dict()
    params["page"] = str(number)
    return url_for("public.page", **params) + "#results"


def _plan_url(plan_id: int) -> str:
    return url_for("public.page", plan=str(plan_id)) + "#results"


@bp.get("/api/public/results")
@requires(PUBLIC)
def results() -> Response:
    """JSON of the public page: ``{filters, plans, results: {total, rows}, cases: {total, rows}}``."""
    query = public.parse_query(request.args)
    with request_connection() as conn:
        response = jsonify(public.public_overview(conn, query))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response

"""The field pages (粤监管) under /field: a Flask blueprint of Jinja pages, not Dash.

Phones on weak 4G need a small first load and pages that open offline; Dash's renderer, its layout
fetch and callback POSTs make both hard. So: server-rendered, autoescaped templates, small vanilla
scripts over the JSON API (``dashboard/field_api.py``), the vendored MapLibre and a service worker
whose scope is /field. Every view declares its roles (deny by default, ``dashboard/auth.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from accounts.roles import ADMIN, INSPECTOR, LEGAL_REVIEWER, PUBLIC, STAFF_ROLES, Principal
from dashboard.field import assets
from dashboard.field.dossier import dossier_view
from dashboard.field.labels import script_labels
from enforcement.case_rules import RESULTS
from enforcement.field import SITE_RADIUS_M
from enforcement.records import entity_dossier, parse_id
from geo.errors import NotFound, Unauthorized, ZhengtuError
from layers.style import map_config
from layers.web import principal, request_connection, requires

bp = Blueprint("field", __name__, url_prefix="/field", template_folder="templates")
UPLOAD_ROLES = (INSPECTOR, LEGAL_REVIEWER, ADMIN)  # as POST /api/evidence
MAP_LAYERS = ["admin_areas", "entities"]
OFFLINE = {"zooms": [12, 13, 14, 15, 16], "ring_from": 15, "max_tasks": 50}
ONE_YEAR = 365 * 86400


def _page_config(who: Principal) -> dict:
    """What the scripts need, rendered as JSON into the page (``tojson`` escapes it for <script>)."""
    return {
        "user": {"username": who.username, "name": who.display_name or who.username, "role": who.role,
                 "may_check_in": who.role == INSPECTOR, "may_upload": who.may(UPLOAD_ROLES)},
        "labels": script_labels(), "map": map_config(None, "zh", layer_ids=MAP_LAYERS),
        "site_radius_m": SITE_RADIUS_M, "offline": OFFLINE,
    }


def _render(template: str, status: int = 200, **context: object) -> tuple[str, int]:
    who = principal()
    html = render_template(f"field/{template}", who=who, config=_page_config(who), asset=assets.asset_url,
                           maplibre=assets.maplibre_url, **context)
    return html, status


@bp.get("", strict_slashes=False)
@requires(*STAFF_ROLES)
def shell() -> tuple[str, int]:
    """The app shell: tasks by distance on a map, what is around me, check-in and evidence capture."""
    return _render("shell.html", scripts=assets.SHELL_SCRIPTS, results=RESULTS)


@bp.get("/entity/<entity_id>")
@requires(*STAFF_ROLES)
def entity(entity_id: str) -> tuple[str, int]:
    """全景信息: an entity's dossier in the caller's jurisdiction (masked and audited by ``records``)."""
    eid = parse_id(entity_id, "entity_id")
    with request_connection() as conn:
        found = entity_dossier(conn, principal(), eid, ip=request.remote_addr)
    return _render("entity.html", scripts=assets.DOSSIER_SCRIPTS, d=dossier_view(found, principal()),
                   rendered=datetime.now(UTC).isoformat(timespec="seconds"))


@bp.get("/static/<path:name>")
@requires(PUBLIC)
def asset(name: str) -> Response:
    """A script, stylesheet or icon of the field pages: gzipped once, immutable under its current hash."""
    path = assets.find(name)
    if path is None:
        raise NotFound("文件不存在 / not found")
    raw, packed, digest = assets.load(path)
    gzipped = assets.compressible(path) and _accepts_gzip()
    response = Response(packed if gzipped else raw, mimetype=assets.media_type(path))
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"  # flask-compress leaves encoded bodies alone
    response.vary.add("Accept-Encoding")
    response.set_etag(digest + ("-gz" if gzipped else ""))
    immutable = request.args.get("v") == digest
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable" if immutable else "no-cache"
    return response.make_conditional(request)


def _accepts_gzip() -> bool:
    """Whether Accept-Encoding admits gzip (by name or ``*``, with a quality above zero)."""
    return request.accept_encodings["gzip"] > 0


@bp.get("/sw.js")
@requires(PUBLIC)
def service_worker() -> Response:
    """The service worker, registered with scope ``/field`` (so the page ``/field`` itself is covered).

    Its default maximum scope would be ``/field/`` (the script's folder), which does not contain
    ``/field``; ``Service-Worker-Allowed`` widens it to exactly ``/field``. Fetches of /assets, /tiles
    and /api made by a controlled page pass through the worker whatever their path.
    """
    return Response(assets.service_worker_source(), mimetype="text/javascript",
                    headers={"Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"})


@bp.get("/manifest.webmanifest")
@requires(PUBLIC)
def manifest() -> Response:
    """Web-app manifest ("add to home screen")."""
    response = jsonify(assets.manifest())
    response.mimetype = "application/manifest+json"
    return response


@bp.errorhandler(Unauthorized)
def _to_login(_exc: Unauthorized) -> BaseResponse:
    """A person without a session is sent to the login form and brought back afterwards."""
    return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/?=&"))


@bp.errorhandler(ZhengtuError)
def _error_page(exc: ZhengtuError) -> tuple[str, int]:
    """Errors on these pages are pages (in Chinese), not JSON."""
    return _render("error.html", status=exc.status, message=exc.message, status_code=exc.status,
                   with_map=False)

"""The administrators' upload page for registers: ``/admin/import`` runs the same importer as the CLI.

A plain server-rendered form (multipart upload, CSRF field, autoescaped template), not a Dash upload:
``dcc.Upload`` would base64 the whole file into a callback. The import runs under the admin's row-
level security context (rows outside their region are rejected with a reason), the report is kept
under ``<home>/imports/<random>.csv`` for download, and after a real load the tile pyramid is rebuilt
with the owner's connection (the app role may not rewrite it, and must not: it sees only its region).
"""

from __future__ import annotations

import re
import secrets
import tempfile
from contextlib import closing
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file

from accounts.roles import ADMIN
from dashboard.auth import csrf_token
from dashboard.i18n import LANG_COOKIE, request_lang, t
from data.imports.entities import ImportOptions, import_entities
from data.imports.readers import EXCEL, GIS, TABULAR
from data.imports.report import write_report
from geo.db import connect, resolve_url
from geo.errors import BadRequest, ZhengtuError
from layers.cells import rebuild_entity_cells
from layers.web import database, principal, requires

bp = Blueprint("imports", __name__, template_folder="templates")
TOKEN = re.compile(r"^[0-9a-f]{32}$")
SHOWN_PROBLEMS = 200
CRS_CHOICES = [("", "自动（文件自带，否则 WGS 84）"), ("wgs84", "WGS 84 / CGCS2000（GPS）"),
               ("gcj02", "GCJ-02（高德、腾讯）"), ("bd09", "BD-09（百度）")]
TEXT_KEYS = ("title", "back", "help", "file", "crs", "columns", "dry_run", "submit", "result", "dry", "report",
             "more")
COUNTS = ("read", "inserted", "updated", "unchanged", "rejected")


def _text(lang: str) -> dict[str, object]:
    """The page's words from the message catalogue."""
    text: dict[str, object] = {key: t(f"import.{key}", lang) for key in TEXT_KEYS}
    text["counts"] = [(key, t(f"import.count.{key}", lang)) for key in COUNTS]
    return text


def _folder() -> Path:
    folder = current_app.config["ZHENGTU_SETTINGS"].home / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _render(status: int = 200, **values: object) -> Response:
    lang = request_lang(request.args.get("lang"), request.cookies.get(LANG_COOKIE))
    html = render_template("admin_import.html", lang=lang, text=_text(lang), csrf=csrf_token(),
                           crs_choices=CRS_CHOICES, **values)
    return Response(html, status=status, mimetype="text/html")


@bp.get("/admin/import")
@requires(ADMIN)
def form() -> Response:
    """The upload form."""
    return _render()


def _saved_upload(folder: Path) -> Path:
    """The uploaded file under a random name keeping only a known suffix (never the client's name)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("请选择要上传的文件 / choose a file")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in TABULAR | EXCEL | GIS:
        raise BadRequest(f"不支持的文件类型 {suffix} / unsupported file type")
    target = Path(tempfile.mkdtemp(dir=folder)) / f"upload{suffix}"
    upload.save(target)
    return target


@bp.post("/admin/import")
@requires(ADMIN)
def upload() -> Response:
    """Run the importer (dry run unless unchecked) and show the counts and the problems."""
    who, folder = principal(), _folder()
    dry_run = request.form.get("dry_run") == "1"
    try:
        path = _saved_upload(folder)
        options = ImportOptions(crs=request.form.get("crs") or None, columns=request.form.get("columns") or None,
                                dry_run=dry_run, progress=False, region=who.region,
                                context=who.db_context(request.remote_addr), actor=who.username)
        try:
            with database().connection(who.db_context(request.remote_addr)) as conn:
                summary = import_entities(conn, path, options)
        finally:
            path.unlink(missing_ok=True)
            path.parent.rmdir()
    except ZhengtuError as exc:
        return _render(status=exc.status, error=exc.message)
    if not dry_run and (summary.inserted or summary.updated):
        settings = current_app.config["ZHENGTU_SETTINGS"]
        with closing(connect(resolve_url(settings))) as owner:
            rebuild_entity_cells(owner)
    report = None
    if summary.problems:
        token = secrets.token_hex(16)
        write_report(summary.problems, folder / f"{token}.csv")
        report = f"/admin/import/report/{token}.csv"
    problems = sorted(summary.problems, key=lambda p: p.row)
    return _render(summary=summary, report=report, problems=problems[:SHOWN_PROBLEMS],
                   more=len(problems) > SHOWN_PROBLEMS)


@bp.get("/admin/import/report/<token>.csv")
@requires(ADMIN)
def report(token: str) -> Response:
    """A report written by an earlier upload (random name; admins only)."""
    path = _folder() / f"{token}.csv"
    if not TOKEN.match(token) or not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name="import-report.csv")

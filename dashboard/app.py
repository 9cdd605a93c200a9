"""The app factory: one place wires settings, the database pool, HTTP blueprints and Dash pages.

Tests call the same factory with their own settings and database, so what is tested is what runs.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html
from flask import Flask, Response, current_app, has_request_context, jsonify, request

from accounts.roles import STAFF_ROLES, Principal
from dashboard import api, auth, cases_api, field_api, import_page, kpi_api, login, ops_api, ops_wall_api
from dashboard import public as public_pages
from dashboard.field import routes as field_pages
from dashboard.i18n import LANG_COOKIE, pick_lang, request_lang, t
from dashboard.login import role_label
from geo.db import Database
from geo.errors import ZhengtuError
from geo.settings import Settings
from layers import catalogue, export_routes, ogc_routes
from layers import routes as tile_routes
from layers.web import EXTENSION_KEY, error_response, principal

HERE = Path(__file__).parent
VIEWPORT = {"name": "viewport", "content": "width=device-width, initial-scale=1, viewport-fit=cover"}


def current_lang() -> str:
    """The language for this request (``?lang=`` or the cookie set when it was last chosen)."""
    if not has_request_context():
        return "zh"
    return request_lang(request.args.get("lang"), request.cookies.get(LANG_COOKIE))


def _remember_lang(response: Response) -> Response:
    """Keep an explicit ``?lang=`` choice in a cookie: Dash fetches layouts without the query."""
    chosen = request.args.get("lang")
    if chosen:
        response.set_cookie(LANG_COOKIE, pick_lang(chosen), max_age=365 * 86400, samesite="Lax",
                            httponly=True)
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response


def _too_large(_exc: Exception) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return jsonify({"error": f"文件过大（上限约 {limit} MB）/ upload too large", "status": 413}), 413


def create_server(settings: Settings, db: Database) -> Flask:
    """The Flask server with the JSON/tile endpoints and one error mapping for all of them."""
    server = Flask("zhengtu", static_folder=None)
    server.config["ZHENGTU_SETTINGS"] = settings
    server.config["JSON_AS_ASCII"] = False
    server.config["MAX_CONTENT_LENGTH"] = settings.evidence_max_bytes + 1024 * 1024
    server.json.ensure_ascii = False  # type: ignore[attr-defined]
    server.extensions[EXTENSION_KEY] = db
    server.register_blueprint(tile_routes.bp)
    server.register_blueprint(api.bp)
    server.register_blueprint(login.bp)
    server.register_blueprint(field_api.bp)
    server.register_blueprint(cases_api.bp)
    server.register_blueprint(kpi_api.bp)
    server.register_blueprint(ops_api.bp)
    server.register_blueprint(public_pages.bp)
    server.register_blueprint(field_pages.bp)
    server.register_blueprint(ogc_routes.bp)
    server.register_blueprint(export_routes.bp)
    server.register_blueprint(import_page.bp)
    server.before_request(lambda: catalogue.refresh_if_stale(db))  # imported layers join the registry
    server.register_blueprint(ops_wall_api.bp)
    server.register_error_handler(ZhengtuError, error_response)
    server.register_error_handler(413, _too_large)
    server.before_request(auth.before_request)
    server.after_request(auth.after_request)
    server.after_request(_security_headers)
    server.after_request(_remember_lang)
    return server


def shell() -> html.Div:
    """The frame around every page: header with navigation built from the page registry."""
    lang = current_lang()
    who = principal()
    links = [dcc.Link(t(page["nav_key"], lang), href=page["relative_path"], className="zt-nav-link")
             for page in dash.page_registry.values()
             if page.get("nav_key") and who.may(tuple(page.get("roles", STAFF_ROLES)))]
    other = "zh" if lang == "en" else "en"
    links.append(html.A(t("lang.switch", lang), href=f"?lang={other}", className="zt-nav-link",
                        lang=other))
    links.append(user_box(who, lang))
    return html.Div(className="zt-shell", children=[
        html.Header(className="zt-header", children=[
            html.Div(className="zt-brand", children=[
                html.Span(t("app.title", lang), className="zt-brand-name"),
                html.Span(t("app.subtitle", lang), className="zt-brand-sub"),
            ]),
            html.Nav(links, className="zt-nav"),
        ]),
        html.Main(dash.page_container, className="zt-main"),
    ])


def user_box(who: Principal, lang: str) -> html.Div:
    """The signed-in user with a logout form, or a sign-in link."""
    if not who.is_authenticated:
        return html.Div(html.A(t("nav.login", lang), href="/login", className="zt-nav-link"),
                        className="zt-user")
    return html.Div(className="zt-user", children=[
        html.Span(f"{who.display_name} · {role_label(who.role, lang)} · {who.region}",
                  id="zt-user-name"),
        html.Form(action="/logout", method="POST", children=[
            dcc.Input(type="hidden", name="csrf_token", value=who.csrf_token or ""),
            html.Button(t("nav.logout", lang), type="submit", id="zt-logout"),
        ]),
    ])


def create_app(settings: Settings | None = None, db: Database | None = None) -> Dash:
    """Build the whole product; with no arguments, from the environment and the embedded cluster."""
    settings = settings or Settings.from_env()
    db = db or Database.from_settings(settings)
    server = create_server(settings, db)
    app = Dash(
        "zhengtu", server=server, use_pages=True, pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"), title="政图 Zhengtu", update_title=None,
        serve_locally=True, compress=True, meta_tags=[VIEWPORT],
        suppress_callback_exceptions=True,
    )
    app.layout = shell
    _register_script_paths(app)
    return app


def _register_script_paths(app: Dash) -> None:
    """Render the index once so this process knows every script path it may serve.

    Dash records the component-suite paths it will serve only while rendering the index page; with
    several gunicorn workers, a script request landing on a worker that never rendered it got a 500.
    """
    with app.server.test_request_context("/"):
        app.index()

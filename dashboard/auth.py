"""Who is calling, may they, and did they mean to: sessions, API tokens, access rules, CSRF.

Every request passes three checks before its view runs:
1. identify: ``Authorization: Bearer TOKEN`` or the ``zt_session`` cookie → ``g.principal``;
2. authorize: the endpoint's declared roles (``@requires`` on Flask views, ``DASH_ENDPOINTS`` for
   Dash's own routes, ``declare_callback`` for server-side callbacks, ``roles=`` on pages); anything
   undeclared is refused — deny by default;
3. CSRF: a state-changing request authenticated by cookie must carry the session's token in the
   ``X-CSRFToken`` header (which Dash's renderer sends from the ``_csrf_token`` cookie) or a form field.
"""

from __future__ import annotations

import hmac
import json
import secrets
from urllib.parse import quote

import dash
from flask import Flask, Response, current_app, g, redirect, request

from accounts import sessions
from accounts.roles import ANONYMOUS, PUBLIC, STAFF_ROLES, Principal
from accounts.users import principal_for_token
from geo.errors import Forbidden, Unauthorized
from layers.web import ROLES_ATTR, database, require_role

SESSION_COOKIE = "zt_session"
CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads
CSRF_HEADER = "X-CSRFToken"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVERYONE = (PUBLIC,)

# Dash's own routes: the shell, scripts and the callback dispatcher are public; what they deliver is
# guarded per page (layout) and per callback (below).
DASH_ENDPOINTS = {
    "_dash_assets.static": EVERYONE, "/_dash-component-suites/<string:package_name>/"
    "<path:fingerprinted_path>": EVERYONE, "/_dash-layout": EVERYONE,
    "/_dash-dependencies": EVERYONE, "/_dash-update-component": EVERYONE,
    "/_reload-hash": EVERYONE, "/_favicon.ico": EVERYONE, "/": EVERYONE, "/<path:path>": EVERYONE,
}
PAGES_CALLBACK = ".._pages_content.children..._pages_store.data.."
CALLBACK_ROLES: dict[str, tuple[str, ...]] = {PAGES_CALLBACK: EVERYONE}


def declare_callback(output: str, *roles: str) -> None:
    """Declare who may trigger the server-side callback whose output id string is ``output``."""
    CALLBACK_ROLES[output] = tuple(roles)


def endpoint_roles(app: Flask, endpoint: str | None) -> tuple[str, ...] | None:
    """The declared roles of an endpoint, or None if it declares none."""
    if endpoint is None:
        return None
    view = app.view_functions.get(endpoint)
    declared = getattr(view, ROLES_ATTR, None)
    return declared if declared is not None else DASH_ENDPOINTS.get(endpoint)


def page_roles(path: str) -> tuple[str, ...]:
    """Roles of the Dash page at ``path`` (staff unless a page opts in to PUBLIC).

    A path that is no page gets Dash's own "not found" page, which anyone may see.
    """
    for page in dash.page_registry.values():
        if page.get("path") == path or _template_matches(page.get("path_template"), path):
            return tuple(page.get("roles", STAFF_ROLES))
    return EVERYONE


def csrf_token() -> str:
    """The CSRF token for forms in this response: the session's, or the visitor's cookie value.

    A first-time visitor has no cookie yet: a token is made now and set by ``after_request``, so the
    form and the cookie carry the same value.
    """
    who = g.get("principal", ANONYMOUS)
    if who.via == "session" and who.csrf_token:
        return who.csrf_token
    if "new_csrf" not in g:
        g.new_csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    return g.new_csrf


def _template_matches(template: str | None, path: str) -> bool:
    if not template:
        return False
    parts, wanted = template.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(wanted) and all(
        p.startswith("<") or p == w for p, w in zip(parts, wanted, strict=True))


def _identify() -> Principal:
    header = request.headers.get("Authorization", "")
    settings = current_app.config["ZHENGTU_SETTINGS"]
    with database().connection() as conn:
        if header.startswith("Bearer "):
            found = principal_for_token(conn, header[7:].strip())
            if found is None:
                raise Unauthorized("API 令牌无效或已吊销 / invalid or revoked token")
            return found
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            found = sessions.load_session(conn, token, idle_minutes=settings.session_idle_minutes)
            if found is not None:
                return found
            g.clear_session_cookie = True
    return ANONYMOUS


LOGIN_ENDPOINT = "login.login_submit"


def _check_csrf(who: Principal) -> None:
    """Cookie-authenticated writes need the session's token; the login form a double-submit one.

    Bearer-token and cookie-less anonymous requests carry no ambient authority, so there is no
    cross-site request to forge.
    """
    if request.method not in STATE_CHANGING or who.via == "token":
        return
    if who.via != "session" and request.endpoint != LOGIN_ENDPOINT:
        return
    expected = who.csrf_token if who.via == "session" else request.cookies.get(CSRF_COOKIE)
    given = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise Forbidden("CSRF 校验失败，请刷新页面后重试 / missing or wrong CSRF token")


def _check_callback(who: Principal) -> None:
    body = request.get_json(silent=True) or {}
    roles = CALLBACK_ROLES.get(str(body.get("output", "")))
    if roles is None:
        raise Forbidden("未声明权限的回调 / undeclared callback")
    require_role(roles)


def before_request() -> Response | None:
    """Identify, authorize and CSRF-check every request (see module docstring)."""
    who = _identify()
    g.principal = who
    roles = endpoint_roles(current_app, request.endpoint)
    if roles is None:
        if request.endpoint is None:  # no route: let Flask answer 404
            return None
        raise Forbidden("未声明权限的接口 / undeclared endpoint")
    require_role(roles)
    _check_csrf(who)
    if request.endpoint == "/_dash-update-component":
        _check_callback(who)
    elif request.endpoint in ("/", "/<path:path>") and not who.may(page_roles(request.path)):
        if not who.is_authenticated:
            return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/?=&"))
    return None


def after_request(response: Response) -> Response:
    """Keep the CSRF cookie in step with the session (Dash reads it), drop dead session cookies."""
    settings = current_app.config["ZHENGTU_SETTINGS"]
    who = g.get("principal", ANONYMOUS)
    if g.get("clear_session_cookie"):
        response.delete_cookie(SESSION_COOKIE, path="/")
    already_set = any(h.startswith(CSRF_COOKIE + "=") for h in response.headers.getlist("Set-Cookie"))
    if who.via != "token" and not already_set:
        csrf = csrf_token()
        if request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(CSRF_COOKIE, csrf, samesite="Strict", secure=settings.secure_cookies,
                                httponly=False, path="/")
    return response


def json_error(status: int, message: str) -> Response:
    """A JSON error body like every other endpoint's."""
    return Response(json.dumps({"error": message, "status": status}, ensure_ascii=False),
                    status=status, mimetype="application/json")

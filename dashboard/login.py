"""Login and logout: plain server-rendered forms (they work before any script has loaded).

The login form is protected by a double-submit CSRF token (cookie + hidden field) and the account
by lockout after repeated failures (``accounts.users``); every attempt is audited.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, redirect, render_template_string, request

from accounts import audit, sessions
from accounts.roles import PUBLIC, ROLE_LABELS
from accounts.users import authenticate
from dashboard.auth import CSRF_COOKIE, SESSION_COOKIE, csrf_token
from dashboard.i18n import LANG_COOKIE, request_lang, t
from layers.web import database, principal, requires

bp = Blueprint("login", __name__)

PAGE = """<!DOCTYPE html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · {{ app }}</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body class="zt-login-body">
<main class="zt-login">
  <h1>{{ app }}</h1>
  <p class="zt-login-sub">{{ subtitle }}</p>
  {% if message %}<p class="zt-login-error" role="alert">{{ message }}</p>{% endif %}
  <form method="post" action="/login">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <input type="hidden" name="next" value="{{ next }}">
    <label>{{ user_label }}<input name="username" autocomplete="username" required
      value="{{ username }}" autocapitalize="none"></label>
    <label>{{ password_label }}<input name="password" type="password"
      autocomplete="current-password" required></label>
    <button type="submit">{{ submit }}</button>
  </form>
</main>
</body>
</html>"""


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _render(message: str = "", username: str = "", status: int = 200) -> Response:
    lang = request_lang(request.args.get("lang"), request.cookies.get(LANG_COOKIE))
    csrf = csrf_token()
    html = render_template_string(
        PAGE, lang=lang, app=t("app.title", lang), subtitle=t("app.subtitle", lang),
        title=t("login.title", lang), user_label=t("login.username", lang),
        password_label=t("login.password", lang), submit=t("login.submit", lang),
        message=message, username=username, csrf=csrf,
        next=_safe_next(request.values.get("next")))
    return make_response(html, status)


@bp.get("/login")
@requires(PUBLIC)
def login_form() -> Response:
    """The login page."""
    return _render()


@bp.post("/login")
@requires(PUBLIC)
def login_submit() -> Response:
    """Check credentials, start a session, and go where the user was heading."""
    username = (request.form.get("username") or "").strip().lower()[:40]
    password = request.form.get("password") or ""
    ip, agent = request.remote_addr, request.headers.get("User-Agent")
    settings = current_app.config["ZHENGTU_SETTINGS"]
    with database().connection() as conn:
        result = authenticate(conn, username, password)
        if result.principal is None:
            audit.record(conn, username or "?", "login_failed", object_type="users",
                         object_id=result.user_id, detail={"reason": result.reason}, ip=ip,
                         user_agent=agent)
        else:
            token, csrf = sessions.create_session(conn, result.principal,
                                                  hours=settings.session_max_hours, ip=ip,
                                                  user_agent=agent)
            audit.record(conn, result.principal, "login", object_type="users",
                         object_id=result.user_id, ip=ip, user_agent=agent)
    if result.principal is None:
        return _render(result.message, username, status=401)
    response = redirect(_safe_next(request.form.get("next")), code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", path="/",
                        secure=settings.secure_cookies,
                        max_age=settings.session_max_hours * 3600)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="Strict", path="/",
                        secure=settings.secure_cookies)
    return response


@bp.post("/logout")
@requires(PUBLIC)
def logout() -> Response:
    """End the session server-side and clear the cookie."""
    who = principal()
    token = request.cookies.get(SESSION_COOKIE)
    with database().connection() as conn:
        if token:
            sessions.end_session(conn, token)
        if who.is_authenticated:
            audit.record(conn, who, "logout", object_type="users", object_id=who.user_id,
                         ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))
    response = redirect("/login", code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def role_label(role: str, lang: str) -> str:
    """The role's name in the interface language."""
    zh, en = ROLE_LABELS.get(role, (role, role))
    return en if lang == "en" else zh

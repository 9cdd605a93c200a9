"""Flask glue shared by the HTTP endpoints: the caller, their database connection, access, errors.

Kept tiny on purpose: routes parse input, call a plain function with a connection, and return.
Every route declares the roles that may use it with ``@requires``; a route without a declaration is
refused by the app (deny by default, see ``dashboard/auth.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import psycopg2.extensions
from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from accounts.roles import ANONYMOUS, Principal
from geo.db import Database
from geo.errors import BadRequest, Forbidden, Unauthorized, ZhengtuError

EXTENSION_KEY = "zhengtu_db"
ROLES_ATTR = "zt_roles"


def database() -> Database:
    """The app's connection pool, put there by the app factory."""
    return current_app.extensions[EXTENSION_KEY]


def principal() -> Principal:
    """Who is calling (anonymous until ``dashboard.auth`` has identified them)."""
    return g.get("principal", ANONYMOUS)


@contextmanager
def request_connection() -> Iterator[psycopg2.extensions.connection]:
    """A connection bound to the caller's jurisdiction (row-level security) for this request."""
    with database().connection(principal().db_context(request.remote_addr)) as conn:
        yield conn


def json_object() -> dict:
    """The request's JSON body, which must be an object (400 with the same message everywhere)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象 / body must be a JSON object")
    return body


def require_role(roles: tuple[str, ...]) -> Principal:
    """The caller if their role is among ``roles``; else 401 (not logged in) or 403."""
    who = principal()
    if who.may(roles):
        return who
    if not who.is_authenticated:
        raise Unauthorized("需要登录 / login required")
    raise Forbidden("无权访问 / your role may not use this")


def requires(*roles: str) -> Callable:
    """Declare (and enforce) which roles may use a route."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            require_role(roles)
            return view(*args, **kwargs)

        setattr(guarded, ROLES_ATTR, tuple(roles))
        return guarded
    return decorate


def error_response(exc: ZhengtuError) -> ResponseReturnValue:
    """Map any ZhengtuError to JSON ``{"error": message}`` with its status, once for all routes."""
    return jsonify({"error": exc.message, "status": exc.status}), exc.status

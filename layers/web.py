"""Flask glue shared by the HTTP endpoints: the request's database and error responses.

Kept tiny on purpose: routes parse input, call a plain function with a connection, and return.
"""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from geo.db import Database
from geo.errors import ZhengtuError

EXTENSION_KEY = "zhengtu_db"


def database() -> Database:
    """The app's connection pool, put there by the app factory."""
    return current_app.extensions[EXTENSION_KEY]


def error_response(exc: ZhengtuError) -> ResponseReturnValue:
    """Map any ZhengtuError to JSON ``{"error": message}`` with its status, once for all routes."""
    return jsonify({"error": exc.message, "status": exc.status}), exc.status

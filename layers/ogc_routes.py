"""OGC API – Features under ``/ogc`` (filled in by the OGC API work)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

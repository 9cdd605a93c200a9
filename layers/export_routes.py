"""Map exports (self-contained folium HTML), filled in by the export work."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("export", __name__)

"""The field pages' static files: fingerprinted URLs, gzip made once, the service worker's precache.

Every script and stylesheet URL carries a content hash (``?v=…``), so browsers and the service worker
may keep them forever: a changed file is a new URL, and a new set of URLs is a new service-worker
version (its bytes change, so the browser installs it and drops the old shell cache).

Files are served as bytes gzipped here once, not streamed from disk: the app's flask-compress never
gzips streamed responses (only zstd/br/deflate, which plain-HTTP and older phone browsers do not
accept), and a phone on weak 4G must not get MapLibre's 1 MB uncompressed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
ASSET_DIR = HERE / "assets"
# MapLibre is vendored once for the whole app (dashboard/assets/vendor); served here too, gzipped.
VENDOR = {"maplibre-gl.js": HERE.parent / "assets" / "vendor" / "maplibre-gl" / "maplibre-gl.js",
          "maplibre-gl.css": HERE.parent / "assets" / "vendor" / "maplibre-gl" / "maplibre-gl.css"}
SHELL_SCRIPTS = ("common.js", "queue.js", "map.js", "offline.js", "shell.js")
DOSSIER_SCRIPTS = ("common.js", "map.js", "dossier.js")
STYLES = ("field.css",)
ICON = "icon.svg"
PRIVATE = frozenset({"sw.js"})  # served only from /field/sw.js, where its scope is right
COMPRESSIBLE = ("text/", "image/svg+xml", "application/json")
SW_PLACEHOLDER = "/*ZT-CONFIG*/{}"


def find(name: str) -> Path | None:
    """The file behind ``/field/static/<name>``, or None (no path escapes the folder)."""
    if name.startswith("vendor/"):
        return VENDOR.get(name.removeprefix("vendor/"))
    path = (ASSET_DIR / name).resolve()
    if name in PRIVATE or not path.is_relative_to(ASSET_DIR.resolve()) or not path.is_file():
        return None
    return path


@cache
def _load(path: Path, mtime_ns: int) -> tuple[bytes, bytes, str]:
    """(raw, gzipped, digest) of one file version; the mtime in the key drops edited files."""
    raw = path.read_bytes()
    return raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:12]


def load(path: Path) -> tuple[bytes, bytes, str]:
    """The file's bytes, its gzip and its content hash."""
    return _load(path, path.stat().st_mtime_ns)


def media_type(path: Path) -> str:
    """The Content-Type by extension (these are our own files, not uploads)."""
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def compressible(path: Path) -> bool:
    """Whether gzip helps (text does; the SVG icon does; nothing else is served here)."""
    return media_type(path).startswith(COMPRESSIBLE)


def asset_url(name: str) -> str:
    """The versioned URL of a field asset (``vendor/maplibre-gl.js`` for the vendored MapLibre)."""
    path = find(name)
    if path is None:
        raise FileNotFoundError(name)
    return f"/field/static/{name}?v={load(path)[2]}"


def maplibre_url(kind: str) -> str:
    """The vendored MapLibre script (``js``) or stylesheet (``css``)."""
    return asset_url(f"vendor/maplibre-gl.{kind}")


def precache_urls() -> list[str]:
    """Everything the shell needs to open with no network (the page itself is added by the worker)."""
    names = dict.fromkeys((*STYLES, *SHELL_SCRIPTS, *DOSSIER_SCRIPTS, ICON))
    return [*(asset_url(n) for n in names), maplibre_url("js"), maplibre_url("css"),
            "/field/manifest.webmanifest"]


def shell_version() -> str:
    """One hash over the precached files: the service worker's cache generation."""
    return hashlib.sha256("\n".join(precache_urls()).encode()).hexdigest()[:12]


def service_worker_source() -> str:
    """``sw.js`` with its configuration (version, precache list) written in.

    The configuration is JSON built here from file names and hashes, never from request data.
    """
    source = (ASSET_DIR / "sw.js").read_text(encoding="utf-8")
    config = {"version": shell_version(), "precache": precache_urls(), "shell": "/field"}
    return source.replace(SW_PLACEHOLDER, json.dumps(config), 1)


def manifest() -> dict:
    """The web-app manifest: "add to home screen" opens /field full screen, in its own scope."""
    return {"name": "粤监管 · 政图", "short_name": "粤监管", "lang": "zh-CN", "start_url": "/field",
            "scope": "/field", "display": "standalone", "background_color": "#f6f7f9",
            "theme_color": "#1d3557",
            "icons": [{"src": asset_url(ICON), "sizes": "any", "type": "image/svg+xml"}]}

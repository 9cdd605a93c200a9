"""HTTP endpoints of the OGC API – Features under ``/ogc``: thin adapters over ``layers/ogc.py``.

Each view is declared for every role and filters per layer inside, like the tile routes: anonymous
callers see only public layers, staff see theirs, and rows only of their region because every query
runs through ``request_connection()`` (row-level security). JSON or HTML by ``f``, else by Accept.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from accounts.roles import ALL_ROLES, PUBLIC
from geo.errors import BadRequest
from layers import ogc
from layers.registry import Layer
from layers.web import principal, request_connection, requires

bp = Blueprint("ogc", __name__, url_prefix="/ogc", template_folder="templates")
FORMATS = ("json", "html")
PRIVATE = "private, max-age=60"  # what a caller sees depends on their role and region


def wants_html() -> bool:
    """``f=html|json`` decides; without it, HTML only when the client prefers text/html (browsers)."""
    fmt = request.args.get("f")
    if fmt is not None:
        if fmt not in FORMATS:
            raise BadRequest(f"f 应为 json 或 html：{fmt!r} / f must be json or html")
        return fmt == "html"
    return request.accept_mimetypes.best_match([ogc.JSON, ogc.GEOJSON, ogc.HTML]) == ogc.HTML


def _base() -> str:
    return url_for("ogc.landing", _external=True).rstrip("/")


def with_format(href: str, fmt: str) -> str:
    """The same URL with ``f`` set to ``fmt`` (other parameters kept as they are)."""
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"] + [("f", fmt)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _respond(doc: dict, media_type: str, html: bool, template: str, cache: str = PRIVATE,
             **context: object) -> Response:
    """JSON with the resource's media type, or the page rendered by an autoescaping template."""
    if html:
        page = render_template(template, doc=doc, base=_base(), json_href=with_format(request.url, "json"),
                               with_format=with_format, **context)
        response = Response(page, mimetype=ogc.HTML)
    else:
        response = Response(json.dumps(doc, ensure_ascii=False), content_type=media_type)
    response.headers["Cache-Control"] = cache
    response.vary.add("Accept")
    return response


def _cache_control(layer: Layer) -> str:
    return "public, max-age=60" if PUBLIC in layer.roles else PRIVATE


@bp.get("/", strict_slashes=False)
@requires(*ALL_ROLES)
def landing() -> Response:
    """The landing page (``/ogc`` and ``/ogc/``)."""
    html = wants_html()
    return _respond(ogc.landing(_base()), ogc.JSON, html, "ogc_landing.html")


@bp.get("/conformance")
@requires(*ALL_ROLES)
def conformance() -> Response:
    """The conformance classes this API implements."""
    html = wants_html()
    return _respond(ogc.conformance(_base()), ogc.JSON, html, "ogc_conformance.html")


@bp.get("/api")
@requires(*ALL_ROLES)
def api() -> Response:
    """The OpenAPI 3.0 definition, listing only the collections this caller may see."""
    html = wants_html()
    doc = ogc.openapi(ogc.collections_for(principal()), _base())
    return _respond(doc, ogc.OPENAPI, html, "ogc_api.html")


@bp.get("/collections")
@requires(*ALL_ROLES)
def collections() -> Response:
    """The collections this caller may see."""
    html = wants_html()
    with request_connection() as conn:
        doc = ogc.collections(conn, ogc.collections_for(principal()), _base())
    return _respond(doc, ogc.JSON, html, "ogc_collections.html")


@bp.get("/collections/<collection_id>")
@requires(*ALL_ROLES)  # each layer's roles are checked inside: unknown or not allowed → 404
def collection(collection_id: str) -> Response:
    """One collection's description."""
    layer = ogc.find_collection(principal(), collection_id)
    html = wants_html()
    with request_connection() as conn:
        doc = ogc.collection(conn, layer, _base())
    return _respond(doc, ogc.JSON, html, "ogc_collection.html", layer=layer)


@bp.get("/collections/<collection_id>/schema")
@requires(*ALL_ROLES)  # each layer's roles are checked inside: unknown or not allowed → 404
def schema(collection_id: str) -> Response:
    """The collection's feature schema (field names and types), for GIS clients."""
    layer = ogc.find_collection(principal(), collection_id)
    response = jsonify(ogc.schema(layer, _base()))
    response.mimetype = ogc.SCHEMA
    return response


@bp.get("/collections/<collection_id>/items")
@requires(*ALL_ROLES)  # each layer's roles are checked inside: unknown or not allowed → 404
def items(collection_id: str) -> Response:
    """A page of features: bbox, datetime, the layer's filters, limit/offset; rows of the caller's region."""
    layer = ogc.find_collection(principal(), collection_id)
    html = wants_html()
    query = ogc.parse_items_query(layer, request.args)
    with request_connection() as conn:
        doc = ogc.items(conn, layer, query, _base())
    return _respond(doc, ogc.GEOJSON, html, "ogc_items.html", _cache_control(layer), layer=layer,
                    count_cap=ogc.COUNT_CAP)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@requires(*ALL_ROLES)  # each layer's roles are checked inside: unknown or not allowed → 404
def item(collection_id: str, feature_id: str) -> Response:
    """One feature; another region's feature is not found (row-level security)."""
    layer = ogc.find_collection(principal(), collection_id)
    html = wants_html()
    with request_connection() as conn:
        doc = ogc.item(conn, layer, feature_id, _base())
    return _respond(doc, ogc.GEOJSON, html, "ogc_item.html", _cache_control(layer), layer=layer)

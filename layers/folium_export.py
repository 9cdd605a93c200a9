"""Export the explorer's view as one self-contained HTML map (folium, with Leaflet inlined).

For case files and briefings the file must open on a machine with no internet: Leaflet's JS and CSS
(vendored in ``layers/vendor/leaflet``, images as ``data:`` URIs) are inlined, folium's CDN links
(Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped, and there is no tile base
layer unless the caller passes one: the boundaries are the base. Features come from PostgreSQL as
GeoJSON through the caller's row-level security; a view with more points than a browser can draw
is exported as grid counts instead, and the legend says so.

Plain functions, no Flask: ``parse_export`` validates the explorer's query string, ``export_map``
queries and renders. The route in ``layers/export_routes.py`` checks roles in between.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import folium
import psycopg2.extensions
from branca.element import Element, MacroElement
from folium.template import Template

from layers.export_data import (
    fetch_layer,
)
from layers.export_spec import (
    BEIJING,
    BIND_POPUP,
    FALLBACK_COLOUR,
    GRID_COLUMNS,
    GRID_RADII,
    OUTLINE_WIDTHS,
    POINT_CAP,
    POLYGON_CAP,
    REGION_NAME,
    TEXT,
    VENDOR,
    VIEW_WIDTH,
    Basemap,
    Export,
    ExportSpec,
    LayerData,
    LayerSpec,
)
from layers.registry import Layer
from layers.style import DENSITY_RAMP

# ---------- popups (escaped text) ----------

def _legend_label(layer: Layer, value: object, lang: str) -> str:
    for entry in layer.legend:
        if entry.value == value:
            return entry.label_en if lang == "en" else entry.label_zh
    return "" if value is None else str(value)


def _shown(layer: Layer, name: str, value: object, lang: str) -> str:
    """A field's value as text: style values by their legend label, empty as a dash."""
    if value is None or value == "":
        return "—"
    return _legend_label(layer, value, lang) if name == layer.style_field else str(value)


def popup_html(layer: Layer, props: Mapping[str, Any], lang: str = "zh") -> str:
    """A feature's popup: every value escaped, as text lines in a <div>.

    Leaflet sets popup content as HTML and names or addresses are typed by users, so nothing from
    the database reaches the page unescaped.
    """
    fields = layer.popup_fields or ()
    head = html.escape(_shown(layer, fields[0], props.get(fields[0]), lang)) if fields else ""
    lines = [f"<b>{head or html.escape(layer.title(lang))}</b>"]
    lines += [f"{html.escape(layer.label(n, lang))}：{html.escape(_shown(layer, n, props.get(n), lang))}"
              for n in fields[1:]]
    return '<div class="zt-popup">' + "<br>".join(lines) + "</div>"


def cell_popup_html(layer: Layer, props: Mapping[str, Any], lang: str = "zh") -> str:
    """A grid cell's popup: its count and the counts by style value (labels escaped too)."""
    title = layer.title(lang) if lang == "zh" else layer.title(lang).lower()
    lines = [f"<b>{html.escape(TEXT[lang]['cell'].format(props['count'], title))}</b>"]
    lines += [f"{html.escape(_legend_label(layer, value, lang))}：{n:,}"
              for value, n in list((props.get("by") or {}).items())[:8]]
    return '<div class="zt-popup">' + "<br>".join(lines) + "</div>"


def _page_properties(data: LayerData, props: Mapping[str, Any], lang: str) -> dict:
    """What a feature carries into the page: its style value (or count) and its escaped popup."""
    layer = data.spec.layer
    if data.mode == "grid":
        return {"count": props["count"], "popup": cell_popup_html(layer, props, lang)}
    return {"v": props.get(layer.style_field), "popup": popup_html(layer, props, lang)}


def with_popups(data: LayerData, lang: str) -> dict:
    """The collection with each feature's raw fields replaced by ``_page_properties`` (smaller page)."""
    return {"type": "FeatureCollection",
            "features": [{**f, "properties": _page_properties(data, f["properties"], lang)}
                         for f in data.collection["features"]]}


# ---------- styles ----------

def _nice(x: float) -> int:
    """The 1-2-5 number (1, 2, 5, 10, 20 …) nearest to ``x`` on a log scale."""
    k = 10 ** math.floor(math.log10(x))
    return int(min((m * k for m in (1, 2, 5, 10)), key=lambda c: abs(math.log(c / x))))


def count_classes(largest: int) -> tuple[int, ...]:
    """Up to five lower bounds from 1 to the largest cell count, even on a log scale, rounded to 1-2-5.

    Fixed steps (the explorer's 5/20/60/200) paint a province view all one colour; classes from
    the view's own range keep a province and a street both readable.
    """
    bounds = [1]
    for i in range(1, len(GRID_RADII)):
        nice = _nice(max(largest, 1) ** (i / len(GRID_RADII)))
        if nice > bounds[-1]:
            bounds.append(nice)
    return tuple(bounds)


def grid_classes(data: LayerData) -> tuple[int, ...]:
    """The count classes of a grid layer's cells."""
    return count_classes(max((f["properties"]["count"] for f in data.collection["features"]), default=1))


def _class_of(count: int, bounds: Sequence[int]) -> int:
    return max(i for i, low in enumerate(bounds) if count >= low)


def style_for(data: LayerData) -> Any:
    """folium's style_function for the layer: colours from the registry's legend, scaled by opacity."""
    layer, k = data.spec.layer, data.spec.opacity
    colours = {e.value: e.color for e in layer.legend}
    if data.mode == "grid":
        bounds = grid_classes(data)
        return lambda f: {"radius": GRID_RADII[_class_of(f["properties"]["count"], bounds)], "color": "#7f1d1d",
                          "weight": 1, "opacity": k, "fillOpacity": 0.8 * k,
                          "fillColor": DENSITY_RAMP[1 + _class_of(f["properties"]["count"], bounds)]}
    if layer.geometry == "polygon":
        return lambda f: {"color": colours.get(f["properties"]["v"], FALLBACK_COLOUR), "fill": False,
                          "weight": OUTLINE_WIDTHS.get(f["properties"]["v"], 1.5), "opacity": k}
    return lambda f: {"radius": 5, "color": "#ffffff", "weight": 1, "opacity": k, "fillOpacity": 0.9 * k,
                      "fillColor": colours.get(f["properties"]["v"], FALLBACK_COLOUR)}


def geojson_layer(data: LayerData, lang: str) -> folium.GeoJson:
    """One folium GeoJson for the layer (one Leaflet layer, not one Python object per feature)."""
    marker = folium.CircleMarker(radius=5, fill=True) if data.spec.layer.geometry == "point" else None
    return folium.GeoJson(with_popups(data, lang), name=data.spec.layer.title(lang), style_function=style_for(data),
                          marker=marker, on_each_feature=BIND_POPUP)


# ---------- the offline page ----------

@cache
def leaflet_js() -> str:
    """Leaflet's vendored build, safe to sit inside a <script> element."""
    text = (VENDOR / "leaflet.js").read_text(encoding="utf-8")
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined as data: URIs (nothing to fetch, even offline)."""
    def inline(match: re.Match) -> str:
        data = base64.b64encode((VENDOR / "images" / match.group(1)).read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    text = re.sub(r"url\(images/([\w-]+\.png)\)", inline, (VENDOR / "leaflet.css").read_text(encoding="utf-8"))
    return re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)


class InlineAsset(Element):
    """A <script> or <style> with its text in the page (branca's links would point at a URL)."""

    _template = Template("<{{ this.tag }}>{{ this.text }}</{{ this.tag }}>")

    def __init__(self, tag: str, text: str) -> None:
        super().__init__()
        self._name = "InlineAsset"
        self.tag, self.text = tag, text


class OfflineMap(folium.Map):
    """A folium Map that loads nothing from the network: no CDN links, Leaflet inlined, no tiles."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(tiles=None, **kwargs)
        header = self.get_root().header
        header.add_child(InlineAsset("script", leaflet_js()), name="leaflet_js")
        header.add_child(InlineAsset("style", leaflet_css()), name="leaflet_css")
        self.add_child(AttributionPrefix("Leaflet"))


class AttributionPrefix(MacroElement):
    """Credit Leaflet as plain text: the default prefix is a link out, useless in an offline file."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix({{ this.prefix|tojson }});
        {% endmacro %}
    """)

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._name = "AttributionPrefix"
        self.prefix = prefix


# ---------- title and legend ----------

PANEL_CSS = """
.leaflet-container { background: #f4f6f8; }
.zt-export-box { position: fixed; z-index: 1000; background: rgba(255, 255, 255, 0.95); color: #1d3557;
  border-radius: 6px; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); padding: 8px 12px;
  font: 13px/1.5 "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; }
.zt-export-title { top: 10px; left: 50%; transform: translateX(-50%); max-width: 56%; text-align: center; }
.zt-export-heading { font-size: 16px; font-weight: 600; }
.zt-export-legend { bottom: 28px; right: 10px; max-width: 330px; max-height: 60vh; overflow: auto; }
.zt-export-legend h4 { margin: 6px 0 0; font-size: 13px; }
.zt-export-legend ul { list-style: none; margin: 2px 0 0; padding: 0; }
.zt-export-note { color: #555; font-size: 12px; }
.zt-swatch { display: inline-block; vertical-align: middle; margin-right: 6px; box-sizing: border-box; }
.zt-swatch-point { width: 11px; height: 11px; border-radius: 50%; border: 1px solid #fff;
  box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.25); }
.zt-swatch-line { width: 20px; height: 0; border-top-style: solid; }
.zt-swatch-cell { border-radius: 50%; border: 1px solid #7f1d1d; }
.zt-popup { font-size: 13px; line-height: 1.6; }
@media print { .zt-export-box { box-shadow: none; border: 1px solid #999; } }
"""


class Title(MacroElement):
    """The export's heading: when it was made (Beijing time), where, for whom and with which filters."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="zt-export-box zt-export-title" id="zt-export-title">
          <div class="zt-export-heading">{{ this.heading|e }}</div>
          {% for line in this.lines %}<div>{{ line|e }}</div>{% endfor %}
        </div>
        {% endmacro %}
    """)

    def __init__(self, heading: str, lines: list[str]) -> None:
        super().__init__()
        self._name = "Title"
        self.heading, self.lines = heading, lines


class Legend(MacroElement):
    """Layer titles, swatches in the registry's colours, what was aggregated; plus a JSON summary."""

    _template = Template("""
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="zt-export-box zt-export-legend" id="zt-export-legend">
          <div class="zt-export-heading">{{ this.heading|e }}</div>
          {% for layer in this.layers %}
          <h4>{{ layer.title|e }}</h4>
          <div class="zt-export-note">{{ layer.note|e }}</div>
          <ul>{% for s in layer.swatches %}
            <li><span class="zt-swatch zt-swatch-{{ s.kind|e }}" style="{{ s.style|e }}"></span>{{ s.label|e }}</li>
          {% endfor %}</ul>
          {% endfor %}
        </div>
        <script type="application/json" id="zt-export-summary">{{ this.summary|tojson }}</script>
        {% endmacro %}
    """)

    def __init__(self, heading: str, layers: list[dict], summary: dict) -> None:
        super().__init__()
        self._name = "Legend"
        self.heading, self.layers, self.summary, self.css = heading, layers, summary, PANEL_CSS


def _grid_swatches(bounds: tuple[int, ...]) -> list[dict]:
    ends = [*bounds[1:], None]
    return [{"kind": "cell", "label": (f"{low:,}–{high - 1:,}" if high - 1 > low else f"{low:,}") if high
             else f"≥ {low:,}",
             "style": f"background:{DENSITY_RAMP[1 + i]};width:{2 * GRID_RADII[i]}px;height:{2 * GRID_RADII[i]}px"}
            for i, (low, high) in enumerate(zip(bounds, ends, strict=True))]


def swatches(data: LayerData, lang: str) -> list[dict]:
    """What the legend shows for a layer: count classes for a grid, else the legend values drawn."""
    layer = data.spec.layer
    if data.mode == "grid":
        return _grid_swatches(grid_classes(data))
    counts = Counter(f["properties"].get(layer.style_field) for f in data.collection["features"])
    out = []
    for entry in (e for e in layer.legend if counts[e.value]):
        style = (f"border-top-color:{entry.color};border-top-width:{OUTLINE_WIDTHS.get(entry.value, 1.5)}px"
                 if layer.geometry == "polygon" else f"background:{entry.color}")
        out.append({"kind": "line" if layer.geometry == "polygon" else "point", "style": style,
                    "label": f"{_legend_label(layer, entry.value, lang)}（{counts[entry.value]:,}）"})
    return out


def layer_note(data: LayerData, lang: str) -> str:
    """How much of the layer is in the view, and whether it was aggregated or cut at the cap."""
    text = TEXT[lang]
    if data.mode == "grid":
        return text["grid"].format(data.total, POINT_CAP, VIEW_WIDTH // GRID_COLUMNS)
    if data.mode == "truncated":
        return text["truncated"].format(POLYGON_CAP, POLYGON_CAP)
    return text["features"].format(data.total) if data.total else text["empty"]


def _filter_value(layer: Layer, value: object, lang: str) -> str:
    if isinstance(value, list):
        return "、".join(_legend_label(layer, v, lang) for v in value)
    return value.isoformat() if isinstance(value, date) else str(value)


def describe_filters(spec: LayerSpec, lang: str) -> str:
    """The layer's filters as text, e.g. "监管对象：类别 = 食品经营" ('' when unfiltered)."""
    layer = spec.layer
    parts = [f"{(layer.filters[name].label_zh if lang == 'zh' else '') or name} = "
             f"{_filter_value(layer, value, lang)}" for name, value in spec.filters.items()]
    return f"{layer.title(lang)}：{'，'.join(parts)}" if parts else ""


def title_lines(spec: ExportSpec, exported_at: datetime, region: str, basemap: Basemap | None) -> list[str]:
    """The title's lines: export time (Beijing), extent, jurisdiction, filters, base map."""
    text, v = TEXT[spec.lang], spec.view
    filters = "；".join(d for d in (describe_filters(s, spec.lang) for s in spec.layers) if d)
    lines = [text["time"].format(f"{exported_at:%Y-%m-%d %H:%M}"),
             text["bbox"].format(f"{v.west:.5f},{v.south:.5f} – {v.east:.5f},{v.north:.5f}"),
             text["filters"].format(filters or text["none"])]
    if region:
        lines.insert(2, text["region"].format(region))
    if basemap:
        lines.append(text["basemap"].format(basemap.attribution))
    return lines


def summary(spec: ExportSpec, layers: Sequence[LayerData], exported_at: datetime, region: str) -> dict:
    """Machine-readable provenance embedded in the page (and read by the tests)."""
    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, date) else value

    v = spec.view
    return {"exported_at": exported_at.isoformat(timespec="minutes"), "region": region,
            "bbox": [round(x, 6) for x in (v.west, v.south, v.east, v.north)], "zoom": round(v.zoom, 2),
            "layers": [{"id": d.spec.layer.id, "mode": d.mode, "total": d.total,
                        "drawn": len(d.collection["features"]),
                        "filters": {k: plain(x) for k, x in d.spec.filters.items()}} for d in layers]}


# ---------- putting it together ----------

def build_map(spec: ExportSpec, layers: Sequence[LayerData], exported_at: datetime, region: str = "",
              basemap: Basemap | None = None) -> OfflineMap:
    """The folium map: one GeoJson per layer, layer switcher, scale, title, legend; fitted to the view."""
    v, lang = spec.view, spec.lang
    m = OfflineMap(location=[(v.south + v.north) / 2, (v.west + v.east) / 2], zoom_start=round(v.zoom) + 1,
                   control_scale=True, zoom_snap=0.25)
    if basemap:
        folium.TileLayer(tiles=basemap.url, attr=basemap.attribution, name=basemap.attribution).add_to(m)
    for data in layers:
        if data.collection["features"]:
            geojson_layer(data, lang).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[v.south, v.west], [v.north, v.east]])
    heading = TEXT[lang]["heading"]
    Title(heading, title_lines(spec, exported_at, region, basemap)).add_to(m)
    Legend(TEXT[lang]["legend"], [{"title": d.spec.layer.title(lang), "note": layer_note(d, lang),
                                   "swatches": swatches(d, lang)} for d in layers],
           summary(spec, layers, exported_at, region)).add_to(m)
    m.get_root().title = html.escape(f"{heading} {exported_at:%Y-%m-%d %H:%M}")
    return m


def region_label(conn: psycopg2.extensions.connection, region: str) -> str:
    """The caller's region as a reader knows it, e.g. "天河区（440106）" ('' for the public)."""
    if not region:
        return ""
    with conn.cursor() as cur:
        cur.execute(REGION_NAME, (region,))
        row = cur.fetchone()
    return f"{row[0]}（{region}）" if row else region


def export_map(conn: psycopg2.extensions.connection, spec: ExportSpec, *, region: str = "",
               basemap: Basemap | None = None, now: datetime | None = None) -> Export:
    """Query every requested layer for the view (through ``conn``'s row-level security) and render
    the self-contained page. ``region`` is only shown in the title; ``conn`` decides what is visible."""
    exported_at = (now or datetime.now(BEIJING)).astimezone(BEIJING)
    layers = tuple(fetch_layer(conn, s, spec.view) for s in spec.layers)
    page = build_map(spec, layers, exported_at, region_label(conn, region), basemap).get_root().render()
    return Export(page, layers, exported_at)

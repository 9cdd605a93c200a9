"""MapLibre style fragments built from the registry, so the map draws exactly what a layer declares.

Every style layer carries ``metadata["zt:layer"]`` naming its registry layer, so the page can toggle,
fade and filter a registry layer as one.
"""

from __future__ import annotations

from layers.registry import LAYERS, Layer

DENSITY_RAMP = ["#fff3b0", "#f9c74f", "#f8961e", "#f3722c", "#d62828", "#7f1d1d"]
COUNT = ["get", "count"]
IS_CELL = ["has", "count"]


def _match(layer: Layer, fallback: str = "#666666") -> list:
    """A MapLibre ``match`` expression colouring by the layer's style field."""
    expr: list = ["match", ["get", layer.style_field]]
    for entry in layer.legend:
        expr += [entry.value, entry.color]
    return expr + [fallback]


def _base(layer: Layer, suffix: str, kind: str, **extra: object) -> dict:
    return {"id": f"{layer.id}-{suffix}", "type": kind, "source": layer.id, "source-layer": layer.id,
            "metadata": {"zt:layer": layer.id}, **extra}


def _polygon_layers(layer: Layer) -> list[dict]:
    widths = {"province": 2.6, "city": 1.6, "district": 0.7}
    out = [_base(layer, "fill", "fill", filter=["==", ["get", "level"], "district"],
                 paint={"fill-color": "#dbe7f0", "fill-opacity": 0.35})]
    for entry in reversed(layer.legend):
        out.append(_base(layer, entry.value, "line", filter=["==", ["get", "level"], entry.value],
                         paint={"line-color": entry.color, "line-width": widths.get(entry.value, 1)}))
    return out


def _heatmap(layer: Layer, max_zoom: float) -> dict:
    """Density at low zoom; the weight is log-scaled so a village cell of 5 still shows."""
    ramp = ["interpolate", ["linear"], ["heatmap-density"], 0, "rgba(255,243,176,0)"]
    for stop, colour in zip((0.15, 0.35, 0.55, 0.75, 0.9, 1), DENSITY_RAMP, strict=True):
        ramp += [stop, colour]
    weight = ["coalesce", COUNT, 1]
    return _base(layer, "density", "heatmap", maxzoom=max_zoom + 1, paint={
        "heatmap-weight": ["interpolate", ["linear"], ["ln", ["+", 1, weight]], 0, 0, 7, 1],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 4, 1.4, 9, 1.8],
        "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 5, 6, 9, 18],
        "heatmap-color": ramp,
        "heatmap-opacity": ["interpolate", ["linear"], ["zoom"], max_zoom, 0.85, max_zoom + 1, 0],
    })


def _cells(layer: Layer, from_zoom: float, by_count: bool) -> dict:
    colour = (["step", COUNT, DENSITY_RAMP[1], 5, DENSITY_RAMP[2], 20, DENSITY_RAMP[3], 60,
               DENSITY_RAMP[4], 200, DENSITY_RAMP[5]] if by_count else _match(layer))
    return _base(layer, "cells", "circle", filter=IS_CELL, minzoom=from_zoom, paint={
        "circle-color": colour,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", COUNT], 1, 3, 5, 7, 15, 12, 40, 18],
        "circle-opacity": ["interpolate", ["linear"], ["zoom"], from_zoom, 0, from_zoom + 1, 0.85],
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8,
    })


def _point_layers(layer: Layer) -> list[dict]:
    """Aggregated cells (and a heatmap) at low zoom, categorised points at street zoom."""
    out: list[dict] = []
    if layer.aggregate == "pyramid":
        out += [_heatmap(layer, 9), _cells(layer, 9, by_count=True)]
    elif layer.aggregate:
        if layer.heatmap:
            out.append(_heatmap(layer, layer.aggregate_max_zoom))
        out.append(_cells(layer, 0 if not layer.heatmap else layer.aggregate_max_zoom - 1,
                          by_count=False))
    out.append(_base(layer, "points", "circle", filter=["!", IS_CELL], paint={
        "circle-color": _match(layer),
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 11, 4, 17, 8],
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 1,
    }))
    return out


IMPORTED_COLOUR = "#7b2cbf"


def _geometry_is(*kinds: str) -> list:
    return ["in", ["geometry-type"], ["literal", [k for kind in kinds for k in (kind, "Multi" + kind)]]]


def _plain_layers(layer: Layer) -> list[dict]:
    """Imported layers (no legend): a light fill, an outline or line, and points, by geometry type."""
    return [
        _base(layer, "fill", "fill", filter=_geometry_is("Polygon"),
              paint={"fill-color": IMPORTED_COLOUR, "fill-opacity": 0.12}),
        _base(layer, "line", "line", filter=_geometry_is("Polygon", "LineString"),
              paint={"line-color": IMPORTED_COLOUR, "line-width": 1.4}),
        _base(layer, "points", "circle", filter=_geometry_is("Point"), paint={
            "circle-color": IMPORTED_COLOUR, "circle-radius": 5,
            "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}),
    ]


def style_layers(layer: Layer) -> list[dict]:
    """The MapLibre layers that draw one registry layer."""
    if not layer.legend:
        return _plain_layers(layer)
    return _polygon_layers(layer) if layer.geometry == "polygon" else _point_layers(layer)


def map_config(base_map_url: str | None, lang: str = "zh",
               bounds: tuple[float, float, float, float] | None = None,
               layer_ids: list[str] | None = None) -> dict:
    """Everything the browser needs to draw the one map: sources, style layers, popups, filters.

    ``layer_ids`` limits the map to the layers the caller may see (default: all).
    """
    sources: dict[str, dict] = {}
    style: list[dict] = [{"id": "background", "type": "background",
                          "paint": {"background-color": "#f4f1ea"}}]
    if base_map_url:
        sources["basemap"] = {"type": "raster", "tiles": [base_map_url], "tileSize": 256}
        style.append({"id": "basemap", "type": "raster", "source": "basemap"})
    layers: dict[str, dict] = {}
    for layer in (LAYERS[i] for i in (layer_ids or list(LAYERS))):
        sources[layer.id] = {"type": "vector", "tiles": [f"/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"],
                             "minzoom": layer.minzoom, "maxzoom": 16}
        built = style_layers(layer)
        style += built
        layers[layer.id] = {
            "styleIds": [b["id"] for b in built], "title": layer.title(lang),
            "popup": {"fields": list(layer.popup_fields),
                      "labels": {f: layer.label(f, lang) for f in layer.popup_fields},
                      "title": layer.title(lang), "link": layer.detail_url,
                      "linkText": "查看详情" if lang == "zh" else "Details"},
            "clickable": [b["id"] for b in built if b["type"] in ("circle", "fill")],
        }
    return {"sources": sources, "layers": style, "registry": layers,
            "bounds": list(bounds) if bounds else [109.6, 20.2, 117.4, 25.6]}

"""MapLibre style fragments built from the registry, so the map draws exactly what a layer declares."""

from __future__ import annotations

from layers.registry import LAYERS, Layer


def _match(layer: Layer, fallback: str = "#666666") -> list:
    """A MapLibre ``match`` expression colouring by the layer's style field."""
    expr: list = ["match", ["get", layer.style_field]]
    for entry in layer.legend:
        expr += [entry.value, entry.color]
    return expr + [fallback]


def _admin_layers(layer: Layer) -> list[dict]:
    widths = {"province": 2.6, "city": 1.6, "district": 0.7}
    out: list[dict] = [{
        "id": "admin_areas-fill", "type": "fill", "source": layer.id, "source-layer": layer.id,
        "filter": ["==", ["get", "level"], "district"],
        "paint": {"fill-color": "#dbe7f0", "fill-opacity": 0.35, "fill-outline-color": "#8fb3c9"},
    }]
    for entry in reversed(layer.legend):
        out.append({
            "id": f"admin_areas-{entry.value}", "type": "line", "source": layer.id,
            "source-layer": layer.id, "filter": ["==", ["get", "level"], entry.value],
            "paint": {"line-color": entry.color, "line-width": widths[entry.value]},
        })
    return out


DENSITY_RAMP = ["#fff3b0", "#f9c74f", "#f8961e", "#f3722c", "#d62828", "#7f1d1d"]


def _entity_layers(layer: Layer) -> list[dict]:
    """Density (heatmap) at province zoom, counted cells at city zoom, categories at street zoom."""
    count = ["get", "count"]
    cells = ["!", ["has", "uscc"]]
    return [{
        "id": "entities-density", "type": "heatmap", "source": layer.id, "source-layer": layer.id,
        "filter": cells, "maxzoom": 10,
        "paint": {
            # log scale: a village cell of 5 still shows, a city-core cell of 1,000 saturates
            "heatmap-weight": ["interpolate", ["linear"], ["ln", ["+", 1, count]], 0, 0, 7, 1],
            "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 4, 1.4, 9, 1.8],
            "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 5, 6, 9, 18],
            "heatmap-color": ["interpolate", ["linear"], ["heatmap-density"],
                              0, "rgba(255,243,176,0)", 0.15, DENSITY_RAMP[0],
                              0.35, DENSITY_RAMP[1], 0.55, DENSITY_RAMP[2],
                              0.75, DENSITY_RAMP[3], 0.9, DENSITY_RAMP[4], 1, DENSITY_RAMP[5]],
            "heatmap-opacity": ["interpolate", ["linear"], ["zoom"], 9, 0.85, 10, 0],
        },
    }, {
        "id": "entities-cells", "type": "circle", "source": layer.id, "source-layer": layer.id,
        "filter": cells, "minzoom": 9,
        "paint": {
            "circle-color": ["step", count, DENSITY_RAMP[1], 5, DENSITY_RAMP[2], 20,
                             DENSITY_RAMP[3], 60, DENSITY_RAMP[4], 200, DENSITY_RAMP[5]],
            "circle-radius": ["interpolate", ["linear"], ["sqrt", count], 1, 3, 5, 7, 15, 12],
            "circle-opacity": ["interpolate", ["linear"], ["zoom"], 9, 0, 10, 0.85],
            "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.8,
        },
    }, {
        "id": "entities-points", "type": "circle", "source": layer.id, "source-layer": layer.id,
        "filter": ["has", "uscc"],
        "paint": {
            "circle-color": _match(layer),
            "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 4, 17, 8],
            "circle-stroke-color": "#ffffff", "circle-stroke-width": 1,
        },
    }]


BUILDERS = {"admin_areas": _admin_layers, "entities": _entity_layers}


def map_config(base_map_url: str | None, lang: str = "zh",
               bounds: tuple[float, float, float, float] | None = None,
               layer_ids: list[str] | None = None) -> dict:
    """Everything the browser needs to draw the one map: sources, style layers, popups.

    ``layer_ids`` limits the map to the layers the caller may see (default: all).
    """
    sources: dict[str, dict] = {}
    style_layers: list[dict] = [{"id": "background", "type": "background",
                                 "paint": {"background-color": "#f4f1ea"}}]
    if base_map_url:
        sources["basemap"] = {"type": "raster", "tiles": [base_map_url], "tileSize": 256}
        style_layers.append({"id": "basemap", "type": "raster", "source": "basemap"})
    groups: dict[str, list[str]] = {}
    popups: dict[str, dict] = {}
    for layer in (LAYERS[i] for i in (layer_ids or list(LAYERS))):
        sources[layer.id] = {"type": "vector", "tiles": [f"/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"],
                             "minzoom": layer.minzoom, "maxzoom": 16}
        built = BUILDERS[layer.id](layer)
        style_layers += built
        groups[layer.id] = [b["id"] for b in built]
        labels = {f: (layer.field_labels.get(f, f) if lang == "zh" else f) for f in layer.popup_fields}
        popups[layer.id] = {"fields": list(layer.popup_fields), "labels": labels,
                            "title": layer.title_zh if lang == "zh" else layer.title_en}
    return {"sources": sources, "layers": style_layers, "groups": groups, "popups": popups,
            "bounds": list(bounds) if bounds else [109.6, 20.2, 117.4, 25.6]}

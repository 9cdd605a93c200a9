/* 一张图 explorer: MapLibre GL JS driven from Dash clientside callbacks.
 *
 * Popups and overlays are built from DOM text nodes (textContent), never HTML strings, so names and
 * addresses typed by users cannot inject markup. The view (centre, zoom, layers, opacity, filters)
 * is mirrored into the URL's query string so a copied link restores it.
 */
(function () {
  "use strict";
  const state = {
    map: null, config: null, layers: {}, tool: null, draft: [], measure: [], popup: null,
    choropleth: null, basemap: null, crs: "wgs84",
  };
  const EMPTY = { type: "FeatureCollection", features: [] };

  function absolute(url) {
    return decodeURI(new URL(url, window.location.origin).href);
  }

  function buildStyle(config) {
    const sources = {};
    Object.entries(config.sources).forEach(([id, src]) => {
      sources[id] = Object.assign({}, src, src.tiles ? { tiles: src.tiles.map(absolute) } : {});
    });
    sources["zt-draw"] = { type: "geojson", data: EMPTY };
    const layers = config.layers.concat([
      { id: "zt-draw-fill", type: "fill", source: "zt-draw", filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": "#1d3557", "fill-opacity": 0.12 } },
      { id: "zt-draw-line", type: "line", source: "zt-draw",
        paint: { "line-color": "#1d3557", "line-width": 2, "line-dasharray": [2, 1] } },
      { id: "zt-draw-points", type: "circle", source: "zt-draw", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#1d3557",
                 "circle-stroke-width": 2 } },
    ]);
    return { version: 8, sources: sources, layers: layers };
  }

  /* ---------- popups ---------- */
  function popupContent(popup, props) {
    const root = document.createElement("div");
    root.className = "zt-popup";
    const title = document.createElement("h4");
    title.textContent = props[popup.fields[0]] || popup.title;
    root.appendChild(title);
    const list = document.createElement("dl");
    popup.fields.slice(1).forEach((field) => {
      const dt = document.createElement("dt");
      dt.textContent = popup.labels[field] || field;
      const dd = document.createElement("dd");
      dd.textContent = props[field] === undefined || props[field] === null ? "—" : String(props[field]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    root.appendChild(list);
    if (props.id !== undefined && popup.link) {
      const a = document.createElement("a");
      a.href = popup.link.replace("{id}", encodeURIComponent(props.id));
      a.textContent = popup.linkText || "详情";
      root.appendChild(a);
    }
    return root;
  }

  function clickableIds() {
    const ids = [];
    Object.entries(state.config.registry).forEach(([layerId, info]) => {
      const on = !state.layers[layerId] || state.layers[layerId].on !== false;
      if (on) info.clickable.forEach((sid) => { if (state.map.getLayer(sid)) ids.push(sid); });
    });
    return ids;
  }

  function identify(e) {
    const hits = state.map.queryRenderedFeatures(e.point, { layers: clickableIds() });
    if (!hits.length) return;
    const f = hits[0];
    const layerId = (f.layer.metadata || {})["zt:layer"];
    if (f.properties.count !== undefined && f.properties.count > 1) {
      state.map.easeTo({ center: e.lngLat, zoom: Math.min(state.map.getZoom() + 2.5, 16) });
      return;
    }
    const info = state.config.registry[layerId];
    if (!info) return;
    if (state.popup) state.popup.remove();
    state.popup = new maplibregl.Popup({ maxWidth: "340px" })
      .setLngLat(e.lngLat).setDOMContent(popupContent(info.popup, f.properties)).addTo(state.map);
  }

  /* ---------- drawing, selection and measuring ---------- */
  function haversine(a, b) {
    const R = 6371008.8, rad = Math.PI / 180;
    const dLat = (b[1] - a[1]) * rad, dLon = (b[0] - a[0]) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * R * Math.asin(Math.sqrt(h));
  }

  function circlePolygon(centre, radius) {
    const ring = [];
    const latR = radius / 111320, lonR = radius / (111320 * Math.cos(centre[1] * Math.PI / 180));
    for (let i = 0; i < 64; i++) {
      const t = (i / 64) * 2 * Math.PI;
      ring.push([centre[0] + lonR * Math.cos(t), centre[1] + latR * Math.sin(t)]);
    }
    ring.push(ring[0]);
    return { type: "Polygon", coordinates: [ring] };
  }

  function showDraft(extra) {
    const features = state.draft.map((p) => ({ type: "Feature", geometry: { type: "Point", coordinates: p } }));
    if (state.draft.length > 1) {
      features.push({ type: "Feature", geometry: { type: "LineString", coordinates: state.draft } });
    }
    if (extra) features.push({ type: "Feature", geometry: extra });
    const src = state.map.getSource("zt-draw");
    if (src) src.setData({ type: "FeatureCollection", features: features });
  }

  function finishSelection(polygon) {
    state.draft = [];
    showDraft(polygon);
    state.tool = null;
    setToolLabel("");
    state.map.doubleClickZoom.enable();
    // over a GCJ-02 base map the drawn coordinates are GCJ-02: say so, the server converts back
    const data = Object.assign({}, polygon, { zt_crs: state.crs });
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("zt-selection", { data: data });
    }
    window.ztLastSelection = data;
  }

  function setToolLabel(text) {
    const el = document.getElementById("zt-tool-status");
    if (el) el.textContent = text;
  }

  function onToolClick(e) {
    const p = [e.lngLat.lng, e.lngLat.lat];
    if (state.tool === "polygon") {
      state.draft.push(p);
      showDraft();
      setToolLabel(`多边形：已取 ${state.draft.length} 个点，双击结束`);
    } else if (state.tool === "circle") {
      if (!state.draft.length) {
        state.draft = [p];
        showDraft();
        setToolLabel("圆形：再点击一次确定半径");
      } else {
        const radius = haversine(state.draft[0], p);
        finishSelection(circlePolygon(state.draft[0], radius));
      }
    } else if (state.tool === "measure") {
      state.draft.push(p);
      showDraft();
      let total = 0;
      for (let i = 1; i < state.draft.length; i++) total += haversine(state.draft[i - 1], state.draft[i]);
      const text = total >= 1000 ? `${(total / 1000).toFixed(2)} 公里` : `${total.toFixed(0)} 米`;
      setToolLabel(`测距：${text}`);
      window.ztMeasured = total;
    }
  }

  function onDoubleClick(e) {
    if (state.tool !== "polygon" || state.draft.length < 3) return;
    e.preventDefault();
    const ring = state.draft.slice();
    // a double click also fired a click: drop the duplicate last vertex
    if (ring.length > 3 && haversine(ring[ring.length - 1], ring[ring.length - 2]) < 1) ring.pop();
    ring.push(ring[0]);
    finishSelection({ type: "Polygon", coordinates: [ring] });
  }

  /* ---------- layer state: visibility, opacity, filters ---------- */
  function scaleOpacity(expr, k) {
    if (typeof expr === "number") return expr * k;
    if (Array.isArray(expr) && expr[0] === "interpolate") {
      return expr.map((v, i) => (i >= 4 && i % 2 === 0 && typeof v === "number" ? v * k : v));
    }
    return expr;
  }

  const OPACITY = { circle: "circle-opacity", fill: "fill-opacity", line: "line-opacity",
                    heatmap: "heatmap-opacity", raster: "raster-opacity" };

  function applyLayer(layerId) {
    const map = state.map, info = state.config.registry[layerId], want = state.layers[layerId];
    if (!map || !info || !want) return;
    info.styleIds.forEach((sid) => {
      const def = state.config.layers.find((l) => l.id === sid);
      if (!map.getLayer(sid) || !def) return;
      const gridClasses = state.choropleth && state.choropleth.layer === layerId && def.type === "fill";
      map.setLayoutProperty(sid, "visibility", want.on || gridClasses ? "visible" : "none");
      if (gridClasses) return;
      const prop = OPACITY[def.type];
      const base = (def.paint || {})[prop] !== undefined ? def.paint[prop] : 1;
      if (prop && !(layerId === "admin_areas" && state.choropleth && def.type === "fill")) {
        map.setPaintProperty(sid, prop, scaleOpacity(base, want.opacity));
      }
    });
    const source = map.getSource(layerId);
    const params = Object.assign({}, want.filters || {}, state.crs === "gcj02" ? { crs: "gcj02" } : {});
    const qs = new URLSearchParams(params).toString();
    const url = absolute(state.config.sources[layerId].tiles[0]) + (qs ? "?" + qs : "");
    if (source && source.setTiles && source._zt_url !== url) {
      source.setTiles([url]);
      source._zt_url = url;
    }
  }

  function updateUrl() {
    if (!state.map) return;
    const params = new URLSearchParams(window.location.search);
    Array.from(params.keys()).forEach((k) => { if (k !== "lang") params.delete(k); });
    const c = state.map.getCenter();
    params.set("map", `${state.map.getZoom().toFixed(2)}/${c.lng.toFixed(5)}/${c.lat.toFixed(5)}`);
    const on = Object.keys(state.layers).filter((id) => state.layers[id].on);
    params.set("layers", on.join(","));
    const op = Object.keys(state.layers).filter((id) => state.layers[id].opacity < 1)
      .map((id) => `${id}:${state.layers[id].opacity}`);
    if (op.length) params.set("opacity", op.join(","));
    Object.entries(state.layers).forEach(([id, l]) => {
      Object.entries(l.filters || {}).forEach(([field, value]) => params.set(`${id}.${field}`, value));
    });
    if (state.basemap) params.set("basemap", state.basemap);
    const next = `${window.location.pathname}?${params.toString()}`;
    window.history.replaceState(window.history.state, "", next);
    const exportLink = document.getElementById("zt-export-map");
    if (exportLink) exportLink.href = `/export/map.html?${params.toString()}`;
  }

  /* ---------- choropleth and base map ---------- */
  // Grid indicators colour the unit-grid tiles by a count they carry (a class per step).
  function applyGridChoropleth() {
    const map = state.map, data = state.choropleth;
    const grid = data && data.level === "grid" ? data : null;
    const fill = `${grid ? grid.layer : "unit_grids"}-fill`;
    if (!map || !map.getLayer(fill)) return;
    const def = state.config.layers.find((l) => l.id === fill) || { paint: {} };
    if (!grid || !(grid.steps || []).length) {
      map.setPaintProperty(fill, "fill-color", def.paint["fill-color"]);
      map.setPaintProperty(fill, "fill-opacity", def.paint["fill-opacity"]);
      applyLayer("unit_grids");
      if (!(state.layers.unit_grids || {}).on) map.setLayoutProperty(fill, "visibility", "none");
      return;
    }
    const expr = ["step", ["coalesce", ["get", grid.field], 0], "rgba(0,0,0,0)"];
    grid.steps.forEach(([start, colour]) => { expr.push(start, colour); });
    map.setPaintProperty(fill, "fill-color", expr);
    map.setPaintProperty(fill, "fill-opacity", 0.75);
    map.setLayoutProperty(fill, "visibility", "visible");
  }

  function applyChoropleth() {
    const map = state.map;
    applyGridChoropleth();
    if (!map || !map.getLayer("admin_areas-fill")) return;
    const data = state.choropleth;
    if (!data || !Object.keys(data.colors || {}).length) {
      map.setPaintProperty("admin_areas-fill", "fill-color", "#dbe7f0");
      map.setPaintProperty("admin_areas-fill", "fill-opacity", 0.35);
      return;
    }
    const expr = ["match", ["get", "adcode"]];
    Object.entries(data.colors).forEach(([code, colour]) => { expr.push(code, colour); });
    expr.push("rgba(0,0,0,0)");
    map.setPaintProperty("admin_areas-fill", "fill-color", expr);
    map.setPaintProperty("admin_areas-fill", "fill-opacity", 0.75);
  }

  function applyBasemap(basemap) {
    const map = state.map;
    if (!map) return;
    if (map.getLayer("zt-basemap")) map.removeLayer("zt-basemap");
    if (map.getSource("zt-basemap")) map.removeSource("zt-basemap");
    if (basemap) {
      map.addSource("zt-basemap", { type: "raster", tiles: [basemap.url], tileSize: 256 });
      map.addLayer({ id: "zt-basemap", type: "raster", source: "zt-basemap" }, map.getStyle().layers[1].id);
    }
    // our data is stored in WGS 84; over a GCJ-02 base map every overlay is asked for in GCJ-02
    const crs = basemap && basemap.crs === "gcj02" ? "gcj02" : "wgs84";
    if (crs !== state.crs) {
      state.crs = crs;
      Object.keys(state.layers).forEach(applyLayer);
    }
  }

  function basemapEntry() {
    // the base-map choice may arrive before the map's config: resolve it when both are there
    const list = (state.config && state.config.basemaps) || [];
    const entry = list.find((b) => b.id === state.basemapId) || null;
    state.basemap = entry ? entry.id : null;
    return entry;
  }

  function whenReady(fn) {
    if (state.map && state.map.isStyleLoaded()) fn();
    else if (state.map) state.map.once("load", fn);
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    zt: {
      initMap: function (config, mapId) {
        const el = document.getElementById(mapId);
        if (!el || !window.maplibregl || !config) return "地图组件未加载 / map library missing";
        if (state.map) state.map.remove();
        state.config = config;
        const options = { container: el, style: buildStyle(config), attributionControl: false, maxZoom: 19 };
        if (config.view) { options.center = config.view.center; options.zoom = config.view.zoom; }
        else { options.bounds = config.bounds; options.fitBoundsOptions = { padding: 16 }; }
        const map = new maplibregl.Map(options);
        map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
        map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
        map.on("click", (e) => { if (state.tool) onToolClick(e); else identify(e); });
        map.on("dblclick", onDoubleClick);
        map.on("mousemove", (e) => {
          const over = !state.tool && map.queryRenderedFeatures(e.point, { layers: clickableIds() }).length;
          map.getCanvas().style.cursor = state.tool ? "crosshair" : over ? "pointer" : "";
        });
        map.on("moveend", updateUrl);
        map.on("load", () => {
          Object.keys(state.layers).forEach(applyLayer);
          applyChoropleth();
          if (state.basemapId) applyBasemap(basemapEntry());
          el.dataset.loaded = "1";
          updateUrl();
        });
        state.map = map;
        window.ztMap = map;
        window.ztState = state;
        return "";
      },
      applyLayers: function (ons, opacities, filterValues, onIds, opacityIds, filterIds) {
        (onIds || []).forEach((id, i) => {
          const l = state.layers[id.layer] || (state.layers[id.layer] = { on: true, opacity: 1, filters: {} });
          l.on = (ons[i] || []).length > 0;
        });
        (opacityIds || []).forEach((id, i) => {
          const l = state.layers[id.layer];
          if (l) l.opacity = opacities[i] === null || opacities[i] === undefined ? 1 : opacities[i];
        });
        Object.values(state.layers).forEach((l) => { l.filters = {}; });
        (filterIds || []).forEach((id, i) => {
          const l = state.layers[id.layer], v = filterValues[i];
          if (l && v && v.length) l.filters[id.field] = Array.isArray(v) ? v.join(",") : v;
        });
        whenReady(() => { Object.keys(state.layers).forEach(applyLayer); updateUrl(); });
        return "zt-map";
      },
      setTool: function () {
        const ctx = window.dash_clientside.callback_context;
        const trig = ctx.triggered.length ? ctx.triggered[0].prop_id.split(".")[0] : "";
        const tool = { "zt-tool-polygon": "polygon", "zt-tool-circle": "circle", "zt-tool-measure": "measure" }[trig] || null;
        state.tool = tool;
        state.draft = [];
        if (state.map) {
          showDraft();
          if (tool === "polygon") state.map.doubleClickZoom.disable(); else state.map.doubleClickZoom.enable();
        }
        const labels = { polygon: "多边形：在地图上点击取点，双击结束", circle: "圆形：点击圆心",
                         measure: "测距：依次点击地图" };
        setToolLabel(tool ? labels[tool] : "");
        return tool || "";
      },
      applyChoropleth: function (data) {
        state.choropleth = data;
        whenReady(applyChoropleth);
        return "";
      },
      setBasemap: function (id) {
        state.basemapId = id || null;
        whenReady(() => { applyBasemap(basemapEntry()); updateUrl(); });
        return "";
      },
      flyTo: function (clicks, ids) {
        const ctx = window.dash_clientside.callback_context;
        if (!ctx.triggered.length || !state.map) return window.dash_clientside.no_update;
        const id = JSON.parse(ctx.triggered[0].prop_id.split(".n_clicks")[0]);
        const centre = state.crs === "gcj02" ? [Number(id.glon), Number(id.glat)] : [Number(id.lon), Number(id.lat)];
        state.map.flyTo({ center: centre, zoom: 17 });
        return "";
      },
    },
  });
})();

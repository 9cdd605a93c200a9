/* 粤监管 map: the vendored MapLibre drawing our own vector tiles (boundaries, entities) plus three
 * GeoJSON overlays — my tasks, my position with its accuracy, and the "around me" radius.
 * Popups are DOM nodes with text, never HTML strings. No glyphs are served, so no text labels.
 */
(function () {
  "use strict";
  const ZT = window.ZT;
  const EMPTY = { type: "FeatureCollection", features: [] };
  const STATUS_COLOURS = ["match", ["get", "status"], "open", "#f77f00", "in_progress", "#3a86ff", "done", "#2a9d8f", "#666"];

  function absolute(url) { return decodeURI(new URL(url, window.location.origin).href); }

  function circle(lon, lat, radius) {
    const ring = [];
    const dLat = radius / 111320, dLon = radius / (111320 * Math.cos(lat * Math.PI / 180));
    for (let i = 0; i <= 48; i++) {
      const t = (i / 48) * 2 * Math.PI;
      ring.push([lon + dLon * Math.cos(t), lat + dLat * Math.sin(t)]);
    }
    return { type: "Feature", geometry: { type: "Polygon", coordinates: [ring] }, properties: {} };
  }

  function buildStyle(cfg) {
    const sources = {};
    Object.entries(cfg.sources).forEach(([id, src]) => {
      sources[id] = Object.assign({}, src, src.tiles ? { tiles: src.tiles.map(absolute) } : {});
    });
    ["zt-radius", "zt-me", "zt-tasks", "zt-target"].forEach((id) => { sources[id] = { type: "geojson", data: EMPTY }; });
    const overlays = [
      { id: "zt-radius-fill", type: "fill", source: "zt-radius", paint: { "fill-color": "#1d3557", "fill-opacity": 0.06 } },
      { id: "zt-radius-line", type: "line", source: "zt-radius", paint: { "line-color": "#1d3557", "line-width": 1.5, "line-dasharray": [2, 1] } },
      { id: "zt-me-accuracy", type: "fill", source: "zt-me", filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": "#2b7cff", "fill-opacity": 0.12 } },
      { id: "zt-target", type: "circle", source: "zt-target",
        paint: { "circle-radius": 11, "circle-color": "#b3261e", "circle-stroke-color": "#fff", "circle-stroke-width": 3 } },
      { id: "zt-tasks", type: "circle", source: "zt-tasks",
        paint: { "circle-radius": 10, "circle-color": STATUS_COLOURS, "circle-stroke-color": "#fff", "circle-stroke-width": 2.5 } },
      { id: "zt-me", type: "circle", source: "zt-me", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 7, "circle-color": "#2b7cff", "circle-stroke-color": "#fff", "circle-stroke-width": 3 } },
    ];
    return { version: 8, sources, layers: cfg.layers.concat(overlays) };
  }

  function popup(title, lines, link) {
    return ZT.el("div", { className: "zt-f-pop" },
      ZT.el("strong", {}, title), ...lines.filter(Boolean).map((l) => ZT.el("div", {}, l)),
      link ? ZT.el("a", { href: link.href }, link.text) : null);
  }

  class FieldMap {
    constructor(container, options) {
      this.container = container;
      this.options = options || {};
      this.map = null;
      this.ready = new Promise((resolve) => { this._resolve = resolve; });
      this.pending = {};
      try {
        if (!window.maplibregl) throw new Error("no maplibre");
        const cfg = ZT.config.map;
        this.map = new maplibregl.Map({
          container, style: buildStyle(cfg), attributionControl: false, dragRotate: false, pitchWithRotate: false,
          center: this.options.center || [(cfg.bounds[0] + cfg.bounds[2]) / 2, (cfg.bounds[1] + cfg.bounds[3]) / 2],
          zoom: this.options.zoom || (this.options.center ? 15 : 7), maxZoom: 19,
        });
        this.map.touchZoomRotate.disableRotation();
        this.map.on("load", () => { this._flush(); this._resolve(this.map); });
        this.map.on("click", (e) => this._click(e));
        window.ztFieldMap = this.map;
      } catch (err) {
        container.classList.add("zt-f-map-off");
        container.textContent = "地图不可用（此浏览器不支持 WebGL），列表仍可使用";
      }
    }
    // Overlay data set before the style loaded is kept and applied on load.
    _set(source, data) {
      this.pending[source] = data;
      if (this.map && this.map.isStyleLoaded() && this.map.getSource(source)) this._flush();
    }
    _flush() {
      Object.entries(this.pending).forEach(([source, data]) => {
        const src = this.map.getSource(source);
        if (src) src.setData(data);
      });
      this.pending = {};
    }
    _click(e) {
      const layers = ["zt-tasks", "entities-points"].filter((id) => this.map.getLayer(id));
      const hit = this.map.queryRenderedFeatures(e.point, { layers })[0];
      if (!hit) return;
      const p = hit.properties;
      const content = hit.layer.id === "zt-tasks"
        ? popup(p.name, [p.due ? `期限 ${p.due}` : "", p.distance], { href: `#task/${encodeURIComponent(p.id)}`, text: "打开任务" })
        : popup(p.name, [p.category_name, p.address], { href: `/field/entity/${encodeURIComponent(p.id)}`, text: "全景信息" });
      new maplibregl.Popup({ maxWidth: "280px" }).setLngLat(e.lngLat).setDOMContent(content).addTo(this.map);
    }
    setTasks(tasks) {
      this._set("zt-tasks", { type: "FeatureCollection", features: tasks.map((t) => ({
        type: "Feature", geometry: { type: "Point", coordinates: [t.lon, t.lat] },
        properties: { id: t.id, name: t.entity_name, status: t.status, due: t.due_date, distance: ZT.fmtDistance(t.distance) },
      })) });
    }
    setMe(fix) {
      if (!fix) return;
      this._set("zt-me", { type: "FeatureCollection", features: [
        circle(fix.lon, fix.lat, Math.min(fix.accuracy || 0, 2000)),
        { type: "Feature", geometry: { type: "Point", coordinates: [fix.lon, fix.lat] }, properties: {} }] });
    }
    setRadius(fix, radius) {
      this._set("zt-radius", fix && radius ? { type: "FeatureCollection", features: [circle(fix.lon, fix.lat, radius)] } : EMPTY);
    }
    setTarget(lon, lat) {
      this._set("zt-target", { type: "FeatureCollection", features: [
        { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: {} }] });
    }
    centre(lon, lat, zoom) {
      if (this.map) this.map.jumpTo({ center: [lon, lat], zoom: zoom || Math.max(this.map.getZoom(), 15) });
    }
    fit(points, maxZoom) {
      if (!this.map || !points.length) return;
      const lons = points.map((p) => p[0]), lats = points.map((p) => p[1]);
      this.map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
        { padding: 40, maxZoom: maxZoom || 16, duration: 0 });
    }
    resize() { if (this.map) this.map.resize(); }
  }
  ZT.FieldMap = FieldMap;
})();

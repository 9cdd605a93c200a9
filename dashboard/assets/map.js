/* 一张图: MapLibre GL JS driven from Dash clientside callbacks.
 * Popups are built from DOM text nodes (textContent), never HTML strings, so entity names and
 * addresses typed by users cannot inject markup. */
(function () {
  "use strict";
  const state = { map: null, visible: null, groups: {} };

  function absolute(url) {
    // MapLibre fetches tiles from a worker, which needs absolute URLs.
    return decodeURI(new URL(url, window.location.origin).href);
  }

  function buildStyle(config) {
    const sources = {};
    Object.entries(config.sources).forEach(([id, src]) => {
      sources[id] = Object.assign({}, src, src.tiles ? { tiles: src.tiles.map(absolute) } : {});
    });
    return { version: 8, sources: sources, layers: config.layers };
  }

  function popupContent(popup, props) {
    const root = document.createElement("div");
    root.className = "zt-popup";
    const title = document.createElement("h4");
    title.textContent = props.name || popup.title;
    root.appendChild(title);
    const list = document.createElement("dl");
    popup.fields.filter((f) => f !== "name").forEach((field) => {
      const dt = document.createElement("dt");
      dt.textContent = popup.labels[field] || field;
      const dd = document.createElement("dd");
      dd.textContent = props[field] === undefined || props[field] === null ? "—" : String(props[field]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    root.appendChild(list);
    return root;
  }

  function applyVisibility(map) {
    if (!state.visible) return;
    Object.entries(state.groups).forEach(([layerId, styleIds]) => {
      const show = state.visible.indexOf(layerId) >= 0;
      styleIds.forEach((sid) => {
        if (map.getLayer(sid)) map.setLayoutProperty(sid, "visibility", show ? "visible" : "none");
      });
    });
  }

  function attachInteractions(map, config) {
    map.on("click", "entities-points", (e) => {
      const feature = e.features && e.features[0];
      if (!feature) return;
      new maplibregl.Popup({ maxWidth: "340px" })
        .setLngLat(e.lngLat)
        .setDOMContent(popupContent(config.popups.entities, feature.properties))
        .addTo(map);
    });
    map.on("click", "entities-cells", (e) => {
      map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2.5, 14) });
    });
    ["entities-points", "entities-cells"].forEach((id) => {
      map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
    });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    zt: {
      initMap: function (config, mapId) {
        const el = document.getElementById(mapId);
        if (!el || !window.maplibregl || !config) return "地图组件未加载 / map library missing";
        if (state.map) state.map.remove();
        state.groups = config.groups;
        const map = new maplibregl.Map({
          container: el, style: buildStyle(config), bounds: config.bounds,
          fitBoundsOptions: { padding: 16 },
          attributionControl: false, maxZoom: 19,
        });
        map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
        map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
        attachInteractions(map, config);
        map.on("load", () => { applyVisibility(map); el.dataset.loaded = "1"; });
        state.map = map;
        window.ztMap = map;
        return "";
      },
      setVisibility: function (values) {
        state.visible = values || [];
        if (state.map && state.map.isStyleLoaded()) applyVisibility(state.map);
        return "zt-map";
      },
    },
  });
})();

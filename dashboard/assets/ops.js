/* 运行大屏 (/ops) and the dispatch desk's map (/ops/desk).
 *
 * The wall runs for days, so everything here is bounded: one poll timer (a setTimeout chain, never
 * two at once), one housekeeping interval, one key listener, all removed when the page goes away;
 * events, sensors, feed items, ticker items and chart points are capped collections. Each poll is a
 * plain fetch (keep-alive) of /api/ops/changes?cursor=…, which carries only what changed; the page
 * applies it with setData on the map's GeoJSON sources, textContent on the feed and KPI tiles, and
 * Plotly.extendTraces / restyle on the charts. Text from the server is set with textContent only.
 */
(function () {
  "use strict";
  const MAX_EVENTS = 2000, MAX_SENSORS = 3000, MAX_FEED = 30, MAX_TICKER = 12, MAX_SHOWN = 500;
  const HOURS = 24, POLL_MS = 1000, MAX_BACKOFF_MS = 15000, FETCH_TIMEOUT_MS = 5000;
  const EMPTY = { type: "FeatureCollection", features: [] };
  const clockFmt = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const hhmm = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23" });
  const dayFmt = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
    day: "2-digit" }); // YYYY-MM-DD
  let W = null; // the running wall, or null

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function absolute(url) {
    return decodeURI(new URL(url, window.location.origin).href);
  }

  function statusMatch(colors) {
    const expr = ["match", ["get", "status"]];
    Object.entries(colors).forEach(([k, v]) => expr.push(k, v));
    expr.push("#888888");
    return expr;
  }

  function baseStyle(config, dark) {
    // the wall draws at its size: a 3840×2160 screen gets twice the dots and lines of 1920×1080
    const k = dark ? Math.max(1, window.innerHeight / 1080) : 1;
    return {
      version: 8,
      sources: {
        admin: { type: "vector", tiles: [absolute(config.tiles)], minzoom: 0, maxzoom: 16 },
        events: { type: "geojson", data: EMPTY },
        sensors: { type: "geojson", data: EMPTY },
      },
      layers: [
        { id: "bg", type: "background", paint: { "background-color": dark ? "#06101c" : "#f7f9fb" } },
        { id: "admin-fill", type: "fill", source: "admin", "source-layer": "admin_areas",
          filter: ["==", ["get", "level"], "district"],
          paint: { "fill-color": dark ? "#0d2236" : "#d3e2ee", "fill-opacity": dark ? 0.85 : 0.8 } },
        { id: "admin-district", type: "line", source: "admin", "source-layer": "admin_areas",
          filter: ["==", ["get", "level"], "district"],
          paint: { "line-color": dark ? "#2f6b9a" : "#8fb3c9", "line-width": 1 * k } },
        { id: "admin-city", type: "line", source: "admin", "source-layer": "admin_areas",
          filter: ["==", ["get", "level"], "city"],
          paint: { "line-color": dark ? "#5cc8ff" : "#457b9d", "line-width": 2.2 * k } },
        { id: "events-heat", type: "heatmap", source: "events", maxzoom: 14,
          filter: ["!=", ["get", "status"], "结案"],
          paint: { "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 14 * k, 13, 40 * k],
                   "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.8, 13, 1.6],
                   "heatmap-opacity": dark ? 0.55 : 0.35,
                   "heatmap-color": ["interpolate", ["linear"], ["heatmap-density"], 0, "rgba(0,0,0,0)",
                     0.2, "#1d4e89", 0.45, "#f9c74f", 0.7, "#f3722c", 1, "#ff2d55"] } },
        { id: "events-points", type: "circle", source: "events",
          paint: { "circle-color": statusMatch(config.statusColors),
                   "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, 3.5 * k, 12, 6 * k, 16, 10 * k],
                   "circle-opacity": ["case", ["==", ["get", "status"], "结案"], 0.45, 0.95],
                   "circle-stroke-color": ["case", ["get", "overdue"], "#ff2d55", dark ? "#06101c" : "#ffffff"],
                   "circle-stroke-width": ["case", ["get", "overdue"], 2.5 * k, 1 * k] } },
        { id: "sensors-points", type: "circle", source: "sensors",
          paint: { "circle-color": ["match", ["get", "state"], "alarm", config.sensorColors.alarm,
                                    "offline", config.sensorColors.offline, config.sensorColors.normal],
                   "circle-radius": ["case", ["==", ["get", "state"], "alarm"], 7 * k, 3 * k],
                   "circle-stroke-color": "#ffffff", "circle-stroke-width": ["case",
                     ["==", ["get", "state"], "alarm"], 2 * k, 0.5 * k] } },
      ],
    };
  }

  function eventFeature(e) {
    return { type: "Feature", id: e.id, geometry: { type: "Point", coordinates: [e.lon, e.lat] },
             properties: { id: e.id, status: e.status, overdue: !!e.overdue, category: e.category_name } };
  }

  function sensorFeature(s) {
    return { type: "Feature", id: s.id, geometry: { type: "Point", coordinates: [s.lon, s.lat] },
             properties: { id: s.id, state: s.state, kind: s.kind } };
  }

  /* A Map used as a bounded LRU: an updated key moves to the end, the oldest fall off the front. */
  function upsert(map, key, value, cap) {
    map.delete(key);
    map.set(key, value);
    while (map.size > cap) map.delete(map.keys().next().value);
  }

  function collection(map, toFeature) {
    const features = [];
    map.forEach((v) => { if (v.lon !== null && v.lat !== null) features.push(toFeature(v)); });
    return { type: "FeatureCollection", features: features };
  }

  /* ---------------- the wall ---------------- */

  function graphDiv(id) {
    const outer = document.getElementById(id);
    const div = outer && outer.querySelector(".js-plotly-plot");
    return div && window.Plotly ? div : null;
  }

  function hourLabel(h) {
    return h.slice(11, 16); // "YYYY-MM-DD HH:00" → "HH:00"
  }

  function chartFont() {
    return Math.max(11, Math.round(window.innerHeight * 0.0135));
  }

  function chartLayout(extra) {
    const f = chartFont();
    return Object.assign({
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: "#c9d8e8", size: f, family: "Noto Sans CJK SC, sans-serif" },
      margin: { l: f * 3, r: f, t: f * 0.5, b: f * 2.6 }, showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.18, font: { size: f } },
      xaxis: { gridcolor: "rgba(255,255,255,0.06)", tickfont: { size: f } },
      yaxis: { gridcolor: "rgba(255,255,255,0.10)", tickfont: { size: f }, rangemode: "tozero" },
    }, extra || {});
  }

  function initCharts() {
    const hourlyDiv = graphDiv("zt-ops-hourly"), statusDiv = graphDiv("zt-ops-by-status");
    if (!hourlyDiv || !statusDiv || !W.hourly) return false;
    const c = W.config, labels = W.hourly.hours.map(hourLabel);
    const traces = Object.keys(c.sources).map((src) => ({
      type: "bar", name: c.sources[src], x: labels.slice(), y: W.hourly.counts[src].slice(),
      marker: { color: c.sourceColors[src] } }));
    const layout = chartLayout({ barmode: "stack", bargap: 0.15 });
    layout.xaxis = Object.assign(layout.xaxis, { type: "category", nticks: 8, tickangle: 0 });
    window.Plotly.react(hourlyDiv, traces, layout,
      { displayModeBar: false, staticPlot: true, responsive: true });
    const statuses = c.statuses;
    window.Plotly.react(statusDiv, [{ type: "bar", orientation: "h", x: statuses.map((s) => W.kpi.by_status[s] || 0),
      y: statuses, marker: { color: statuses.map((s) => c.statusColors[s]) }, text: statuses.map((s) => String(W.kpi.by_status[s] || 0)),
      textposition: "auto", cliponaxis: false }],
      chartLayout({ showlegend: false, margin: { l: chartFont() * 5, r: chartFont() * 2, t: 4, b: chartFont() * 2 },
                    yaxis: { autorange: "reversed", tickfont: { size: chartFont() } } }),
      { displayModeBar: false, staticPlot: true, responsive: true });
    W.chartsReady = true;
    W.statusShown = JSON.stringify(W.kpi.by_status);
    return true;
  }

  function applyHourlyTail(tail) {
    // tail: the last two hourly buckets; a new hour extends the traces (capped at 24 points)
    if (!W.hourly || !tail) return;
    const h = W.hourly, srcs = Object.keys(W.config.sources);
    let grew = 0, changed = false;
    tail.hours.forEach((label, i) => {
      let idx = h.hours.indexOf(label);
      if (idx < 0) {
        if (h.hours.length && label < h.hours[h.hours.length - 1]) return;
        h.hours.push(label);
        srcs.forEach((s) => h.counts[s].push(0));
        if (h.hours.length > HOURS) { h.hours.shift(); srcs.forEach((s) => h.counts[s].shift()); }
        idx = h.hours.length - 1;
        grew += 1;
      }
      srcs.forEach((s) => {
        const v = (tail.counts[s] || [])[i] || 0;
        if (h.counts[s][idx] !== v) { h.counts[s][idx] = v; changed = true; }
      });
    });
    const div = W.chartsReady && graphDiv("zt-ops-hourly");
    if (!div) return;
    if (grew) {
      const idxs = srcs.map((_, i) => i), n = h.hours.length;
      const newLabels = h.hours.slice(n - grew).map(hourLabel);
      window.Plotly.extendTraces(div, { x: srcs.map(() => newLabels.slice()),
        y: srcs.map((s) => h.counts[s].slice(n - grew)) }, idxs, HOURS);
    }
    if (changed || grew) {
      window.Plotly.restyle(div, { y: srcs.map((s) => h.counts[s].slice()) }, srcs.map((_, i) => i));
    }
  }

  function applyStatusChart() {
    const div = W.chartsReady && graphDiv("zt-ops-by-status");
    const key = JSON.stringify(W.kpi.by_status);
    if (!div || key === W.statusShown) return;
    W.statusShown = key;
    const values = W.config.statuses.map((s) => W.kpi.by_status[s] || 0);
    window.Plotly.restyle(div, { x: [values], text: [values.map(String)] }, [0]);
  }

  function setText(id, text) {
    const node = document.getElementById(id);
    if (node && node.textContent !== text) node.textContent = text;
  }

  function applyKpi(k) {
    W.kpi = k;
    setText("zt-ops-kpi-today", String(k.today));
    setText("zt-ops-kpi-open", String(k.open));
    setText("zt-ops-kpi-overdue", String(k.overdue));
    setText("zt-ops-kpi-rate", k.on_time_rate === null ? "—" : (k.on_time_rate * 100).toFixed(1) + "%");
    applyStatusChart();
  }

  function feedItem(e) {
    const li = el("li", "zt-ops-feed-item" + (e.overdue ? " zt-ops-overdue" : ""));
    li.dataset.id = String(e.id);
    const t = new Date(e.reported_at);
    const sameDay = !isNaN(t) && dayFmt.format(t) === dayFmt.format(new Date());
    li.appendChild(el("span", "zt-ops-feed-time", isNaN(t) ? "" : (sameDay ? "" : dayFmt.format(t).slice(5) + " ") + hhmm.format(t)));
    const badge = el("span", "zt-ops-feed-status", e.status);
    badge.style.borderColor = W.config.statusColors[e.status] || "#888";
    badge.style.color = W.config.statusColors[e.status] || "#ccc";
    li.appendChild(badge);
    const body = el("span", "zt-ops-feed-body");
    body.appendChild(el("b", "", e.category_name));
    body.appendChild(el("span", "zt-ops-feed-where", `${e.district_name || ""} · ${W.config.sources[e.source] || e.source}`));
    body.appendChild(el("span", "zt-ops-feed-desc", e.description));
    li.appendChild(body);
    return li;
  }

  function feedAdd(e, fresh) {
    const list = document.getElementById("zt-ops-feed");
    if (!list) return;
    const li = feedItem(e);
    if (fresh) li.classList.add("zt-ops-new");
    list.insertBefore(li, list.firstChild);
    while (list.childElementCount > MAX_FEED) list.removeChild(list.lastElementChild);
    W.feedDirty = true;
  }

  /* Items that would be cut at the bottom of the panel are hidden rather than shown in half. */
  function fitFeed() {
    const list = document.getElementById("zt-ops-feed");
    if (!list || !W.feedDirty) return;
    W.feedDirty = false;
    const limit = list.clientHeight;
    Array.from(list.children).forEach((li) => {
      li.style.visibility = li.offsetTop - list.offsetTop + li.offsetHeight > limit ? "hidden" : "";
    });
  }

  function feedUpdate(e) {
    const li = document.querySelector(`#zt-ops-feed li[data-id="${Number(e.id)}"]`);
    if (!li) return;
    const badge = li.querySelector(".zt-ops-feed-status");
    badge.textContent = e.status;
    badge.style.borderColor = badge.style.color = W.config.statusColors[e.status] || "#888";
    li.classList.toggle("zt-ops-overdue", !!e.overdue);
  }

  function tickerRender() {
    const list = document.getElementById("zt-ops-ticker");
    if (!list) return;
    const open = Array.from(W.alerts.values()).filter((a) => !a.acknowledged)
      .sort((a, b) => (a.raised_at < b.raised_at ? 1 : -1)).slice(0, MAX_TICKER);
    list.replaceChildren();
    if (!open.length) { list.appendChild(el("li", "zt-ops-ticker-none", W.config.text.noAlerts)); return; }
    open.forEach((a) => {
      const li = el("li", "zt-ops-ticker-item" + (W.freshAlerts.has(a.id) ? " zt-ops-new" : ""));
      const t = new Date(a.raised_at);
      li.appendChild(el("span", "zt-ops-ticker-time", isNaN(t) ? "" : clockFmt.format(t)));
      const value = a.value === null ? "" : `${a.value}${a.unit || ""}`;
      const limit = a.threshold === null ? "" : ` / 阈值 ${a.threshold}${a.unit || ""}`;
      li.appendChild(el("span", "", `${a.sensor_name || a.sensor_kind || "传感器"} ${value}${limit}`));
      list.appendChild(li);
    });
    W.freshAlerts.clear();
  }

  function applyEvents(list, fromSnapshot) {
    let changed = false;
    list.forEach((e) => {
      const prev = W.events.get(e.id);
      if (prev && prev.v >= e.v) return; // seen (the server looks back a little; see cityops/wall.py)
      changed = true;
      upsert(W.events, e.id, e, MAX_EVENTS);
      if (fromSnapshot) return;
      if (!prev) {
        feedAdd(e, true);
        upsert(W.shown, e.id, Date.now(), MAX_SHOWN);
      } else if (prev.status !== e.status || prev.overdue !== e.overdue) {
        feedUpdate(e);
      }
    });
    return changed;
  }

  function applySensors(list) {
    let changed = false;
    list.forEach((s) => {
      const prev = W.sensors.get(s.id);
      if (prev && prev.v >= s.v) return;
      if (!prev || prev.state !== s.state || prev.lon !== s.lon || prev.lat !== s.lat) changed = true;
      upsert(W.sensors, s.id, s, MAX_SENSORS);
    });
    return changed;
  }

  function applyAlerts(list, fromSnapshot) {
    let changed = false;
    list.forEach((a) => {
      const prev = W.alerts.get(a.id);
      if (prev && prev.v >= a.v) return;
      changed = true;
      if (!prev && !fromSnapshot) W.freshAlerts.add(a.id);
      upsert(W.alerts, a.id, a, 200);
    });
    return changed;
  }

  function pushSources(events, sensors) {
    if (!W.map || !W.mapLoaded) { W.pendingMap = true; return; }
    if (events || W.pendingMap) W.map.getSource("events").setData(collection(W.events, eventFeature));
    if (sensors || W.pendingMap) W.map.getSource("sensors").setData(collection(W.sensors, sensorFeature));
    W.pendingMap = false;
  }

  function applySnapshot(data) {
    W.events.clear(); W.sensors.clear(); W.alerts.clear();
    applyEvents(data.events, true);
    applySensors(data.sensors);
    applyAlerts(data.alerts, true);
    const list = document.getElementById("zt-ops-feed");
    if (list) list.replaceChildren();
    data.events.slice().sort((a, b) => (a.reported_at < b.reported_at ? -1 : 1)).slice(-MAX_FEED)
      .forEach((e) => feedAdd(e, false));
    W.hourly = data.hourly;
    W.kpi = data.kpi;
    applyKpi(data.kpi);
    W.chartsReady = false;
    initCharts();
    tickerRender();
    pushSources(true, true);
    W.lastData = Date.now();
    fitFeed();
  }

  function applyChanges(data) {
    const ev = applyEvents(data.events || [], false);
    const se = applySensors(data.sensors || []);
    const al = applyAlerts(data.alerts || [], false);
    if (ev || se || al) W.lastData = Date.now();
    fitFeed();
    if (ev || se) pushSources(ev, se);
    if (al) tickerRender();
    applyKpi(data.kpi);
    applyHourlyTail(data.hourly);
  }

  function schedule(ms) {
    if (!W || W.stopped) return;
    clearTimeout(W.timer);
    W.timer = setTimeout(poll, ms);
  }

  async function poll() {
    const wall = W;
    if (!wall || wall.stopped) return;
    if (!document.getElementById(wall.rootId)) { stopWall(); return; }
    const url = wall.cursor ? `${wall.config.changes}?cursor=${encodeURIComponent(wall.cursor)}` : wall.config.snapshot;
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
    let next;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store", signal: controller.signal,
                                          headers: { Accept: "application/json" } });
      wall.authLost = response.status === 401; // the session ended (12 h limit, signed out elsewhere)
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      if (wall.stopped) return;
      if (data.resync) {
        wall.cursor = null;
        next = 0;
      } else {
        if (wall.cursor) applyChanges(data); else applySnapshot(data);
        wall.cursor = data.cursor;
        next = data.more ? 0 : POLL_MS;
      }
      wall.failures = 0;
      wall.lastOk = Date.now();
      wall.polls += 1;
    } catch (err) {
      wall.failures += 1;
      wall.lastError = String(err && err.message ? err.message : err);
      next = Math.min(POLL_MS * 2 ** Math.min(wall.failures, 6), MAX_BACKOFF_MS);
    } finally {
      clearTimeout(timeout);
    }
    if (wall === W) { showBanner(); schedule(next); }
  }

  function showBanner() {
    const banner = document.getElementById("zt-ops-stale");
    if (!banner) return;
    const now = Date.now(), c = W.config;
    let text = "", kind = "";
    // stale: polls are failing (error, HTTP status, or the 5 s timeout) for longer than staleSeconds
    if (W.failures > 0 && now - W.lastOk > c.staleSeconds * 1000) {
      const t = clockFmt.format(new Date(W.lastOk));
      text = `数据已停止更新，最后更新 ${t} / data stale since ${t}`;
      if (W.authLost) text += " — 登录已失效，请重新登录 / session ended, sign in again";
      kind = "stale";
    } else if (now - W.lastData > c.quietSeconds * 1000) {
      const t = clockFmt.format(new Date(W.lastData));
      text = `数据源暂无新数据，最后数据 ${t} / feed quiet since ${t}`;
      kind = "quiet";
    }
    if (banner.textContent !== text) banner.textContent = text;
    banner.hidden = !text;
    banner.dataset.kind = kind;
    const conn = document.getElementById("zt-ops-status");
    if (conn) {
      const live = kind !== "stale";
      const label = live ? "● 实时 / live" : `● 重连中 / reconnecting (${W.failures})`;
      if (conn.textContent !== label) conn.textContent = label;
      conn.classList.toggle("zt-ops-conn-down", !live);
    }
  }

  function showScene() {
    const scene = W.config.scenes[W.sceneIdx];
    if (!scene) return;
    const city = W.config.scenes[0];
    const name = scene === city ? scene.name : `${city.name} · ${scene.name}`;
    setText("zt-ops-scene", W.paused ? `${name} — ${W.config.text.paused}` : name);
  }

  function goScene(idx, animate) {
    const scenes = W.config.scenes;
    if (!scenes.length || !W.map) return;
    W.sceneIdx = ((idx % scenes.length) + scenes.length) % scenes.length;
    const b = scenes[W.sceneIdx].bounds;
    const pad = Math.round(window.innerHeight * 0.03);
    W.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: pad, duration: animate ? 2500 : 0 });
    showScene();
  }

  function housekeeping() {
    if (!W || W.stopped) return;
    if (!document.getElementById(W.rootId)) { stopWall(); return; }
    setText("zt-ops-clock", clockFmt.format(new Date()));
    showBanner();
    if (!W.chartsReady && W.hourly) initCharts();
    if (!W.paused && W.config.scenes.length > 1) {
      W.sceneTick += 1;
      if (W.sceneTick >= W.config.sceneSeconds) { W.sceneTick = 0; goScene(W.sceneIdx + 1, true); }
    }
  }

  function onKey(e) {
    if (!W) return;
    const key = (e.key || "").toLowerCase();
    if (key === "p" || key === " ") {
      W.paused = !W.paused; W.sceneTick = 0; showScene(); e.preventDefault();
    } else if (key === "arrowright" || key === "n") {
      W.sceneTick = 0; goScene(W.sceneIdx + 1, true);
    } else if (key === "arrowleft") {
      W.sceneTick = 0; goScene(W.sceneIdx - 1, true);
    }
  }

  function onResize() {
    if (!W) return;
    clearTimeout(W.resizeTimer);
    W.resizeTimer = setTimeout(() => {
      if (!W) return;
      W.chartsReady = false; initCharts();
      W.feedDirty = true; fitFeed();
    }, 300);
  }

  function stopWall() {
    if (!W) return;
    W.stopped = true;
    clearTimeout(W.timer);
    clearTimeout(W.resizeTimer);
    clearInterval(W.housekeeping);
    document.removeEventListener("keydown", onKey);
    window.removeEventListener("resize", onResize);
    if (W.map) W.map.remove();
    W.events.clear(); W.sensors.clear(); W.alerts.clear(); W.shown.clear();
    W = null;
    window.ztOpsMap = null;
  }

  function initWall(config, rootId) {
    stopWall();
    const root = document.getElementById(rootId);
    const container = document.getElementById("zt-ops-map");
    if (!root || !container || !config) return "";
    W = {
      config: config, rootId: rootId, map: null, mapLoaded: false, pendingMap: false,
      events: new Map(), sensors: new Map(), alerts: new Map(), shown: new Map(), freshAlerts: new Set(),
      cursor: null, timer: null, failures: 0, polls: 0, lastOk: Date.now(), lastData: Date.now(),
      lastError: null, sceneIdx: 0, sceneTick: 0, paused: !config.rotate, hourly: null, kpi: null,
      chartsReady: false, stopped: false,
    };
    if (window.maplibregl) {
      const first = config.scenes[0];
      const options = { container: container, style: baseStyle(config, true), attributionControl: false,
                        interactive: false, fadeDuration: 0 };
      if (first) { options.bounds = [[first.bounds[0], first.bounds[1]], [first.bounds[2], first.bounds[3]]];
                   options.fitBoundsOptions = { padding: Math.round(window.innerHeight * 0.03) }; }
      else { options.center = [113.3, 23.12]; options.zoom = 8.5; }
      W.map = new maplibregl.Map(options);
      W.map.on("load", () => {
        if (!W) return;
        W.mapLoaded = true;
        container.dataset.loaded = "1";
        pushSources(true, true);
      });
      window.ztOpsMap = W.map;
    }
    document.addEventListener("keydown", onKey);
    window.addEventListener("resize", onResize);
    W.housekeeping = setInterval(housekeeping, 1000);
    showScene();
    housekeeping();
    poll();
    return "";
  }

  /* What tests and the soak script read (bounded: ``shown`` keeps the last 500 ids). */
  window.ztOps = {
    get state() { return W; },
    shownAt: function (id) { return W ? W.shown.get(Number(id)) || null : null; },
    stats: function () {
      if (!W) return null;
      return { events: W.events.size, sensors: W.sensors.size, alerts: W.alerts.size, shown: W.shown.size,
               feed: document.querySelectorAll("#zt-ops-feed li").length, polls: W.polls,
               failures: W.failures, lastOk: W.lastOk, lastData: W.lastData, cursor: W.cursor,
               scene: W.sceneIdx, paused: W.paused,
               mapFeatures: W.mapLoaded ? W.map.querySourceFeatures("events").length : null };
    },
    stop: stopWall,
  };

  /* ---------------- the dispatch desk's map ---------------- */
  const D = { map: null, data: EMPTY, selected: null, loaded: false };

  function deskPush() {
    if (!D.map || !D.loaded) return;
    D.map.getSource("events").setData(D.data);
    D.map.setFilter("desk-selected", ["==", ["get", "id"], D.selected === null ? -1 : D.selected]);
  }

  function initDesk(config, mapId) {
    const container = document.getElementById(mapId);
    if (!container || !window.maplibregl || !config) return "";
    if (D.map) { D.map.remove(); D.map = null; D.loaded = false; }
    const style = baseStyle(config, false);
    style.layers = style.layers.filter((l) => l.id !== "events-heat" && l.id !== "sensors-points");
    style.sources.pick = { type: "geojson", data: EMPTY };
    style.layers.push({ id: "desk-selected", type: "circle", source: "events", filter: ["==", ["get", "id"], -1],
      paint: { "circle-radius": 13, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#1d3557",
               "circle-stroke-width": 3 } });
    style.layers.push({ id: "desk-pick", type: "circle", source: "pick",
      paint: { "circle-radius": 8, "circle-color": "#b3261e", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
    const b = config.bounds;
    const map = new maplibregl.Map({ container: container, style: style, attributionControl: false,
      bounds: [[b[0], b[1]], [b[2], b[3]]], fitBoundsOptions: { padding: 12 } });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.on("load", () => { D.loaded = true; container.dataset.loaded = "1"; deskPush(); });
    map.on("click", (e) => {
      const hits = map.queryRenderedFeatures(e.point, { layers: ["events-points"] });
      const set = window.dash_clientside && window.dash_clientside.set_props;
      if (hits.length && !config.placing) {
        if (set) set("zt-desk-selected", { data: Number(hits[0].properties.id) });
        return;
      }
      if (!config.canWrite) return;
      const lon = Number(e.lngLat.lng.toFixed(6)), lat = Number(e.lngLat.lat.toFixed(6));
      map.getSource("pick").setData({ type: "FeatureCollection", features: [
        { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: {} }] });
      if (set) { set("zt-desk-lon", { value: lon }); set("zt-desk-lat", { value: lat }); }
    });
    D.map = map;
    window.ztDeskMap = map;
    return "";
  }

  function deskData(geojson, selected) {
    D.data = geojson || EMPTY;
    D.selected = selected === undefined || selected === null ? null : Number(selected);
    deskPush();
    if (D.map && D.selected !== null) {
      const f = D.data.features.find((x) => x.properties.id === D.selected);
      if (f) D.map.easeTo({ center: f.geometry.coordinates, zoom: Math.max(D.map.getZoom(), 13) });
    }
    return "";
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ztOps: { initWall: initWall, initDesk: initDesk, deskData: deskData },
  });
})();

/* 粤监管 common helpers: config, DOM building (text nodes only), API calls with CSRF, time, distance,
 * GCJ-02 for navigation hand-off, geolocation, and the service-worker registration.
 *
 * Nothing here builds HTML from strings: data typed by people (names, addresses, reasons) only ever
 * reaches the page through textContent / attribute setters.
 */
(function () {
  "use strict";
  const ZT = (window.ZT = window.ZT || {});
  const configEl = document.getElementById("zt-field-config");
  ZT.config = configEl ? JSON.parse(configEl.textContent) : {};

  /* ---------- DOM ---------- */
  // el("li", {className: "x", dataset: {id: 1}, onclick: fn}, "text", childNode, ...)
  ZT.el = function (tag, props, ...children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (value === undefined || value === null) return;
      if (key === "dataset") Object.entries(value).forEach(([k, v]) => { node.dataset[k] = String(v); });
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "className" || key === "textContent" || key === "href" || key === "src" || key === "type"
               || key === "disabled" || key === "hidden") node[key] = value;
      else node.setAttribute(key, String(value));
    });
    children.flat().forEach((child) => {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    });
    return node;
  };
  ZT.clear = function (node) { while (node && node.firstChild) node.removeChild(node.firstChild); return node; };
  ZT.$ = (id) => document.getElementById(id);

  /* ---------- HTTP ---------- */
  function cookie(name) {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  }
  ZT.csrf = () => cookie("_csrf_token");

  class HttpError extends Error {
    constructor(status, message, body) { super(message); this.status = status; this.body = body; }
  }
  ZT.HttpError = HttpError;

  // JSON API call. Throws HttpError for an answer that is not 2xx, TypeError when the network failed.
  ZT.api = async function (path, options) {
    const opts = Object.assign({ method: "GET", credentials: "same-origin" }, options || {});
    const meta = opts.meta || {};  // out: meta.fromCache when the service worker answered offline
    delete opts.meta;
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
      delete opts.json;
    }
    if (opts.method !== "GET") headers["X-CSRFToken"] = ZT.csrf();
    opts.headers = headers;
    const response = await fetch(path, opts);
    if (response.redirected && new URL(response.url).pathname === "/login") {
      throw new HttpError(401, "登录已过期，请重新登录");
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new HttpError(response.status, (body && body.error) || `服务器错误（${response.status}）`, body);
    }
    meta.fromCache = response.headers.get("X-ZT-From-Cache") === "1";
    return body;
  };
  // fetch() rejects with a TypeError when the network failed; our own errors carry Chinese messages
  ZT.errorText = function (err) {
    if (err instanceof TypeError || !err || !err.message) return "网络不可用，请稍后重试";
    if (err.status === 401) return "登录已过期，请刷新页面重新登录";
    return err.message;
  };

  /* ---------- time: shown in Asia/Shanghai (UTC+8, no daylight saving) ---------- */
  const pad = (n) => String(n).padStart(2, "0");
  function shanghai(value) {
    const d = value instanceof Date ? value : new Date(value);
    return new Date(d.getTime() + 8 * 3600 * 1000);  // read back with getUTC*
  }
  ZT.day = (value) => { const s = shanghai(value); return `${s.getUTCFullYear()}-${pad(s.getUTCMonth() + 1)}-${pad(s.getUTCDate())}`; };
  ZT.time = (value) => { const s = shanghai(value); return `${ZT.day(value)} ${pad(s.getUTCHours())}:${pad(s.getUTCMinutes())}`; };
  ZT.today = () => ZT.day(new Date());
  // ISO 8601 with the phone's own UTC offset, e.g. 2026-11-25T09:30:12+08:00 (the API needs an offset)
  ZT.isoNow = function (date) {
    const d = date || new Date();
    const off = -d.getTimezoneOffset();
    const sign = off >= 0 ? "+" : "-";
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  };

  /* ---------- distance ---------- */
  ZT.distance = function (lon1, lat1, lon2, lat2) {
    const R = 6371008.8, rad = Math.PI / 180;
    const dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * R * Math.asin(Math.sqrt(h));
  };
  ZT.fmtDistance = (m) => (m === null || m === undefined || isNaN(m) ? "" :
    m < 1000 ? `${Math.round(m)} 米` : `${(m / 1000).toFixed(m < 10000 ? 1 : 0)} 公里`);
  ZT.fmtSize = (n) => (n < 1024 * 1024 ? `${Math.max(1, Math.round(n / 1024))} KB` : `${(n / 1048576).toFixed(1)} MB`);

  /* ---------- GCJ-02: the same public formula as geo/crs.py (_gcj_forward), for Amap/Baidu links ---------- */
  const A = 6378245.0, EE = 0.00669342162296594323;
  function tLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  ZT.wgs84ToGcj02 = function (lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
    let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    const radLat = lat / 180 * Math.PI;
    const magic = 1 - EE * Math.sin(radLat) ** 2, sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  };

  // Hand-off links: the phone's own map app — geo: (WGS 84, RFC 5870; Android offers its map apps) or,
  // on iOS, which ignores geo:, Apple Maps (given WGS 84; it shifts for China itself) — then Amap and
  // Baidu with GCJ-02 converted here and declared as such (coordinate=gaode / coord_type=gcj02).
  const IOS = /iP(hone|ad|od)/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  ZT.navLinks = function (lon, lat, name) {
    const [glon, glat] = ZT.wgs84ToGcj02(lon, lat);
    const q = encodeURIComponent(name || "目的地");
    const f = (v) => v.toFixed(6);
    const own = IOS ? { label: "苹果地图", app: "apple", href: `https://maps.apple.com/?ll=${f(lat)},${f(lon)}&q=${q}` }
      : { label: "手机地图", app: "geo", href: `geo:${f(lat)},${f(lon)}?q=${f(lat)},${f(lon)}(${q})` };
    return [
      own,
      { label: "高德地图", app: "amap", href: `https://uri.amap.com/navigation?to=${f(glon)},${f(glat)},${q}` +
          "&mode=car&coordinate=gaode&callnative=1&src=zhengtu" },
      { label: "百度地图", app: "baidu", href: `https://api.map.baidu.com/marker?location=${f(glat)},${f(glon)}` +
          `&title=${q}&content=${q}&coord_type=gcj02&output=html&src=webapp.zhengtu.field` },
    ];
  };
  ZT.renderNavLinks = function (container, lon, lat, name) {
    ZT.clear(container);
    ZT.navLinks(lon, lat, name).forEach((link) => container.appendChild(
      ZT.el("a", { className: "zt-f-btn zt-f-small", href: link.href, dataset: { app: link.app },
                   rel: "noopener", target: link.app === "geo" ? null : "_blank" }, link.label)));
  };

  /* ---------- geolocation ---------- */
  function fixOf(pos) {
    return { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy,
             at: ZT.isoNow(new Date(pos.timestamp || Date.now())) };
  }
  const GEO_ERRORS = { 1: "未允许定位：请在浏览器设置中允许本网站使用位置", 2: "无法获取位置（无卫星或网络信号）", 3: "定位超时，请到开阔处重试" };
  ZT.geoError = (err) => GEO_ERRORS[err && err.code] || "此浏览器不支持定位";
  // A fresh fix (check-in needs one that is not minutes old).
  ZT.locate = function (maxAgeMs) {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error(ZT.geoError(null))); return; }
      navigator.geolocation.getCurrentPosition((p) => resolve(fixOf(p)), (e) => reject(new Error(ZT.geoError(e))),
        { enableHighAccuracy: true, timeout: 20000, maximumAge: maxAgeMs || 0 });
    });
  };
  ZT.lastFix = null;
  ZT.watch = function (onFix, onError) {
    if (!navigator.geolocation) { onError(ZT.geoError(null)); return; }
    navigator.geolocation.watchPosition((p) => { ZT.lastFix = fixOf(p); onFix(ZT.lastFix); },
      (e) => onError(ZT.geoError(e)), { enableHighAccuracy: true, timeout: 30000, maximumAge: 10000 });
  };

  /* ---------- online indicator, banner, service worker ---------- */
  function showNet() {
    const net = ZT.$("zt-net");
    if (!net) return;
    net.dataset.online = navigator.onLine ? "1" : "0";
    net.textContent = navigator.onLine ? "在线" : "离线";
  }
  window.addEventListener("online", showNet);
  window.addEventListener("offline", showNet);
  showNet();

  ZT.banner = function (text) {
    const b = ZT.$("zt-banner");
    if (!b) return;
    b.textContent = text || "";
    b.hidden = !text;
  };

  if ("serviceWorker" in navigator) {
    // scope /field (not /field/): the page /field itself must be controlled to open offline.
    // Registered after "load" so that its precache does not compete with the first load.
    const register = () => navigator.serviceWorker.register("/field/sw.js", { scope: "/field" }).catch(() => {});
    if (document.readyState === "complete") register(); else window.addEventListener("load", register);
  }
  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persist().catch(() => {});  // ask the browser not to evict queued evidence
  }

  // Logging out forgets cached dossiers (personal data) but never the evidence queue.
  document.addEventListener("submit", (e) => {
    if (e.target.id !== "zt-logout") return;
    const pending = ZT.queue ? ZT.queue.pendingCount() : 0;
    if (pending && !window.confirm(`还有 ${pending} 份证据未上传。退出后它们仍保存在本机，下次登录后继续上传。确定退出？`)) {
      e.preventDefault();
      return;
    }
    const form = e.target;
    form.elements.csrf_token.value = ZT.csrf() || form.elements.csrf_token.value;  // a cached page's may be old
    if (window.caches) {
      e.preventDefault();
      // the cached shell names this user too: drop it with the data (the next login caches its own)
      const forgetShell = caches.keys().then((names) => Promise.all(names.filter((n) => n.startsWith("zt-field-shell-"))
        .map((n) => caches.open(n).then((c) => c.delete("/field")))));
      Promise.all(["zt-field-data", "zt-field-tiles"].map((n) => caches.delete(n)).concat([forgetShell]))
        .finally(() => form.submit());
    }
  });
})();

/* 粤监管 service worker, registered as /field/sw.js with scope /field (the server sends
 * Service-Worker-Allowed: /field so that the page /field itself is in scope).
 *
 * It controls the field pages only, but sees every GET those pages make, whatever the path:
 *   pages (/field, /field/entity/<id>)      network first (4 s), else the last copy, else an offline note
 *   scripts, styles, MapLibre (versioned)   cache first: precached at install, URLs change with content
 *   /api/tasks, /api/nearby, /api/entities  network first, else the last copy (marked X-ZT-From-Cache)
 *   evidence thumbnails                      cache first (a thumbnail never changes)
 *   /tiles/…                                 from the offline pack if there (refreshed behind), else network
 * POSTs (check-ins, evidence uploads) are never touched: the page's own queue owns retries.
 * Cache names are shared with offline.js and with the logout handler in common.js.
 */
"use strict";
const CONFIG = /*ZT-CONFIG*/{};
const SHELL = `zt-field-shell-${CONFIG.version}`;
const DATA = "zt-field-data";
const TILES = "zt-field-tiles";
const PAGE_TIMEOUT_MS = 4000;
const API_TIMEOUT_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

async function precache() {
  const cache = await caches.open(SHELL);
  await Promise.all(CONFIG.precache.concat([CONFIG.shell]).map(async (url) => {
    try {
      // versioned URLs are immutable: the HTTP cache of the first load may answer
      const response = await fetch(url, { credentials: "same-origin", cache: url.includes("?v=") ? "default" : "no-cache" });
      // a redirect is the login page: it must never be kept under the shell's URL
      if (response.ok && !response.redirected) await cache.put(url, response);
    } catch (err) {
      // offline while installing: the runtime strategies below fill the cache later
    }
  }));
}

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("zt-field-shell-") && n !== SHELL).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

const sleep = (ms) => new Promise((resolve) => setTimeout(() => resolve("timeout"), ms));

function fromCache(response) {
  const headers = new Headers(response.headers);
  headers.set("X-ZT-From-Cache", "1");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function offlinePage() {
  const html = "<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>离线 · 粤监管</title>" +
    "<body style=\"font-family:sans-serif;padding:1rem;line-height:1.6\"><h1>当前离线</h1>" +
    "<p>此页面没有离线副本。有网络时在任务列表点“离线带走今日任务”，即可离线查看今日任务的全景信息。</p>" +
    "<p><a href=\"/field\" style=\"display:inline-block;min-height:44px\">返回任务列表</a></p></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// Network first with a time limit: past it, a stored copy answers (the network still refreshes it).
async function networkFirst(event, cacheName, key, timeoutMs, searchless) {
  const store = async (response) => {
    if (response.ok && !response.redirected && response.type === "basic") {
      const cache = await caches.open(cacheName);
      await cache.put(key, response.clone());
    }
    return response;
  };
  const network = fetch(event.request).then(store);
  event.waitUntil(network.catch(() => null));
  const stored = async () => {
    const hit = await caches.match(key, { cacheName, ignoreSearch: !!searchless });
    return hit ? fromCache(hit) : null;
  };
  try {
    const first = await Promise.race([network, sleep(timeoutMs)]);
    // a server in trouble (5xx) is no better than no network when a copy is at hand
    if (first !== "timeout" && first.status < 500) return first;
    return (await stored()) || (await network);
  } catch (err) {
    const hit = await stored();
    if (hit) return hit;
    throw err;
  }
}

async function page(event, url) {
  const key = url.pathname.replace(/\/$/, "");
  const cacheName = key === CONFIG.shell ? SHELL : DATA;
  try {
    return await networkFirst(event, cacheName, key, PAGE_TIMEOUT_MS, true);
  } catch (err) {
    return offlinePage();
  }
}

async function cacheFirst(request, cacheName) {
  const hit = await caches.match(request, { cacheName });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(cacheName);
    await cache.put(request, response.clone());
  }
  return response;
}

// Only tiles of the offline pack are kept (the cache stays bounded); they are refreshed behind.
async function tile(event) {
  const cache = await caches.open(TILES);
  const hit = await cache.match(event.request);
  if (!hit) return fetch(event.request);
  event.waitUntil(fetch(event.request).then((r) => (r.ok ? cache.put(event.request, r) : null)).catch(() => null));
  return hit;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (request.mode === "navigate") {
    if (path === CONFIG.shell || path.startsWith(CONFIG.shell + "/")) event.respondWith(page(event, url));
    return;
  }
  if (path.startsWith("/field/static/") || path === "/field/manifest.webmanifest") {
    event.respondWith(cacheFirst(request, SHELL));
  } else if (path.startsWith("/tiles/")) {
    event.respondWith(tile(event));
  } else if (/^\/api\/evidence\/\d+\/thumb$/.test(path)) {
    event.respondWith(cacheFirst(request, DATA));
  } else if (path === "/api/tasks") {
    event.respondWith(networkFirst(event, DATA, "/api/tasks", API_TIMEOUT_MS, true));
  } else if (path === "/api/nearby" || path.startsWith("/api/entities/")) {
    event.respondWith(networkFirst(event, DATA, request.url, API_TIMEOUT_MS, false));
  }
});

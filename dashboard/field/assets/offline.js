/* 粤监管 "take today offline": put the dossiers of today's tasks, their evidence thumbnails and the map
 * tiles around each site into the Cache Storage the service worker answers from when there is no
 * network. Written from the page (Cache API), so it works even before the worker controls the page.
 * The cache names are shared with sw.js.
 */
(function () {
  "use strict";
  const ZT = window.ZT;
  const DATA = "zt-field-data", TILES = "zt-field-tiles";
  const PARALLEL = 4;
  const STATE_KEY = "zt-offline";

  function tileOf(lon, lat, z) {
    const n = 2 ** z, rad = lat * Math.PI / 180;
    const x = Math.floor((lon + 180) / 360 * n);
    const y = Math.floor((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2 * n);
    return [Math.min(Math.max(x, 0), n - 1), Math.min(Math.max(y, 0), n - 1)];
  }

  // The tile URLs MapLibre will ask for around a point: one tile per zoom, a 3×3 block from ring_from.
  function tileUrls(lon, lat) {
    const { zooms, ring_from: ringFrom } = ZT.config.offline;
    const layers = Object.values(ZT.config.map.sources).filter((s) => s.tiles).map((s) => s.tiles[0]);
    const urls = [];
    zooms.forEach((z) => {
      const [x, y] = tileOf(lon, lat, z);
      const ring = z >= ringFrom ? 1 : 0;
      for (let dx = -ring; dx <= ring; dx++) {
        for (let dy = -ring; dy <= ring; dy++) {
          layers.forEach((t) => urls.push(t.replace("{z}", z).replace("{x}", x + dx).replace("{y}", y + dy)));
        }
      }
    });
    return urls;
  }

  async function store(cache, url) {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
    // a redirect here is the login page: never keep it under the dossier's URL
    if (!response.ok || response.redirected) throw new Error(`${url}: ${response.status}`);
    await cache.put(url, response.clone());
    return response;
  }

  // Evidence thumbnails named in a dossier page (parsed, not rendered: DOMParser loads no images).
  async function storeDossier(dataCache, entityId) {
    const url = `/field/entity/${encodeURIComponent(entityId)}`;
    const html = await (await store(dataCache, url)).text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const thumbs = Array.from(doc.querySelectorAll(".zt-f-thumbs img")).map((img) => img.getAttribute("src"));
    return thumbs.filter((src) => src && src.startsWith("/api/evidence/"));
  }

  async function inParallel(jobs, onDone) {
    let next = 0, failed = 0;
    async function worker() {
      while (next < jobs.length) {
        const job = jobs[next++];
        try { await job(); } catch (err) { failed += 1; }
        onDone();
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    return failed;
  }

  // tasks: the task list as shown (nearest first). onProgress(done, total).
  async function pack(tasks, onProgress) {
    if (!window.caches) throw new Error("此浏览器不支持离线缓存");
    const chosen = tasks.slice(0, ZT.config.offline.max_tasks);
    const dataCache = await caches.open(DATA), tileCache = await caches.open(TILES);
    const tiles = new Set();
    chosen.forEach((t) => tileUrls(t.lon, t.lat).forEach((u) => tiles.add(u)));
    const entities = Array.from(new Set(chosen.map((t) => t.entity_id)));
    const total = entities.length + tiles.size + 1;
    let done = 0;
    const tick = () => onProgress(++done, total);
    const thumbs = [];
    let failed = await inParallel([() => store(dataCache, "/api/tasks")].concat(
      entities.map((id) => async () => { thumbs.push(...await storeDossier(dataCache, id)); })), tick);
    failed += await inParallel(Array.from(tiles, (u) => () => store(tileCache, u)), tick);
    failed += await inParallel(thumbs.map((u) => () => store(dataCache, u)), () => {});
    const summary = { at: new Date().toISOString(), dossiers: entities.length, tiles: tiles.size,
                      thumbs: thumbs.length, failed };
    localStorage.setItem(STATE_KEY, JSON.stringify(summary));
    return summary;
  }

  function describe(summary) {
    const s = summary || JSON.parse(localStorage.getItem(STATE_KEY) || "null");
    if (!s) return "";
    const failed = s.failed ? `，${s.failed} 项失败（可再点一次补齐）` : "";
    return `已离线保存：${ZT.time(s.at)}，${s.dossiers} 份全景信息、${s.tiles} 张地图瓦片${failed}`;
  }

  ZT.offline = { pack, describe, tileUrls };
})();

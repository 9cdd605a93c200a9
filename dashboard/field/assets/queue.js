/* 粤监管 evidence queue: nothing captured is lost, nothing is shown as sent before the server has it.
 *
 * A capture is hashed (SHA-256, crypto.subtle) and written to IndexedDB first — metadata in "queue",
 * bytes in "blobs" — with the GPS fix, the time and an Idempotency-Key (a UUID made now and kept for
 * every retry). Then it is POSTed to /api/evidence. Only an answer 200/201 whose sha256 equals ours
 * moves it, in one transaction, from "queue"+"blobs" to "receipts". 400/403/404/409/413/415/422 are
 * permanent (shown, kept, never retried by themselves); network errors, timeouts, 401 and 5xx are
 * retried with exponential backoff and at once on the `online` event.
 */
(function () {
  "use strict";
  const ZT = window.ZT;
  const PERMANENT = new Set([400, 403, 404, 409, 413, 415, 422]);
  const STATE_LABEL = { waiting: "等待", sending: "发送中", received: "已接收", failed: "失败" };
  const MAX_RECEIPTS = 200;
  const BACKOFF_MS = 2000, BACKOFF_MAX_MS = 5 * 60 * 1000;
  const me = () => (ZT.config.user || {}).username || "";
  const previews = new Map();  // key → object URL of a photo captured in this session
  const views = [];            // [{list, filter}] re-rendered on every change
  let snapshot = { queue: [], receipts: [] };
  let dbPromise = null, pumping = false, again = false, forced = false, timer = null;

  /* ---------- IndexedDB ---------- */
  function open() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open("zt-field", 1);
        req.onupgradeneeded = () => {
          const db = req.result;
          ["queue", "blobs", "receipts"].forEach((name) => {
            if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: "key" });
          });
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }
  // Run `work(tx)` in one transaction; resolves when it has committed (not merely been issued).
  async function transact(stores, mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(stores, mode);
      let result;
      tx.oncomplete = () => resolve(result);
      tx.onerror = tx.onabort = () => reject(tx.error || new Error("本机存储写入失败"));
      result = work(tx);
    });
  }
  function getAll(store) {
    return transact([store], "readonly", (tx) => {
      const out = [];
      tx.objectStore(store).openCursor().onsuccess = (e) => {
        const cursor = e.target.result;
        if (cursor) { out.push(cursor.value); cursor.continue(); }
      };
      return out;
    });
  }
  function getOne(store, key) {
    return transact([store], "readonly", (tx) => {
      const box = {};
      tx.objectStore(store).get(key).onsuccess = (e) => { box.value = e.target.result; };
      return box;
    }).then((box) => box.value);
  }
  const putMeta = (item) => transact(["queue"], "readwrite", (tx) => { tx.objectStore("queue").put(item); });

  /* ---------- hashing and ids ---------- */
  async function sha256hex(buffer) {
    if (!window.crypto || !crypto.subtle) throw new Error("此页面须经 HTTPS 打开才能计算文件哈希");
    const digest = await crypto.subtle.digest("SHA-256", buffer);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  function readBuffer(blob) {
    if (blob.arrayBuffer) return blob.arrayBuffer();
    return new Promise((resolve, reject) => {  // older Safari
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsArrayBuffer(blob);
    });
  }

  /* ---------- add ---------- */
  // Keep a capture on the phone before anything else; returns the queued item.
  async function add({ kind, taskId, blob, name, fix }) {
    const data = await readBuffer(blob);
    const item = {
      key: uuid(), user: me(), task_id: Number(taskId), kind, name: name || blob.name || `${kind}`,
      type: blob.type || "application/octet-stream", size: data.byteLength, sha256: await sha256hex(data),
      lon: fix ? fix.lon : null, lat: fix ? fix.lat : null, accuracy_m: fix ? fix.accuracy : null,
      captured_at: ZT.isoNow(), created: Date.now(), state: "waiting", attempts: 0, next_at: 0, message: "等待上传",
    };
    await transact(["queue", "blobs"], "readwrite", (tx) => {
      tx.objectStore("blobs").put({ key: item.key, data });
      tx.objectStore("queue").put(item);
    });
    if (kind === "photo" && window.URL && blob.type.startsWith("image/")) previews.set(item.key, URL.createObjectURL(blob));
    await refresh();
    pump();
    return item;
  }

  /* ---------- upload ---------- */
  async function send(item) {
    const stored = await getOne("blobs", item.key);
    if (!stored) throw new Error("missing bytes");
    const form = new FormData();
    form.append("sha256", item.sha256);
    form.append("kind", item.kind);
    form.append("task_id", String(item.task_id));
    if (item.lon !== null && item.lat !== null) {
      form.append("lon", String(item.lon));
      form.append("lat", String(item.lat));
      if (item.accuracy_m !== null) form.append("accuracy_m", String(item.accuracy_m));
    }
    form.append("captured_at", item.captured_at);
    form.append("file", new Blob([stored.data], { type: item.type }), item.name);
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), 60000 + item.size / 20);  // at least ~20 KB/s
    try {
      const response = await fetch("/api/evidence", {
        method: "POST", body: form, credentials: "same-origin", cache: "no-store", signal: abort.signal,
        headers: { "Idempotency-Key": item.key, "X-CSRFToken": ZT.csrf(), Accept: "application/json" },
      });
      const body = await response.json().catch(() => null);
      return { status: response.status, body, redirected: response.redirected };
    } finally {
      clearTimeout(timeout);
    }
  }

  async function confirm(item, receipt) {
    const record = Object.assign({}, item, {
      state: "received", receipt_id: receipt.id, received_at: receipt.received_at,
      flags: receipt.flags || [], message: "",
    });
    const old = snapshot.receipts.slice().sort((a, b) => b.created - a.created).slice(MAX_RECEIPTS - 1);
    await transact(["queue", "blobs", "receipts"], "readwrite", (tx) => {
      tx.objectStore("queue").delete(item.key);
      tx.objectStore("blobs").delete(item.key);
      tx.objectStore("receipts").put(record);
      old.forEach((r) => tx.objectStore("receipts").delete(r.key));
    });
  }

  function later(item, message, minDelay) {
    const attempts = item.attempts + 1;
    const delay = Math.max(minDelay || 0,
      Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** (attempts - 1)) * (0.75 + Math.random() / 2));
    return putMeta(Object.assign(item, { state: "waiting", attempts, next_at: Date.now() + delay, message }));
  }
  const fail = (item, message) => putMeta(Object.assign(item, { state: "failed", message }));

  async function attempt(item) {
    await putMeta(Object.assign(item, { state: "sending", message: "正在上传…" }));
    await refresh();
    let res;
    try {
      res = await send(item);
    } catch (err) {
      return later(item, "网络中断或超时，稍后自动重传");
    }
    const body = res.body || {};
    if (res.status === 200 || res.status === 201) {
      return body.sha256 === item.sha256 ? confirm(item, body)
        : fail(item, "服务器回执的哈希与本机不一致，未确认接收，请联系管理员");
    }
    if (res.status === 401 || res.redirected) return later(item, "登录已过期：请重新登录，之后自动上传", 60000);
    if (PERMANENT.has(res.status)) return fail(item, `${body.error || "上传被拒绝"}（${res.status}）`);
    return later(item, `服务器暂时不可用（${res.status}），稍后自动重传`);
  }

  // One upload at a time, oldest first: on a weak link parallel uploads only slow each other down.
  async function pumpOnce(force) {
    const now = Date.now();
    const due = (await getAll("queue"))
      .filter((i) => i.user === me() && (i.state === "waiting" || i.state === "sending") && (force || i.next_at <= now))
      .sort((a, b) => a.created - b.created);
    for (const item of due) {
      await attempt(item);
      await refresh();
    }
  }
  async function pump(force) {
    if (force) forced = true;
    if (pumping) { again = true; return; }
    pumping = true;
    try {
      const run = async () => {
        do {
          again = false;
          const now = forced;
          forced = false;
          await pumpOnce(now);
        } while (again);
      };
      // across tabs of the same phone, only one uploads at a time (retries would be harmless anyway)
      if (navigator.locks) await navigator.locks.request("zt-evidence-upload", run);
      else await run();
    } catch (err) {
      ZT.banner("证据队列出错：" + (err && err.message ? err.message : err));
    } finally {
      pumping = false;
      schedule();
    }
  }
  function schedule() {
    clearTimeout(timer);
    const waiting = snapshot.queue.filter((i) => i.user === me() && i.state === "waiting");
    if (!waiting.length) return;
    const next = Math.min(...waiting.map((i) => i.next_at));
    timer = setTimeout(() => pump(), Math.max(500, next - Date.now()));
  }

  /* ---------- user actions ---------- */
  async function retry(key) {
    const item = snapshot.queue.find((i) => i.key === key);
    if (!item) return;
    await putMeta(Object.assign({}, item, { state: "waiting", attempts: 0, next_at: 0, message: "等待上传" }));
    await refresh();
    pump();
  }
  async function discard(key) {
    if (!window.confirm("删除后这份证据将从本机永久移除，且服务器未收到。确定删除？")) return;
    await transact(["queue", "blobs"], "readwrite", (tx) => {
      tx.objectStore("queue").delete(key);
      tx.objectStore("blobs").delete(key);
    });
    await refresh();
  }

  /* ---------- rendering ---------- */
  function row(item) {
    const label = (ZT.config.labels.evidence || {})[item.kind] || item.kind;
    const preview = previews.get(item.key);
    const badge = () => ZT.el("span", { className: "zt-f-q-thumb" }, label);
    // a photo this browser cannot decode (HEIC outside Safari, or not a photo at all) shows its kind
    const thumb = preview ? ZT.el("img", { className: "zt-f-q-thumb", src: preview, alt: "",
                                           onerror: (e) => e.target.replaceWith(badge()) }) : badge();
    let message = item.message || "";
    if (item.state === "received") message = `回执 #${item.receipt_id} · 服务器接收于 ${ZT.time(item.received_at)}`;
    if (item.user !== me()) message = `属于账号 ${item.user}，该账号登录后上传`;
    const li = ZT.el("li", { className: "zt-f-q", dataset: { key: item.key, state: item.state, sha256: item.sha256,
                                                             task: item.task_id } },
      thumb,
      ZT.el("div", { className: "zt-f-q-main" },
        ZT.el("div", { className: "zt-f-q-name" }, `${label} · ${item.name}`),
        ZT.el("div", { className: "zt-f-hint" },
          `任务 ${item.task_id} · ${ZT.fmtSize(item.size)} · ${ZT.time(item.created)} · SHA-256 ${item.sha256.slice(0, 12)}…`)),
      ZT.el("span", { className: "zt-f-q-state" }, STATE_LABEL[item.state] || item.state),
      ZT.el("div", { className: "zt-f-q-msg" }, message));
    if (item.state === "received") {
      li.dataset.receipt = String(item.receipt_id);
      li.querySelector(".zt-f-q-msg").classList.add("zt-f-q-receipt");
    }
    if (item.state === "failed") {
      li.appendChild(ZT.el("div", { className: "zt-f-q-actions" },
        ZT.el("button", { type: "button", className: "zt-f-btn zt-f-small", onclick: () => retry(item.key) }, "重试"),
        ZT.el("button", { type: "button", className: "zt-f-btn zt-f-small zt-f-danger", onclick: () => discard(item.key) },
          "删除")));
    }
    return li;
  }
  function render() {
    const items = snapshot.queue.concat(snapshot.receipts).sort((a, b) => b.created - a.created);
    views.forEach(({ list, filter }) => {
      ZT.clear(list);
      const shown = items.filter(filter);
      if (!shown.length) list.appendChild(ZT.el("li", { className: "zt-f-hint" }, "暂无证据"));
      shown.forEach((item) => list.appendChild(row(item)));
    });
    const badge = ZT.$("zt-queue-count");
    const pending = pendingCount();
    if (badge) { badge.textContent = String(pending); badge.hidden = pending === 0; }
  }
  async function refresh() {
    const [queue, receipts] = await Promise.all([getAll("queue"), getAll("receipts")]);
    snapshot = { queue, receipts };
    render();
  }
  const pendingCount = () => snapshot.queue.filter((i) => i.user === me()).length;

  // A page closed mid-upload left its item "sending": the server may or may not have it; the same
  // Idempotency-Key makes asking again safe.
  async function start() {
    const stale = (await getAll("queue")).filter((i) => i.state === "sending");
    await Promise.all(stale.map((i) => putMeta(Object.assign(i, { state: "waiting", next_at: 0 }))));
    await refresh();
    pump(true);
  }

  window.addEventListener("online", () => pump(true));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) pump(); });

  ZT.queue = {
    add, retry, discard, pendingCount, pump,
    ready: start().catch((err) => ZT.banner("无法打开本机证据队列：" + err.message)),
    bind(list, filter) { views.push({ list, filter: filter || (() => true) }); render(); },
    items: () => snapshot.queue.concat(snapshot.receipts),
  };
})();

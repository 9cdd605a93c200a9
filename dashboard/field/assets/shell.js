/* 粤监管 app shell: hash views (#tasks, #nearby, #queue, #task/<id>), today's tasks nearest first,
 * what is around me, on-site check-in with its reason, and evidence capture into the queue.
 * Data comes from the JSON API; when offline the service worker answers with the last copy.
 */
(function () {
  "use strict";
  const ZT = window.ZT;
  const cfg = ZT.config;
  const labels = cfg.labels;
  const state = { tasks: [], fix: null, listedAt: null, radius: 300, map: null, pendingReason: null };
  const PENDING_REASON = "zt-pending-reason";
  const MOVED_M = 25;  // re-sort and re-query only after moving this far

  /* ---------- tasks ---------- */
  function withDistances(tasks, fix) {
    return tasks.map((t) => Object.assign({}, t, { distance: fix ? ZT.distance(fix.lon, fix.lat, t.lon, t.lat) : null }));
  }
  // nearest first when located (computed here, so the order also holds for a cached list offline)
  function sortTasks(tasks) {
    return tasks.slice().sort((a, b) => (a.distance === null || b.distance === null ? 0 : a.distance - b.distance)
      || a.due_date.localeCompare(b.due_date) || a.id - b.id);
  }
  function dueTag(due) {
    const today = ZT.today();
    if (due < today) return ZT.el("span", { className: "zt-f-tag zt-f-tag-late" }, `逾期 ${due}`);
    if (due === today) return ZT.el("span", { className: "zt-f-tag zt-f-tag-due" }, "今日到期");
    return ZT.el("span", { className: "zt-f-tag" }, `期限 ${due}`);
  }
  function taskItem(t) {
    return ZT.el("li", { dataset: { taskId: t.id, distance: t.distance === null ? "" : t.distance.toFixed(1) } },
      ZT.el("a", { className: "zt-f-item", href: `#task/${t.id}` },
        ZT.el("span", { className: "zt-f-item-name" }, t.entity_name),
        ZT.el("span", { className: "zt-f-item-dist" }, ZT.fmtDistance(t.distance)),
        ZT.el("span", { className: "zt-f-item-meta" },
          ZT.el("span", { className: "zt-f-tag" }, labels.status[t.status] || t.status),
          ZT.el("span", {}, labels.kinds[t.kind] || t.kind), dueTag(t.due_date),
          ZT.el("span", {}, t.address || ""))));
  }
  function renderTasks() {
    const list = ZT.$("zt-task-list");
    const tasks = sortTasks(withDistances(state.tasks, state.fix));
    state.tasks = tasks;
    ZT.clear(list);
    list.dataset.sorted = state.fix ? "distance" : "due";
    tasks.forEach((t) => list.appendChild(taskItem(t)));
    if (!tasks.length) list.appendChild(ZT.el("li", { className: "zt-f-hint" }, "今天没有待办任务"));
    ZT.$("zt-task-count").textContent = `${tasks.length} 项未完成`;
    if (state.map) state.map.setTasks(tasks);
  }
  async function loadTasks() {
    const fix = state.fix;
    const query = fix ? `?lon=${fix.lon.toFixed(6)}&lat=${fix.lat.toFixed(6)}` : "";
    const meta = {};
    try {
      const rows = await ZT.api("/api/tasks" + query, { meta });
      state.tasks = rows.filter((t) => t.status !== "done");
      state.listedAt = fix;
      ZT.banner(meta.fromCache ? "离线：显示的是上次保存的任务列表" : "");
    } catch (err) {
      ZT.banner(`任务列表加载失败：${ZT.errorText(err)}`);
    }
    renderTasks();
    if (!fix && state.map && state.tasks.length) state.map.fit(state.tasks.map((t) => [t.lon, t.lat]));
  }

  /* ---------- around me ---------- */
  async function loadNearby() {
    const status = ZT.$("zt-nearby-status"), list = ZT.$("zt-nearby-list");
    if (state.map) state.map.setRadius(state.fix, state.radius);
    if (!state.fix) { status.textContent = "等待定位后查询周边"; return; }
    status.textContent = "正在查询…";
    try {
      const rows = await ZT.api(`/api/nearby?lon=${state.fix.lon.toFixed(6)}&lat=${state.fix.lat.toFixed(6)}&radius=${state.radius}`);
      ZT.clear(list);
      status.textContent = `${state.radius} 米内 ${rows.length} 个监管对象${rows.length >= 100 ? "（仅显示最近 100 个）" : ""}`;
      rows.forEach((e) => list.appendChild(ZT.el("li", { dataset: { entityId: e.id } },
        ZT.el("a", { className: "zt-f-item", href: `/field/entity/${e.id}` },
          ZT.el("span", { className: "zt-f-item-name" }, e.name),
          ZT.el("span", { className: "zt-f-item-dist" }, ZT.fmtDistance(e.distance_m)),
          ZT.el("span", { className: "zt-f-item-meta" },
            ZT.el("span", { className: "zt-f-tag" }, e.category_name),
            ZT.el("span", {}, labels.risk[e.risk_class] || e.risk_class), ZT.el("span", {}, e.address || ""))))));
    } catch (err) {
      status.textContent = `周边查询失败：${ZT.errorText(err)}`;
    }
  }

  /* ---------- one task: facts, check-in, capture ---------- */
  function currentTask() {
    const m = /^#task\/(\d+)$/.exec(window.location.hash);
    return m ? state.tasks.find((t) => t.id === Number(m[1])) || { id: Number(m[1]), missing: true } : null;
  }
  function renderTask(task) {
    ZT.$("zt-task-name").textContent = task.missing ? `任务 ${task.id}` : task.entity_name;
    const facts = ZT.clear(ZT.$("zt-task-facts"));
    const rows = task.missing ? [["提示", "任务列表中没有此任务（可能已完成或不属于您）"]] : [
      ["地址", task.address || "—"], ["类型", labels.kinds[task.kind] || task.kind],
      ["状态", labels.status[task.status] || task.status], ["期限", task.due_date],
      ["距离", task.distance === null ? "未定位" : ZT.fmtDistance(task.distance)]];
    rows.forEach(([k, v]) => { facts.appendChild(ZT.el("dt", {}, k)); facts.appendChild(ZT.el("dd", {}, v)); });
    ZT.$("zt-dossier-link").href = task.missing ? "/field" : `/field/entity/${task.entity_id}`;
    if (!task.missing) ZT.renderNavLinks(ZT.$("zt-nav-links"), task.lon, task.lat, task.entity_name);
    ZT.$("zt-checkin").hidden = !cfg.user.may_check_in;
    const result = ZT.$("zt-checkin-result");
    delete result.dataset.state;
    result.textContent = "";
    showReasonForm(task.id);
    resetResultForm(task);
  }

  function showReasonForm(taskId) {
    const pending = JSON.parse(localStorage.getItem(PENDING_REASON) || "null");
    const form = ZT.$("zt-reason-form");
    form.hidden = !(pending && pending.task_id === taskId);
    if (!form.hidden) {
      const result = ZT.$("zt-checkin-result");
      result.dataset.state = "off_site";
      result.textContent = pending.text;
    }
  }

  async function checkIn() {
    const task = currentTask();
    const button = ZT.$("zt-checkin"), result = ZT.$("zt-checkin-result");
    button.disabled = true;
    result.dataset.state = "busy";
    result.textContent = "正在定位…";
    try {
      // a fix up to 30 s old is accepted (standing at the door); its own time goes to the server
      const fix = await ZT.locate(30000);
      result.textContent = `已定位（精度 ±${Math.round(fix.accuracy)} 米），正在提交签到…`;
      const body = await ZT.api("/api/checkins", { method: "POST", json: {
        task_id: task.id, lon: fix.lon, lat: fix.lat, accuracy_m: fix.accuracy, at: fix.at } });
      showCheckin(task, body, fix);
    } catch (err) {
      delete result.dataset.state;
      result.textContent = `签到未完成：${ZT.errorText(err)}`;
    } finally {
      button.disabled = false;
    }
  }
  function showCheckin(task, body, fix) {
    const result = ZT.$("zt-checkin-result");
    const where = `距离 ${ZT.fmtDistance(body.distance_m)}（现场范围 ${body.radius_m} 米，定位精度 ±${Math.round(fix.accuracy)} 米）`;
    if (!body.reason_required) {
      result.dataset.state = "on_site";
      result.textContent = `✓ 在现场，签到成功 · ${where}`;
      localStorage.removeItem(PENDING_REASON);
      ZT.$("zt-reason-form").hidden = true;
      return;
    }
    const why = body.accuracy_ok === false ? "定位精度不足，无法证明在现场" : "不在现场";
    const text = `✗ ${why} · ${where}。签到已记录，须说明原因。`;
    localStorage.setItem(PENDING_REASON, JSON.stringify({ checkin_id: body.id, task_id: task.id, text }));
    showReasonForm(task.id);
    ZT.$("zt-reason").focus();
  }
  async function giveReason(e) {
    e.preventDefault();
    const pending = JSON.parse(localStorage.getItem(PENDING_REASON) || "null");
    const reason = ZT.$("zt-reason").value.trim();
    const result = ZT.$("zt-checkin-result");
    if (!pending) return;
    if (reason.length < 2) { result.textContent = pending.text + " 原因至少 2 个字。"; return; }
    try {
      await ZT.api(`/api/checkins/${pending.checkin_id}/reason`, { method: "POST", json: { reason } });
      localStorage.removeItem(PENDING_REASON);
      ZT.$("zt-reason-form").hidden = true;
      ZT.$("zt-reason").value = "";
      result.dataset.state = "reason_given";
      result.textContent = "原因已提交，签到记录完整。";
    } catch (err) {
      result.textContent = `${pending.text} 原因提交失败：${ZT.errorText(err)}`;
    }
  }

  /* ---------- the result: final once recorded; a follow-up result opens a case (立案) ---------- */
  function resetResultForm(task) {
    const form = ZT.$("zt-result-form"), status = ZT.$("zt-result-status");
    form.hidden = task.missing || !cfg.user.may_check_in;
    form.reset();
    delete status.dataset.state;
    status.textContent = "";
  }
  async function recordResult(e) {
    e.preventDefault();
    const task = currentTask();
    const status = ZT.$("zt-result-status"), form = ZT.$("zt-result-form");
    const result = ZT.$("zt-result").value, findings = ZT.$("zt-findings").value.trim();
    if (!task || !result) { status.textContent = "请选择检查结果"; return; }
    const button = form.querySelector("button");
    button.disabled = true;
    status.textContent = "正在登记…";
    try {
      const body = await ZT.api(`/api/tasks/${task.id}/result`, { method: "POST", json: { result, findings } });
      status.dataset.state = "on_site";
      status.textContent = body.case_id
        ? `✓ 已登记「${body.result}」，已立案（案件 ${body.case_id}），本任务证据已随案移送。`
        : `✓ 已登记「${body.result}」，任务完成。`;
      form.hidden = true;
      state.tasks = state.tasks.filter((t) => t.id !== task.id);
    } catch (err) {
      status.textContent = `登记未完成：${ZT.errorText(err)}`;
    } finally {
      button.disabled = false;
    }
  }

  // A fix for evidence: the watched one if recent, else a quick fresh one — never holding the capture long.
  async function evidenceFix() {
    if (ZT.lastFix && Date.now() - Date.parse(ZT.lastFix.at) < 120000) return ZT.lastFix;
    try { return await Promise.race([ZT.locate(60000), new Promise((r) => setTimeout(() => r(null), 5000))]); }
    catch (err) { return null; }
  }
  async function capture(kind, blob, name) {
    const task = currentTask();
    const status = ZT.$("zt-capture-status");
    if (!task) return;
    status.textContent = "正在保存到本机…";
    try {
      const fix = await evidenceFix();
      await ZT.queue.add({ kind, taskId: task.id, blob, name, fix });
      status.textContent = `已保存到本机${fix ? "" : "（无定位）"}，上传状态见下方`;
    } catch (err) {
      status.textContent = `保存失败：${err.message || err}（请重新拍摄）`;
    }
  }
  function onFile(e) {
    const input = e.target;
    const files = Array.from(input.files || []);
    files.reduce((p, file) => p.then(() => capture(input.dataset.kind, file, file.name)), Promise.resolve())
      .finally(() => { input.value = ""; });
  }
  function onNote(e) {
    e.preventDefault();
    const text = ZT.$("zt-note").value.trim();
    if (!text) return;
    const blob = new Blob([text], { type: "text/plain;charset=utf-8" });
    capture("note", blob, `记录-${ZT.isoNow().slice(0, 19).replace(/:/g, "")}.txt`)
      .then(() => { ZT.$("zt-note").value = ""; });
  }

  /* ---------- views ---------- */
  function route() {
    const hash = window.location.hash || "#tasks";
    const task = hash.startsWith("#task/");
    const view = task ? "task" : hash === "#queue" ? "queue" : "home";
    ["home", "task", "queue"].forEach((v) => { ZT.$(`zt-view-${v}`).hidden = v !== view; });
    ZT.$("zt-panel-tasks").hidden = hash === "#nearby";
    ZT.$("zt-panel-nearby").hidden = hash !== "#nearby";
    document.querySelectorAll(".zt-f-tabs a").forEach((a) => {
      const on = a.dataset.tab === (task ? "tasks" : hash.slice(1));
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    if (view === "home" && state.map) state.map.resize();
    if (hash === "#nearby") loadNearby();
    else if (state.map) state.map.setRadius(null, 0);
    if (task) renderTask(currentTask());
    window.scrollTo(0, 0);
  }

  function onFix(fix) {
    const first = !state.fix;
    const moved = state.fix ? ZT.distance(state.fix.lon, state.fix.lat, fix.lon, fix.lat) : Infinity;
    state.fix = fix;
    ZT.$("zt-position").textContent = `我的位置：精度 ±${Math.round(fix.accuracy)} 米 · ${ZT.time(fix.at)}`;
    if (state.map) { state.map.setMe(fix); if (first) state.map.centre(fix.lon, fix.lat, 15); }
    if (moved < MOVED_M) return;
    if (first || !state.listedAt) loadTasks(); else renderTasks();
    if (window.location.hash === "#nearby") loadNearby();
  }

  async function packOffline() {
    const button = ZT.$("zt-offline-pack"), status = ZT.$("zt-offline-status");
    button.disabled = true;
    try {
      const summary = await ZT.offline.pack(state.tasks, (done, total) => { status.textContent = `正在离线保存… ${done}/${total}`; });
      status.textContent = ZT.offline.describe(summary);
    } catch (err) {
      status.textContent = `离线保存失败：${err.message || err}`;
    } finally {
      button.disabled = false;
    }
  }

  function start() {
    state.map = new ZT.FieldMap(ZT.$("zt-map"), {});
    ZT.$("zt-offline-status").textContent = ZT.offline.describe();
    ZT.$("zt-offline-pack").addEventListener("click", packOffline);
    ZT.$("zt-locate").addEventListener("click", () => ZT.locate(0).then(onFix, (e) => { ZT.$("zt-position").textContent = e.message; }));
    ZT.$("zt-checkin").addEventListener("click", checkIn);
    ZT.$("zt-reason-form").addEventListener("submit", giveReason);
    ZT.$("zt-note-form").addEventListener("submit", onNote);
    ZT.$("zt-result-form").addEventListener("submit", recordResult);
    document.querySelectorAll(".zt-f-file").forEach((input) => input.addEventListener("change", onFile));
    document.querySelectorAll(".zt-f-seg-btn").forEach((b) => b.addEventListener("click", () => {
      state.radius = Number(b.dataset.radius);
      document.querySelectorAll(".zt-f-seg-btn").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
      loadNearby();
    }));
    if (!cfg.user.may_upload) document.querySelector(".zt-f-capture").hidden = true;
    ZT.queue.bind(ZT.$("zt-queue-list"));
    ZT.queue.bind(ZT.$("zt-task-queue"), (item) => { const t = currentTask(); return !!t && item.task_id === t.id; });
    window.addEventListener("hashchange", route);
    window.addEventListener("online", () => loadTasks());
    ZT.watch(onFix, (message) => { ZT.$("zt-position").textContent = message; if (!state.listedAt) loadTasks(); });
    loadTasks().then(route);
    route();
  }
  start();
})();

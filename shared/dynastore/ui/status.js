/* Ingest status of recent keys (failures first) and jobs with live status and a dismiss button. */
"use strict";
(function () {
  const { el, api, enc } = DS;
  const CATALOG_SLOT = "dynastore.ingestCatalog";
  const STATUSES = ["", "failed", "indexed", "deleted", "skipped"];

  /* The chosen catalog's recent keys (GET .../ingest/records: failures first, then newest first, paged
     with "More"), and a lookup of any one key (GET /assets/ingest?key=). */
  DS.views.ingest = async function () {
    const catalogs = (await api("/assets/catalogs?limit=1000")).catalogs.map((c) => c.id);
    const kept = sessionStorage.getItem(CATALOG_SLOT);
    const chosen = catalogs.includes(kept) ? kept : catalogs[0];
    const pick = el("select", { id: "ingest-catalog", name: "catalog" },
      catalogs.map((id) => el("option", { value: id, selected: id === chosen }, id)));
    const status = el("select", { id: "ingest-status", name: "status" },
      STATUSES.map((s) => el("option", { value: s }, s || "any (failures first)")));
    const records = el("div", { id: "ingest-records", class: "ingest", "aria-live": "polite" });
    const lookup = el("div", { id: "ingest-lookup", class: "ingest", "aria-live": "polite" });
    const form = el("form", { class: "filters", "aria-label": "Ingest status lookup" },
      el("div", {}, el("label", { for: "ingest-key" }, "Object key (e.g. demo/s2/scene-1/B04.tif)"),
        el("input", { id: "ingest-key", name: "key", type: "text" })),
      el("div", {}, el("button", { type: "submit" }, "Check key")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = form.elements.key.value.trim().replace(/^\/+/, "");
      if (!key) return;
      const record = await api(`/assets/ingest?key=${enc(key)}`).catch((error) =>
        ({ key, status: error.status === 404 ? "not seen" : "error", error: error.message }));
      lookup.replaceChildren(DS.table(HEADINGS, [row(record)]));
    });
    const reload = () => {
      sessionStorage.setItem(CATALOG_SLOT, pick.value);
      return drawRecords(records, pick.value, status.value).catch((error) =>
        records.replaceChildren(el("p", { class: "error", role: "alert" }, error.message)));
    };
    pick.addEventListener("change", reload);
    status.addEventListener("change", reload);
    DS.show(el("h2", {}, "Ingest status"),
      el("div", { class: "filters" },
        el("div", {}, el("label", { for: "ingest-catalog" }, "Catalog"), pick),
        el("div", {}, el("label", { for: "ingest-status" }, "Status"), status)),
      el("p", { class: "muted" }, "What indexing did with the catalog's files: failures first, then the newest."),
      records, el("h3", {}, "Look up one key"), form, lookup);
    if (chosen) await reload();
    else records.replaceChildren(el("p", {}, "No catalog you may read yet."));
  };

  const HEADINGS = ["Key", "Status", "At", "Error", ""];

  async function drawRecords(box, catalogId, status, token, rows = []) {
    const query = new URLSearchParams({ limit: "50" });
    if (status) query.set("status", status);
    if (token) query.set("token", token);
    const page = await api(`/assets/catalogs/${enc(catalogId)}/ingest/records?${query}`);
    rows.push(...page.records.map(row));
    const more = page.next ? el("button", { type: "button", onclick: () =>
      drawRecords(box, catalogId, status, page.next, rows) }, "More") : "";
    box.replaceChildren(rows.length ? DS.table(HEADINGS, rows) : el("p", {}, "No file seen in this catalog yet."), more);
  }

  function row(r) {
    const failed = r.status === "failed" || r.status === "error";
    return el("tr", { class: failed ? "failed" : null },
      el("td", {}, r.key), el("td", {}, el("strong", {}, r.status)), el("td", {}, (r.at || "").replace("T", " ").replace(/\.\d+Z$/, "Z")),
      el("td", {}, r.error || ""), el("td", {}, r.asset_id && r.catalog_id ? el("a", { href: pageOf(r) }, "asset") : ""));
  }

  /* The asset page of a record: the key places it ({catalog}/{collection}/{item}/...; DESIGN §5). */
  function pageOf(r) {
    const parts = r.key.split("/");
    const collection = parts.length > 2 ? parts[1] : "-";
    const item = parts.length > 3 ? parts[2] : "-";
    return `#/asset/${enc(r.catalog_id)}/${enc(collection)}/${enc(item)}/${enc(r.asset_id)}`;
  }

  const ACTIVE = new Set(["accepted", "running"]);

  async function dismiss(job, button) {
    button.disabled = true;
    try {
      await api(`/assets/jobs/${enc(job.id)}`, { method: "DELETE" });
    } catch (error) {
      alert(error.message);
    }
    await drawJobs();
  }

  const HEADS = ["Job", "Task", "Asset", "Status", "Progress", "Updated", ""];

  /* The cells of a job that change while it runs, and the dismiss button when the reader may use it. */
  function liveCells(job) {
    const button = ACTIVE.has(job.status) && DS.canWrite(job.catalog_id)
      ? el("button", { type: "button", class: "dismiss", "aria-label": `Dismiss job ${job.id.slice(0, 8)}`,
        onclick: (event) => dismiss(job, event.currentTarget) }, "Dismiss") : null;
    return { status: job.status, progress: `${job.progress ?? ""}`, updated: job.updated || "", button };
  }

  function jobRow(job) {
    const live = liveCells(job);
    return el("tr", { "data-job": job.id },
      el("td", {}, el("code", {}, job.id.slice(0, 8))), el("td", {}, job.task_id),
      el("td", {}, el("a", { href: DS.assetLink({ catalog_id: job.catalog_id, collection_id: job.collection_id, item_id: job.item_id, id: job.asset_id }) }, job.asset_id)),
      el("td", { class: "job-status" }, live.status), el("td", { class: "job-progress" }, live.progress),
      el("td", { class: "job-updated" }, live.updated), el("td", { class: "job-action" }, live.button));
  }

  /* Refresh in place: the same jobs in the same order keep their rows, and only a cell whose text
     changed is rewritten (a button the user is about to click stays the same node); the table is
     rebuilt only when the list of jobs changed. */
  async function drawJobs() {
    const holder = document.getElementById("jobs-table");
    if (!holder) return;
    const page = await api("/assets/jobs?limit=50");
    if (!page.jobs.length) {
      if (!holder.querySelector("p.empty")) holder.replaceChildren(el("p", { class: "empty" }, "No job."));
      return;
    }
    const rows = [...holder.querySelectorAll("tbody tr[data-job]")];
    if (rows.map((r) => r.dataset.job).join() !== page.jobs.map((j) => j.id).join()) {
      holder.replaceChildren(DS.table(HEADS, page.jobs.map(jobRow)));
      return;
    }
    page.jobs.forEach((job, i) => {
      const live = liveCells(job);
      for (const name of ["status", "progress", "updated"]) {
        const cell = rows[i].querySelector(`.job-${name}`);
        if (cell.textContent !== live[name]) cell.textContent = live[name];
      }
      const action = rows[i].querySelector(".job-action");
      if (!!action.querySelector("button") !== !!live.button) action.replaceChildren(...(live.button ? [live.button] : []));
    });
  }

  /* Polls while the jobs page is shown (DS.route clears DS.timers), one request at a time, and not
     while the tab is hidden. */
  DS.views.jobs = async function () {
    DS.show(el("h2", {}, "Jobs"), el("p", { class: "muted" }, "Refreshed every 2 seconds."), el("div", { id: "jobs-table" }));
    await drawJobs();
    const generation = DS.generation;
    const next = () => {
      if (generation === DS.generation) DS.timers.push(setTimeout(poll, 2000));
    };
    const poll = () => (document.hidden ? Promise.resolve() : drawJobs()).catch(() => {}).then(next);
    next();
  };
})();

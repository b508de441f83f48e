/* Ingest status of recent keys (failures first) and jobs with live status and a dismiss button. */
"use strict";
(function () {
  const { el, api, enc } = DS;
  const KEYS_SLOT = "dynastore.ingestKeys";
  const watched = () => JSON.parse(sessionStorage.getItem(KEYS_SLOT) || "[]");

  /* There is no "list every ingest record" endpoint: the keys checked are the ones typed here (kept for
     this tab) and the storage keys of the 20 most recently updated assets. */
  DS.views.ingest = async function () {
    const form = el("form", { class: "filters", "aria-label": "Ingest status lookup" },
      el("div", {}, el("label", { for: "ingest-key" }, "Object key (e.g. demo/s2/scene-1/B04.tif)"),
        el("input", { id: "ingest-key", name: "key", type: "text" })),
      el("div", {}, el("button", { type: "submit" }, "Check key")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = form.elements.key.value.trim().replace(/^\/+/, "");
      if (!key) return;
      sessionStorage.setItem(KEYS_SLOT, JSON.stringify([key, ...watched().filter((k) => k !== key)].slice(0, 50)));
      DS.views.ingest();
    });
    const recent = await api("/assets/search?sortby=-updated&limit=20").catch(() => ({ assets: [] }));
    const keys = [...new Set([...watched(), ...recent.assets.map((d) => d.storage && d.storage.key).filter(Boolean)])];
    const records = await Promise.all(keys.map((key) => api(`/assets/ingest?key=${enc(key)}`).catch((error) =>
      ({ key, status: error.status === 404 ? "not seen" : "error", error: error.message }))));
    const bad = (r) => (r.status === "failed" || r.status === "error" ? 0 : r.status === "not seen" ? 1 : 2);
    records.sort((a, b) => bad(a) - bad(b) || String(b.at || "").localeCompare(String(a.at || "")));
    const rows = records.map((r) => {
      const asset = (r.links || []).find((l) => l.rel === "asset");
      const path = asset ? new URL(asset.href).pathname.split("/") : null; // /assets/catalogs/c/[collections/x/][items/y/]assets/id
      return el("tr", { class: bad(r) === 0 ? "failed" : null },
        el("td", {}, r.key), el("td", {}, el("strong", {}, r.status)), el("td", {}, r.at || ""),
        el("td", {}, r.error || ""), el("td", {}, path ? el("a", { href: pageOf(path) }, "asset") : ""));
    });
    DS.show(el("h2", {}, "Ingest status"), form,
      el("p", { class: "muted" }, "Keys you checked in this tab and the files of the 20 most recently updated assets; failures first."),
      rows.length ? DS.table(["Key", "Status", "At", "Error", ""], rows) : el("p", {}, "No key yet."));
  };

  function pageOf(parts) {
    const at = (name) => { const i = parts.indexOf(name); return i > 0 ? parts[i + 1] : "-"; };
    return `#/asset/${parts[3]}/${at("collections")}/${at("items")}/${parts[parts.length - 1]}`;
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

  async function drawJobs() {
    const table = document.getElementById("jobs-table");
    if (!table) return;
    const page = await api("/assets/jobs?limit=50");
    table.replaceChildren(DS.table(["Job", "Task", "Asset", "Status", "Progress", "Updated", ""], page.jobs.map((job) =>
      el("tr", { "data-job": job.id },
        el("td", {}, el("code", {}, job.id.slice(0, 8))), el("td", {}, job.task_id),
        el("td", {}, el("a", { href: DS.assetLink({ catalog_id: job.catalog_id, collection_id: job.collection_id, item_id: job.item_id, id: job.asset_id }) }, job.asset_id)),
        el("td", { class: "job-status" }, job.status), el("td", {}, `${job.progress ?? ""}`), el("td", {}, job.updated),
        el("td", {}, ACTIVE.has(job.status) && DS.canWrite(job.catalog_id)
          ? el("button", { type: "button", class: "dismiss", "aria-label": `Dismiss job ${job.id.slice(0, 8)}`,
            onclick: (event) => dismiss(job, event.currentTarget) }, "Dismiss") : "")))));
    if (!page.jobs.length) table.replaceChildren(el("p", {}, "No job."));
  }

  DS.views.jobs = async function () {
    DS.show(el("h2", {}, "Jobs"), el("p", { class: "muted" }, "Refreshed every 2 seconds."), el("div", { id: "jobs-table" }));
    await drawJobs();
    DS.timers.push(setInterval(() => drawJobs().catch(() => {}), 2000));
  };
})();

/* The asset page: metadata, download, audit trail, and for versioned files (<name>@<stamp><ext>) the
   history panel and a side-by-side comparison of two versions. */
"use strict";
(function () {
  const { el, api, enc } = DS;
  const PREVIEWABLE = /^image\/(png|jpeg|gif|webp)/;
  const RASTER = /^image\/tiff|geotiff|cloud-optimized/i; // previewed through the thumbnail task's PNG
  const RASTER_FILE = /\.(tiff?|cog)$/i;

  /* {"a": {"b": 1}} → [["a.b", "1"]] (arrays and scalars as JSON). */
  function flatten(value, prefix = "", out = new Map()) {
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length) {
      for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
    } else if (prefix) {
      out.set(prefix, typeof value === "string" ? value : JSON.stringify(value));
    }
    return out;
  }

  function metadataTable(doc) {
    return DS.table(["Field", "Value"], [...flatten(doc)].filter(([k]) => k !== "links")
      .map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, el("code", {}, v)))));
  }

  async function download(doc) {
    const response = await DS.api(`${DS.assetPath(doc)}/download`, { raw: true });
    if (!response.ok) throw new Error(`download answered ${response.status}`);
    return response.blob();
  }

  async function saveFile(doc, button) {
    button.disabled = true;
    try {
      const url = URL.createObjectURL(await download(doc));
      const link = el("a", { href: url, download: DS.fileName(doc) || doc.id });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      alert(error.message);
    } finally {
      button.disabled = false;
    }
  }

  /* The versions of doc's <name> in its item, newest first: the versions endpoint when the server has
     it, else the item's assets grouped by <name> (VERSIONS.md). Each entry: {label, latest, doc}. */
  async function versionsOf(doc, version) {
    const item = `/collections/${enc(doc.collection_id)}/items/${enc(doc.item_id)}`;
    try {
      const page = await api(`/stac/catalogs/${enc(doc.catalog_id)}${item}/versions?name=${enc(version.name)}&limit=50`);
      const entries = page.versions || page.assets || page.features || [];
      if (Array.isArray(entries) && entries.length) {
        return Promise.all(entries.map(async (entry) => {
          const link = (entry.links || []).find((l) => /\/assets\/catalogs\//.test(l.href || ""));
          const record = link ? await api(new URL(link.href).pathname).catch(() => null) : null;
          return { label: entry.version, latest: !!entry.latest, doc: record || entry };
        }));
      }
    } catch (error) { /* no versions endpoint on this server: group the item's assets below */ }
    const page = await api(`/assets/catalogs/${enc(doc.catalog_id)}${item}/assets?limit=1000`);
    const same = page.assets.map((d) => ({ d, v: DS.versionOf(d) }))
      .filter(({ v }) => v && v.name === version.name && v.version !== "latest")
      .sort((a, b) => (a.v.version < b.v.version ? 1 : -1));
    return same.map(({ d, v }, i) => ({ label: v.version, latest: d.latest === true || (d.latest == null && i === 0), doc: d }));
  }

  /* A GeoTIFF/COG: the PNG the thumbnail task stored (GET <asset>/preview.png); when there is none, an
     editor gets a "Make preview" button that runs the task synchronously and shows the result. */
  async function rasterPreview(doc) {
    const holder = el("div", { class: "raster-preview" });
    const name = DS.fileName(doc) || doc.id;
    const show = async () => {
      const response = await api(`${DS.assetPath(doc)}/preview.png`, { raw: true });
      if (response.ok) {
        holder.replaceChildren(el("img", { alt: `preview of ${name}`, src: URL.createObjectURL(await response.blob()) }));
        return;
      }
      if (response.status !== 404) throw new Error(`preview answered ${response.status}`);
      const status = el("span", { role: "status" });
      const make = DS.canWrite(doc.catalog_id) ? el("button", { type: "button", class: "make-preview",
        "aria-label": `Make preview of ${name}`, onclick: async (event) => {
          event.target.disabled = true;
          status.textContent = "rendering…";
          try {
            const result = await api(`${DS.assetPath(doc)}/tasks/thumbnail/execute?mode=sync-execute`, {
              method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
            if (result && result.key) await show();
            else status.replaceChildren("still running: job ", el("a", { href: "#/jobs" }, result.jobID || result.id), "; compare again when it is done");
          } catch (error) {
            status.textContent = error.message;
            event.target.disabled = false;
          }
        } }, "Make preview") : null;
      holder.replaceChildren(el("p", { class: "muted" }, "No preview of this raster yet. ", make, " ", status));
    };
    await show().catch((error) => holder.replaceChildren(el("p", { class: "error" }, `preview failed: ${error.message}`)));
    return holder;
  }

  async function preview(doc) {
    if (RASTER.test(doc.type || "") || (!doc.type && RASTER_FILE.test(DS.fileName(doc)))) return rasterPreview(doc);
    if (!PREVIEWABLE.test(doc.type || "")) {
      return el("p", { class: "muted" }, `No preview for ${doc.type || "this type"}: metadata only (browser preview covers PNG, JPEG, GIF and WebP; GeoTIFF/COG through the thumbnail task).`);
    }
    try {
      const img = el("img", { alt: `preview of ${DS.fileName(doc)}`, src: URL.createObjectURL(await download(doc)) });
      return img;
    } catch (error) {
      return el("p", { class: "error" }, `preview failed: ${error.message}`);
    }
  }

  async function compare(left, right, into) {
    const a = flatten(left.doc);
    const b = flatten(right.doc);
    const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => k !== "links").sort();
    const rows = keys.map((k) => el("tr", { class: a.get(k) === b.get(k) ? null : "diff" },
      el("th", { scope: "row" }, k), el("td", {}, el("code", {}, a.get(k) ?? "")), el("td", {}, el("code", {}, b.get(k) ?? ""))));
    const changed = rows.filter((r) => r.classList.contains("diff")).length;
    into.replaceChildren(
      el("p", { role: "status" }, `${changed} field(s) differ between ${left.label} and ${right.label}.`),
      el("div", { class: "side-by-side" },
        el("figure", {}, el("figcaption", {}, left.label), await preview(left.doc)),
        el("figure", {}, el("figcaption", {}, right.label), await preview(right.doc))),
      DS.table(["Field", left.label, right.label], rows));
  }

  function historyPanel(versions, current) {
    const result = el("div", { id: "compare-result" });
    const select = (id, label, index) => el("div", {}, el("label", { for: id }, label),
      el("select", { id }, versions.map((v, i) =>
        el("option", { value: i, selected: i === index }, `${v.label}${v.latest ? " (latest)" : ""}`))));
    const form = el("form", { class: "filters", "aria-label": "Compare two versions" },
      select("cmp-left", "Left version", Math.min(1, versions.length - 1)), select("cmp-right", "Right version", 0),
      el("div", {}, el("button", { type: "submit", id: "compare" }, "Compare")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      compare(versions[form.elements["cmp-left"].value], versions[form.elements["cmp-right"].value], result)
        .catch((error) => result.replaceChildren(el("p", { class: "error" }, error.message)));
    });
    return el("section", { id: "versions", "aria-label": "Versions" },
      el("h3", {}, "Versions ", el("span", { class: "count" }, versions.length)),
      DS.table(["Version", "File", "Size"], versions.map((v) => el("tr", {},
        el("td", {}, v.doc.id === current.id ? el("strong", {}, v.label) : v.label, v.latest ? " (latest)" : ""),
        el("td", {}, v.doc.catalog_id ? el("a", { href: DS.assetLink(v.doc) }, DS.fileName(v.doc)) : DS.fileName(v.doc)),
        el("td", {}, DS.size(v.doc["file:size"]))))),
      versions.length > 1 ? [form, result] : el("p", { class: "muted" }, "Only one version so far."));
  }

  function writeButtons(doc) {
    if (!DS.canWrite(doc.catalog_id)) return null;
    const status = el("span", { role: "status" });
    const run = el("button", { type: "button", id: "run-checksum", onclick: async () => {
      try {
        const job = await api(`${DS.assetPath(doc)}/tasks/checksum/execute`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
        status.replaceChildren("job ", el("a", { href: "#/jobs" }, job.id), ` ${job.status}`);
      } catch (error) { status.textContent = error.message; }
    } }, "Run checksum task");
    return el("p", { class: "write" }, run, " ", status);
  }

  DS.views.asset = async function (catalogId, collectionId, itemId, assetId) {
    const doc = await api(DS.assetPath({
      catalog_id: catalogId, collection_id: collectionId === "-" ? null : collectionId,
      item_id: itemId === "-" ? null : itemId, id: assetId }));
    DS.map.clear();
    await DS.placeAssets([doc]);
    const history = await api(`${DS.assetPath(doc)}/history?limit=50`).catch(() => ({ events: [] }));
    const version = DS.versionOf(doc);
    const versions = version && doc.item_id ? await versionsOf(doc, version) : [];
    const download = el("button", { type: "button", id: "download" }, "Download");
    download.addEventListener("click", () => saveFile(doc, download));
    const where = doc.item_id ? `#/item/${enc(doc.catalog_id)}/${enc(doc.collection_id)}/${enc(doc.item_id)}` : `#/catalog/${enc(doc.catalog_id)}`;
    DS.show(
      el("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, el("a", { href: where }, "back to the list")),
      el("h2", { id: "asset-title" }, doc.title || DS.fileName(doc) || doc.id),
      el("p", {}, download, " ", el("span", { class: "muted" }, `${doc.type || "unknown type"}, ${DS.size(doc["file:size"])}`)),
      writeButtons(doc),
      versions.length ? historyPanel(versions, doc) : null,
      el("h3", {}, "Metadata"), metadataTable(doc),
      el("h3", {}, "Audit trail ", el("span", { class: "count" }, history.events.length)),
      DS.table(["When", "Action", "Who", "Details"], history.events.map((e) => el("tr", {},
        el("td", {}, e.at), el("td", {}, e.action), el("td", {}, e.actor), el("td", {}, el("code", {}, JSON.stringify(e.details || {})))))));
  };
})();

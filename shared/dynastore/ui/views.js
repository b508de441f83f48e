/* Browse (catalogs → collections → items → assets, with counts) and search. */
"use strict";
(function () {
  const { el, api, enc } = DS;
  const stac = (c, rest = "") => `/stac/catalogs/${enc(c)}${rest}`;
  const counted = (page, key) => `${page[key].length}${page.next ? "+" : ""}`;

  function crumbs(...parts) {
    const out = [el("a", { href: "#/" }, "Catalogs")];
    for (const [label, href] of parts) out.push(" / ", href ? el("a", { href }, label) : el("span", {}, label));
    return el("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, out);
  }

  DS.views.home = async function () {
    DS.map.clear();
    const page = await api("/assets/catalogs?limit=1000");
    const rows = await Promise.all(page.catalogs.map(async (catalog) => {
      const collections = await api(stac(catalog.id, "/collections")).catch(() => ({ collections: [] }));
      return el("tr", {},
        el("td", {}, el("a", { href: `#/catalog/${enc(catalog.id)}` }, catalog.id)),
        el("td", {}, catalog.title || ""),
        el("td", {}, el("span", { class: "count", title: "collections" }, collections.collections.length)),
        el("td", {}, catalog.status));
    }));
    DS.show(el("h2", {}, "Catalogs ", el("span", { class: "count" }, counted(page, "catalogs"))),
      rows.length ? DS.table(["Catalog", "Title", "Collections", "Status"], rows)
        : el("p", {}, "No catalog you may read yet. Create one through the API (see API docs) or enter a key above."));
  };

  DS.views.catalog = async function (catalogId) {
    DS.map.clear();
    const page = await api(stac(catalogId, "/collections"));
    const rows = await Promise.all(page.collections.map(async (col) => {
      const items = await api(stac(catalogId, `/collections/${enc(col.id)}/items?limit=1000`));
      DS.map.items(items.features, catalogId);
      return el("tr", {},
        el("td", {}, el("a", { href: `#/collection/${enc(catalogId)}/${enc(col.id)}` }, col.id)),
        el("td", {}, col.title || col.description || ""),
        el("td", {}, el("span", { class: "count", title: "items" }, counted({ f: items.features, next: nextOf(items) }, "f"))));
    }));
    const assets = await api(`/assets/catalogs/${enc(catalogId)}/assets?limit=1000`).catch(() => ({ assets: [] }));
    DS.show(crumbs([catalogId]), el("h2", {}, `Catalog ${catalogId}`),
      el("h3", {}, "Collections ", el("span", { class: "count" }, rows.length)),
      rows.length ? DS.table(["Collection", "Description", "Items"], rows) : el("p", {}, "No collection yet."),
      el("h3", {}, "Catalog-level assets ", el("span", { class: "count" }, assets.assets.length)),
      assetTable(assets.assets));
  };

  const nextOf = (page) => (page.links || []).some((l) => l.rel === "next");

  DS.views.collection = async function (catalogId, collectionId) {
    DS.map.clear();
    const items = await api(stac(catalogId, `/collections/${enc(collectionId)}/items?limit=1000`));
    DS.map.items(items.features, catalogId);
    const rows = items.features.map((f) => {
      const link = (f.links || []).find((l) => l.rel === "assets");
      const count = link && link.count !== undefined ? link.count : Object.keys(f.assets || {}).length;
      return el("tr", {},
        el("td", {}, el("a", { href: `#/item/${enc(catalogId)}/${enc(collectionId)}/${enc(f.id)}` }, f.id)),
        el("td", {}, (f.properties && f.properties.datetime) || ""),
        el("td", {}, el("span", { class: "count", title: "assets" }, count)));
    });
    DS.show(crumbs([catalogId, `#/catalog/${enc(catalogId)}`], [collectionId]),
      el("h2", {}, `Collection ${collectionId} `, el("span", { class: "count" }, rows.length + (nextOf(items) ? "+" : ""))),
      rows.length ? DS.table(["Item", "Date/time", "Assets"], rows) : el("p", {}, "No item yet."));
  };

  DS.views.item = async function (catalogId, collectionId, itemId) {
    DS.map.clear();
    const item = await api(stac(catalogId, `/collections/${enc(collectionId)}/items/${enc(itemId)}`));
    DS.map.items([item], catalogId);
    const page = await api(`/assets/catalogs/${enc(catalogId)}/collections/${enc(collectionId)}/items/${enc(itemId)}/assets?limit=1000`);
    await DS.placeAssets(page.assets);
    DS.show(crumbs([catalogId, `#/catalog/${enc(catalogId)}`], [collectionId, `#/collection/${enc(catalogId)}/${enc(collectionId)}`], [itemId]),
      el("h2", {}, `Item ${itemId} `, el("span", { class: "count" }, page.assets.length)),
      assetTable(page.assets));
  };

  function assetTable(assets) {
    if (!assets.length) return el("p", {}, "No asset.");
    return DS.table(["File", "Type", "Roles", "Size", "Version", "Updated"], assets.map((doc) => {
      const version = DS.versionOf(doc);
      return el("tr", {},
        el("td", {}, el("a", { href: DS.assetLink(doc), class: "asset-link" }, DS.fileName(doc) || doc.title || doc.id)),
        el("td", {}, doc.type || ""), el("td", {}, (doc.roles || []).join(", ")), el("td", {}, DS.size(doc["file:size"])),
        el("td", {}, version ? `${version.version}${doc.latest ? " (latest)" : ""}` : ""), el("td", {}, doc.updated || ""));
    }));
  }
  DS.assetTable = assetTable;

  const FIELDS = [
    ["q", "Search text (id, title, file name)", "text", "e.g. B04 or track"],
    ["roles", "Role", "text", "data, thumbnail, ..."],
    ["type", "Media type", "text", "image/tiff; application=geotiff"],
    ["datetime", "Date/time or interval", "text", "2024-01-01T00:00:00Z/.."],
    ["bbox", "Bounding box (west,south,east,north)", "text", "draw it on the map"],
  ];

  DS.views.search = async function (params) {
    const form = el("form", { class: "filters", role: "search", "aria-label": "Search assets" },
      FIELDS.map(([name, label, type, hint]) => el("div", {},
        el("label", { for: `f-${name}` }, label),
        el("input", { id: `f-${name}`, name, type, placeholder: hint, value: params.get(name) || "" }))),
      el("div", {}, el("button", { type: "submit", id: "search-submit" }, "Search"), " ",
        el("button", { type: "button", id: "draw-bbox", onclick: () => {
          DS.map.drawBox((bbox) => { form.elements.bbox.value = bbox.join(","); });
          status.textContent = "Click two opposite corners on the map.";
        } }, "Draw box on map")));
    const status = el("p", { class: "muted", role: "status" });
    const results = el("section", { id: "results", "aria-label": "Search results" });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      for (const [name] of FIELDS) if (form.elements[name].value.trim()) query.set(name, form.elements[name].value.trim());
      location.hash = `#/search?${query}`;
    });
    DS.show(el("h2", {}, "Search assets"), form, status, results);
    const query = new URLSearchParams();
    for (const [name] of FIELDS) if (params.get(name)) query.set(name, params.get(name));
    if (![...query.keys()].length) {
      status.textContent = "Type part of a file name, id or title; filters are optional.";
      document.getElementById("f-q").focus();
      return;
    }
    query.set("limit", "100");
    DS.map.clear();
    const page = await api(`/assets/search?${query}`);
    status.textContent = `${page.assets.length}${page.next ? "+" : ""} asset(s) found.`;
    results.replaceChildren(assetTable(page.assets));
    await DS.placeAssets(page.assets);
  };
})();

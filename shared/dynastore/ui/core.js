/* Shared helpers of the web page: the API key (sessionStorage), fetch with the key, DOM building,
   paths of assets. Every other script adds its views to the one global `DS`. */
"use strict";
const DS = (window.DS = {
  base: new URL("..", document.baseURI).pathname.replace(/\/$/, ""),
  me: null, // {key_id, role, catalogs} from GET /auth/whoami
  views: {},
  timers: [],
  generation: 0, // bumped by each route: answers for an older page are dropped (DS.api)
});
const RANK = { reader: 1, editor: 2, admin: 3 };
const KEY_SLOT = "dynastore.apiKey";

DS.key = () => sessionStorage.getItem(KEY_SLOT) || "";

DS.api = async function (path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (DS.key()) headers.Authorization = "Bearer " + DS.key();
  const generation = DS.generation;
  /* An answer for an older page never settles, so the view that asked stops there and cannot replace
     the page the user went to. Checked after EVERY await (headers and body): a view resumes only in the
     generation it started in, hence its next calls capture that same generation. */
  const stale = () => generation !== DS.generation && !options.keep;
  const response = await fetch(DS.base + path, Object.assign({}, options, { headers }));
  if (stale()) return new Promise(() => {});
  if (options.raw) return response;
  const text = await response.text();
  if (stale()) return new Promise(() => {});
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { detail: text }; }
  if (!response.ok) {
    const error = new Error((body && (body.detail || body.title)) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
};

DS.canWrite = (catalogId) =>
  !!DS.me && RANK[DS.me.role] >= RANK.editor && (!DS.me.catalogs || DS.me.catalogs.includes(catalogId));

/* el("a", {href: "#/"}, "text", child, ...): text is always set as text, never parsed as HTML. */
DS.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

DS.show = function (...children) {
  const view = document.getElementById("view");
  view.replaceChildren(...children.flat());
};

DS.fail = function (error) {
  const hint = error.status === 401 ? " Enter an API key above." : "";
  DS.show(DS.el("p", { class: "error", role: "alert" }, `${error.message}${hint}`));
};

DS.table = function (headings, rows) {
  return DS.el("table", {},
    DS.el("thead", {}, DS.el("tr", {}, headings.map((h) => DS.el("th", { scope: "col" }, h)))),
    DS.el("tbody", {}, rows));
};

DS.enc = encodeURIComponent;

/* The asset API path of an asset document (catalog-, collection- or item-level). */
DS.assetPath = function (doc) {
  let path = `/assets/catalogs/${DS.enc(doc.catalog_id)}`;
  if (doc.collection_id) path += `/collections/${DS.enc(doc.collection_id)}`;
  if (doc.item_id) path += `/items/${DS.enc(doc.item_id)}`;
  return `${path}/assets/${DS.enc(doc.id)}`;
};

/* The page link of an asset: #/asset/<catalog>/<collection|->/<item|->/<id>. */
DS.assetLink = (doc) =>
  `#/asset/${DS.enc(doc.catalog_id)}/${DS.enc(doc.collection_id || "-")}/${DS.enc(doc.item_id || "-")}/${DS.enc(doc.id)}`;

DS.fileName = function (doc) {
  const source = (doc.storage && doc.storage.key) || doc.href || "";
  return decodeURIComponent(source.split("?")[0].split("/").pop() || "");
};

/* <name>@<stamp><ext> (VERSIONS.md; the server's services/stac/rendering.VERSIONED_NAME). */
const VERSIONED = /^(.+)@([0-9][0-9A-Za-z:\-.]*?|latest)(\.[A-Za-z0-9]+)?$/;
DS.versionOf = function (doc) {
  const match = VERSIONED.exec(DS.fileName(doc));
  if (!match) return null;
  return { name: match[1], ext: match[3] || "", version: doc.version || match[2] };
};

DS.size = (bytes) =>
  bytes === null || bytes === undefined ? "" : bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;

let asked = 0;
async function refreshWhoami() {
  const label = document.getElementById("whoami");
  const mine = ++asked; // a slower answer for an older key is dropped
  try {
    const me = await DS.api("/auth/whoami", { keep: true });
    if (mine !== asked) return;
    DS.me = me;
    const scope = DS.me.catalogs ? ` in ${DS.me.catalogs.join(", ")}` : "";
    label.textContent = `${DS.me.key_id}: ${DS.me.role}${scope}`;
  } catch (error) {
    if (mine !== asked) return;
    DS.me = null;
    label.textContent = DS.key() ? `key refused: ${error.message}` : "no key: read-only where public";
  }
}
DS.refreshWhoami = refreshWhoami;

document.getElementById("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("api-key");
  if (input.value) sessionStorage.setItem(KEY_SLOT, input.value.trim());
  input.value = "";
  await refreshWhoami();
  DS.route();
});
document.getElementById("key-forget").addEventListener("click", async () => {
  sessionStorage.removeItem(KEY_SLOT);
  await refreshWhoami();
  DS.route();
});

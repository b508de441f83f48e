/* Hash routes: #/ #/catalog/c #/collection/c/col #/item/c/col/i #/asset/c/col|-/i|-/id #/search?q= #/ingest #/jobs */
"use strict";
(function () {
  const ROUTES = [
    [/^#?\/?$/, "home"],
    [/^#\/catalog\/([^/]+)$/, "catalog"],
    [/^#\/collection\/([^/]+)\/([^/]+)$/, "collection"],
    [/^#\/item\/([^/]+)\/([^/]+)\/([^/]+)$/, "item"],
    [/^#\/asset\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/, "asset"],
    [/^#\/ingest$/, "ingest"],
    [/^#\/jobs$/, "jobs"],
  ];

  DS.route = async function () {
    DS.timers.splice(0).forEach(clearTimeout);
    const generation = (DS.generation += 1);
    const hash = location.hash;
    const [path, query] = hash.split("?");
    const view = document.getElementById("view");
    view.setAttribute("aria-busy", "true");
    view.removeAttribute("data-shown");
    try {
      if (path === "#/search") {
        await DS.views.search(new URLSearchParams(query || ""));
      } else {
        const found = ROUTES.map(([pattern, name]) => [pattern.exec(path), name]).find(([m]) => m);
        if (!found) return DS.show(DS.el("p", {}, "No such page. "), DS.el("a", { href: "#/" }, "Start over"));
        await DS.views[found[1]](...found[0].slice(1).map(decodeURIComponent));
      }
    } catch (error) {
      if (generation === DS.generation) DS.fail(error);
    } finally {
      /* Only the newest route marks the view ready; data-shown names the hash it shows (tests wait on it). */
      if (generation === DS.generation) {
        view.removeAttribute("aria-busy");
        view.setAttribute("data-shown", hash);
      }
    }
  };

  window.addEventListener("hashchange", DS.route);
  DS.refreshWhoami().then(DS.route);
})();

/* The map: Leaflet with no base layer (nothing from the internet), a 30° graticule, the footprints of
   items and one marker per asset (at its bbox's centre, else its item's). Markers carry the class
   `asset-marker` (assets) or `item-marker` (items). */
"use strict";
(function () {
  const map = L.map("map", { worldCopyJump: true, attributionControl: false }).setView([20, 0], 1);
  const grid = { color: "#9fb3c8", weight: 0.6, interactive: false };
  for (let lon = -180; lon <= 180; lon += 30) L.polyline([[-85, lon], [85, lon]], grid).addTo(map);
  for (let lat = -60; lat <= 60; lat += 30) L.polyline([[lat, -180], [lat, 180]], grid).addTo(map);
  const shapes = L.featureGroup().addTo(map);
  const markers = L.featureGroup().addTo(map);
  let box = null;

  const centre = (bbox) => [(bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2];

  function fit() {
    const bounds = L.featureGroup([shapes, markers]).getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 8, padding: [20, 20] });
  }

  function popup(title, href) {
    const link = document.createElement("a");
    link.href = href;
    link.textContent = title;
    return link;
  }

  DS.map = {
    clear() {
      shapes.clearLayers();
      markers.clearLayers();
    },
    /* items: STAC Features; each gets its footprint and an item marker linking to its page. */
    items(features, catalogId) {
      for (const feature of features) {
        if (feature.geometry) L.geoJSON(feature.geometry, { style: { color: "#2a6fb0", weight: 1 } }).addTo(shapes);
        if (!feature.bbox) continue;
        const href = `#/item/${DS.enc(catalogId)}/${DS.enc(feature.collection)}/${DS.enc(feature.id)}`;
        L.circleMarker(centre(feature.bbox), { radius: 6, className: "item-marker", color: "#2a6fb0" })
          .bindPopup(popup(feature.id, href)).addTo(markers);
      }
      fit();
    },
    /* entries: [{doc, bbox}] (bbox: the asset's or its item's); one marker each. */
    assets(entries) {
      for (const { doc, bbox } of entries) {
        if (!bbox) continue;
        L.circleMarker(centre(bbox), { radius: 7, className: "asset-marker", color: "#d9480f", fillOpacity: 0.7 })
          .bindPopup(popup(doc.title || DS.fileName(doc) || doc.id, DS.assetLink(doc))).addTo(markers);
      }
      fit();
    },
    /* Two clicks on the map set a bbox; done([west, south, east, north]). */
    drawBox(done) {
      const corners = [];
      document.getElementById("map").style.cursor = "crosshair";
      map.on("click", function pick(event) {
        corners.push(event.latlng);
        if (corners.length < 2) return;
        map.off("click", pick);
        document.getElementById("map").style.cursor = "";
        const bounds = L.latLngBounds(corners);
        if (box) box.remove();
        box = L.rectangle(bounds, { color: "#f0a202", weight: 2, fill: false, interactive: false }).addTo(map);
        const r = (v) => Math.round(v * 1000) / 1000;
        done([r(bounds.getWest()), r(bounds.getSouth()), r(bounds.getEast()), r(bounds.getNorth())]);
      });
    },
  };

  /* Where to put assets: their own bbox, else their item's (asked once per item and page). */
  const itemBoxes = new Map();
  DS.placeAssets = async function (docs) {
    const entries = [];
    for (const doc of docs) {
      let bbox = doc.bbox || null;
      if (!bbox && doc.item_id && doc.collection_id) {
        const key = `${doc.catalog_id}/${doc.collection_id}/${doc.item_id}`;
        if (!itemBoxes.has(key)) {
          const path = `/stac/catalogs/${DS.enc(doc.catalog_id)}/collections/${DS.enc(doc.collection_id)}/items/${DS.enc(doc.item_id)}`;
          const item = await DS.api(path).catch(() => null);
          if (itemBoxes.size > 500) itemBoxes.clear();
          itemBoxes.set(key, (item && item.bbox) || null);
        }
        bbox = itemBoxes.get(key);
      }
      entries.push({ doc, bbox });
    }
    DS.map.assets(entries);
    return entries;
  };
})();

// CivicGrid's map module: draws a jurisdiction's areas and grid cells with Leaflet (served locally from the
// xstatic-leaflet package). The base map is optional (MAP_TILE_URL); without it the shapes are drawn on a
// blank background, so the page works offline. Everything shown here is also in the page's tables.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(d.tileUrl) });
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { maxZoom: 19, attribution: d.tileAttribution || "" }).addTo(map);
  }
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }
  var areas = L.featureGroup().addTo(map);
  var cells = L.featureGroup().addTo(map);
  L.control.layers(null, {}, { collapsed: true });
  Promise.all([getJson(d.boundaries), getJson(d.cells)]).then(function (results) {
    L.geoJSON(results[0], {
      style: function (f) {
        return f.properties.role === "self"
          ? { color: "#0b5cad", weight: 3, fill: false }
          : { color: "#57606a", weight: 1.5, dashArray: "4 3", fillOpacity: 0.03 };
      },
      onEachFeature: function (f, layer) {
        if (f.properties.role === "child") {
          layer.bindTooltip(escapeHtml(f.properties.name), { sticky: true });
          layer.on("click", function () { window.location.search = "?j=" + encodeURIComponent(f.properties.code); });
        }
      }
    }).addTo(areas);
    L.geoJSON(results[1], {
      style: { color: "#1a7f37", weight: 1, fillColor: "#2da44e", fillOpacity: 0.12 },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(
          "<strong>" + escapeHtml(p.name) + "</strong><br><small>" + escapeHtml(p.code) + " · " + escapeHtml(p.community) + "</small><br>" +
          escapeHtml(d.labelLeader) + ": " + escapeHtml(p.leader || "—") + "<br>" +
          escapeHtml(d.labelWorkers) + ": " + escapeHtml((p.workers || []).join("、") || "—") + "<br>" +
          escapeHtml(d.labelHouseholds) + ": " + escapeHtml(p.households)
        );
      }
    }).addTo(cells);
    var bounds = areas.getBounds();
    if (!bounds.isValid()) { bounds = cells.getBounds(); }
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); } else { map.setView([28.1, 112.98], 11); }
    el.setAttribute("data-loaded", String(results[1].features.length));
  }).catch(function (err) {
    el.setAttribute("data-error", String(err));
    map.setView([28.1, 112.98], 11);
  });
})();

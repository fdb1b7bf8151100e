// The case page's small map: the case's point, on the base map when one is configured (MAP_TILE_URL);
// without it, the point alone on a blank background — the page works offline.
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var point = [parseFloat(d.lat), parseFloat(d.lon)];
  var map = L.map(el, { attributionControl: Boolean(d.tileUrl), keyboard: false }).setView(point, 16);
  if (d.tileUrl) { L.tileLayer(d.tileUrl, { maxZoom: 19, attribution: d.tileAttribution || "" }).addTo(map); }
  L.circleMarker(point, { radius: 8, color: "#b42318", weight: 3, fillOpacity: 0.6, interactive: false }).addTo(map);
  el.setAttribute("data-loaded", "1");
})();

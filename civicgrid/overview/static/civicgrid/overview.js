// The leaders' overview map: the area's outline, squares coloured by how many open cases lie in each
// (counted by the server over all of them: no heat-map plugin is available offline) and the newest open
// cases as dots, overdue ones in red. Leaflet is served locally from the xstatic-leaflet package; without
// MAP_TILE_URL everything is drawn on a blank background. The page's tables hold the same facts.
(function () {
  "use strict";
  var el = document.getElementById("overview-map");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(d.tileUrl) });
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { maxZoom: 19, attribution: d.tileAttribution || "" }).addTo(map);
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  // Popups are built from elements and textContent: titles are what residents typed.
  function casePopup(p) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.number;
    var head = document.createElement("strong");
    head.appendChild(link);
    box.appendChild(head);
    var title = document.createElement("div");
    title.textContent = p.title;
    box.appendChild(title);
    var meta = document.createElement("small");
    var parts = [p.status];
    if (p.due) { parts.push(d.labelDue + " " + p.due); }
    if (p.overdue) { parts.push(d.labelOverdue); }
    meta.textContent = parts.join(" · ");
    box.appendChild(meta);
    return box;
  }

  function dot(feature, latlng) {
    var late = feature.properties.overdue;
    return L.circleMarker(latlng, {
      radius: late ? 6 : 4,
      color: "#ffffff",
      weight: 1,
      fillColor: late ? "#d1242f" : "#0b5cad",
      fillOpacity: 0.9,
      className: late ? "case-point case-overdue" : "case-point"
    });
  }

  function legend(data) {
    var list = document.getElementById("map-legend");
    if (list) {
      (data.legend || []).forEach(function (cls) {
        var item = document.createElement("li");
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.setAttribute("aria-hidden", "true");
        swatch.style.background = cls.colour;
        item.appendChild(swatch);
        var range = cls.from === cls.to ? String(cls.to) : cls.from + "–" + cls.to;
        item.appendChild(document.createTextNode(range + " " + d.labelSquare));
        list.appendChild(item);
      });
    }
    var status = document.getElementById("map-status");
    if (status) {
      var text = fill(d.labelShown, { shown: data.shown, total: data.open_located });
      if (data.square_m) { text += " " + fill(d.labelSquareSize, { m: data.square_m }); }
      status.textContent = text;
    }
  }

  fetch(d.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) { throw new Error(d.src + ": " + r.status); }
      return r.json();
    })
    .then(function (data) {
      var area = L.featureGroup();
      if (data.area) {
        L.geoJSON(data.area, { style: { color: "#0b5cad", weight: 2, fill: false }, interactive: false }).addTo(area);
      }
      var heat = L.geoJSON(data.heat, {
        style: function (f) {
          return { color: "#7a5a00", weight: 0.5, fillColor: f.properties.colour, fillOpacity: 0.6, className: "heat-square" };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(escapeHtml(f.properties.count + " " + d.labelSquare), { sticky: true });
        }
      });
      var open = L.geoJSON(null, { pointToLayer: dot, onEachFeature: function (f, layer) { layer.bindPopup(casePopup(f.properties)); } });
      var overdue = L.geoJSON(null, { pointToLayer: dot, onEachFeature: function (f, layer) { layer.bindPopup(casePopup(f.properties)); } });
      data.features.forEach(function (f) { (f.properties.overdue ? overdue : open).addData(f); });
      area.addTo(map);
      heat.addTo(map);
      open.addTo(map);
      overdue.addTo(map);  // last: red dots stay on top
      var overlays = {};
      overlays[escapeHtml(d.labelHeat)] = heat;
      overlays[escapeHtml(d.labelPoints)] = open;
      overlays[escapeHtml(d.labelOverduePoints)] = overdue;
      overlays[escapeHtml(d.labelArea)] = area;
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
      var bounds = area.getBounds();
      if (!bounds.isValid()) { bounds = heat.getBounds(); }
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); } else { map.setView([28.1, 112.98], 11); }
      legend(data);
      el.setAttribute("data-overdue", String(data.overdue_shown));
      el.setAttribute("data-squares", String(data.heat.features.length));
      el.setAttribute("data-loaded", String(data.shown));
    })
    .catch(function (err) {
      el.setAttribute("data-error", String(err));
      map.setView([28.1, 112.98], 11);
    });
})();

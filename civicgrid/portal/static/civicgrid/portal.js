// The resident portal: put a pin on the map (sets the hidden lon/lat fields and asks htmx for similar
// requests nearby), use the phone's location, copy and print the receipt. Without JavaScript the form
// works with the address and the street/community select alone.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = button.getAttribute("data-copied") || button.textContent;
      });
    });
  });

  var el = document.getElementById("report-map");
  if (!el || typeof L === "undefined") { return; }
  var block = el.closest(".map-block");
  if (block) { block.hidden = false; }
  var d = el.dataset;
  var lonInput = document.getElementById("id_lon");
  var latInput = document.getElementById("id_lat");
  var status = document.getElementById("pin-status");
  var clearButton = document.getElementById("pin-clear");
  var locateButton = document.getElementById("pin-locate");
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(d.tileUrl) });
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { maxZoom: 19, attribution: d.tileAttribution || "" }).addTo(map);
  }
  var shapes = null;
  var areaData = document.getElementById("portal-area");
  var area = areaData ? JSON.parse(areaData.textContent) : null;
  if (area) {
    shapes = L.geoJSON(area, {
      interactive: false,
      style: function (f) {
        return f.properties.role === "area"
          ? { color: "#0b5cad", weight: 3, fill: false }
          : { color: "#57606a", weight: 1, dashArray: "4 3", fillOpacity: 0.03 };
      },
      onEachFeature: function (f, layer) {
        if (f.properties.role === "part") {
          var label = document.createElement("span");
          label.textContent = String(f.properties.name);  // names are data: never parsed as HTML
          layer.bindTooltip(label, { permanent: true, direction: "center", className: "portal-label" });
        }
      }
    }).addTo(map);
  }
  if (shapes && shapes.getBounds().isValid()) {
    map.fitBounds(shapes.getBounds(), { padding: [6, 6] });
  } else if (d.centerLon && d.centerLat) {
    map.setView([parseFloat(d.centerLat), parseFloat(d.centerLon)], 13);
  } else {
    map.setView([28.1, 112.98], 11);
  }

  // Street names only once zoomed in far enough to read them without overlapping.
  function labels() { el.classList.toggle("labels-hidden", map.getZoom() < 13); }
  map.on("zoomend", labels);
  labels();

  var pin = null;
  function announce(text) { if (status) { status.textContent = text; } }
  function changed() { document.body.dispatchEvent(new CustomEvent("pinned")); }
  function place(lat, lon, message) {
    lonInput.value = lon.toFixed(6);
    latInput.value = lat.toFixed(6);
    if (pin) { pin.setLatLng([lat, lon]); } else {
      pin = L.circleMarker([lat, lon], { radius: 9, color: "#ffffff", weight: 3, fillColor: "#b42318", fillOpacity: 1 }).addTo(map);
    }
    if (clearButton) { clearButton.hidden = false; }
    el.setAttribute("data-pinned", "true");
    announce(message);
    changed();
  }
  map.on("click", function (event) { place(event.latlng.lat, event.latlng.lng, d.labelPinned); });
  if (clearButton) {
    clearButton.addEventListener("click", function () {
      if (pin) { map.removeLayer(pin); pin = null; }
      lonInput.value = "";
      latInput.value = "";
      clearButton.hidden = true;
      el.removeAttribute("data-pinned");
      announce(d.labelCleared);
      changed();
    });
  }
  if (locateButton) {
    if (!navigator.geolocation) { locateButton.hidden = true; } else {
      locateButton.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (position) {
          place(position.coords.latitude, position.coords.longitude, d.labelLocated);
          map.setView([position.coords.latitude, position.coords.longitude], Math.max(map.getZoom(), 16));
        }, function () { announce(d.labelNolocation); }, { timeout: 10000 });
      });
    }
  }
  // A form shown again after an error keeps its point: draw it.
  var lon0 = parseFloat(lonInput.value), lat0 = parseFloat(latInput.value);
  if (!isNaN(lon0) && !isNaN(lat0)) {
    pin = L.circleMarker([lat0, lon0], { radius: 9, color: "#ffffff", weight: 3, fillColor: "#b42318", fillOpacity: 1 }).addTo(map);
    if (clearButton) { clearButton.hidden = false; }
    el.setAttribute("data-pinned", "true");
  }
  el.setAttribute("data-ready", "true");
})();

// The grid worker's screens: a small Leaflet map of the cell with its open cases, picking a point on the
// report form's map, and "use my location" (the phone's GPS). Everything here has a plain-HTML
// equivalent on the page (the case list, the longitude/latitude/address fields), so the forms work
// without JavaScript and without a base map (MAP_TILE_URL may be empty: shapes on a blank background).
(function () {
  "use strict";

  function byId(id) { return id ? document.getElementById(id) : null; }

  function readData(el) {
    var source = byId(el.dataset.source);
    if (!source) { return {}; }
    try { return JSON.parse(source.textContent); } catch (e) { return {}; }
  }

  // A popup built from DOM nodes with textContent: nothing a user typed is ever parsed as HTML.
  function casePopup(item, openLabel) {
    var box = document.createElement("div");
    var number = document.createElement("div");
    number.textContent = item.number;
    var title = document.createElement("strong");
    title.textContent = item.title;
    var status = document.createElement("div");
    status.textContent = item.status;
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = openLabel;
    box.appendChild(number);
    box.appendChild(title);
    box.appendChild(status);
    box.appendChild(link);
    return box;
  }

  function drawMap(el) {
    if (typeof L === "undefined") { return null; }
    var d = el.dataset;
    var data = readData(el);
    var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: Boolean(d.tileUrl) });
    if (d.tileUrl) {
      L.tileLayer(d.tileUrl, { maxZoom: 19, attribution: d.tileAttribution || "" }).addTo(map);
    }
    var cells = L.geoJSON(null, {
      style: { color: "#0b5cad", weight: 2, fillColor: "#0b5cad", fillOpacity: 0.06 }
    }).addTo(map);
    (data.cells || []).forEach(function (cell) {
      cells.addData({ type: "Feature", geometry: cell.boundary, properties: { code: cell.code, name: cell.name } });
    });
    var points = L.featureGroup().addTo(map);
    (data.cases || []).forEach(function (item) {
      var marker = L.circleMarker([item.lat, item.lon], {
        radius: 9, color: "#ffffff", weight: 2, fillOpacity: 1,
        fillColor: item.late ? "#b42318" : "#0b5cad"
      });
      marker.bindPopup(casePopup(item, d.labelOpen || ""));
      marker.addTo(points);
    });
    var bounds = cells.getBounds();
    if (!bounds.isValid()) { bounds = points.getBounds(); }
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); } else { map.setView([28.1, 112.98], 12); }
    el.setAttribute("data-loaded", String(points.getLayers().length));
    return map;
  }

  // The report form: a tap on the map, a typed coordinate or the GPS all set the same two fields.
  function positionPicker(map, el) {
    var lon = byId(el.dataset.pickLon);
    var lat = byId(el.dataset.pickLat);
    if (!lon || !lat) { return null; }
    var marker = null;
    function show(latlng, recentre) {
      if (!map) { return; }
      if (!marker) {
        marker = L.circleMarker(latlng, { radius: 10, color: "#ffffff", weight: 3, fillColor: "#b42318", fillOpacity: 1 }).addTo(map);
      } else {
        marker.setLatLng(latlng);
      }
      if (recentre) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
      el.setAttribute("data-point", latlng[1] + "," + latlng[0]);
    }
    function fromFields(recentre) {
      var x = parseFloat(lon.value);
      var y = parseFloat(lat.value);
      if (isFinite(x) && isFinite(y)) { show([y, x], recentre); }
    }
    function set(lonValue, latValue) {
      lon.value = lonValue.toFixed(6);
      lat.value = latValue.toFixed(6);
    }
    if (map) {
      map.on("click", function (e) {
        set(e.latlng.lng, e.latlng.lat);
        show([e.latlng.lat, e.latlng.lng], false);
      });
    }
    lon.addEventListener("change", function () { fromFields(true); });
    lat.addEventListener("change", function () { fromFields(true); });
    fromFields(false);
    return { set: set, show: show };
  }

  function locateButton(picker) {
    var button = byId("locate");
    var status = byId("locate-status");
    if (!button || !("geolocation" in navigator)) { return; }
    var d = button.dataset;
    var lon = byId(d.lon);
    var lat = byId(d.lat);
    if (!lon || !lat) { return; }
    button.hidden = false;
    function say(text) { if (status) { status.textContent = text; } }
    button.addEventListener("click", function () {
      button.disabled = true;
      say(d.busy);
      navigator.geolocation.getCurrentPosition(function (position) {
        var x = position.coords.longitude;
        var y = position.coords.latitude;
        lon.value = x.toFixed(6);
        lat.value = y.toFixed(6);
        if (picker) { picker.show([y, x], true); }
        say(d.done.replace("{metres}", String(Math.round(position.coords.accuracy || 0))));
        button.disabled = false;
      }, function (error) {
        say(error && error.code === 1 ? d.denied : d.failed);
        button.disabled = false;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  var home = byId("field-map");
  if (home) { drawMap(home); }
  var reportMap = byId("report-map");
  var picker = null;
  if (reportMap) {
    var map = drawMap(reportMap);
    picker = positionPicker(map, reportMap);
  }
  locateButton(picker);
})();

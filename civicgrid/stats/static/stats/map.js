// The statistics map (docs/statistics.md, "Map"): the area's grid cells coloured by the chosen figure of the
// period, or squares showing where the period's requests came from. The server computes everything
// (/stats/map.json: the figures from the rollups, the classes and their legend, simplified shapes, the
// squares); this script only draws it. Leaflet is served locally from the xstatic-leaflet package; without
// MAP_TILE_URL the shapes are drawn on a blank background. The tables under the map hold the same figures
// and links, so the page works without this script; the figure selector switches those tables too.
(function () {
  "use strict";
  var el = document.getElementById("stats-map");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var select = document.getElementById("map-figure");
  var layerBox = document.getElementById("map-layers");
  var legendList = document.getElementById("stats-map-legend");
  var status = document.getElementById("stats-map-status");
  var showButton = document.getElementById("map-show");

  // The script is here: show the map and the layer switch; the figure applies as soon as it is chosen.
  el.hidden = false;
  if (layerBox) { layerBox.hidden = false; }
  if (showButton) { showButton.hidden = true; }

  var map = L.map(el, { zoomSnap: 0.25, attributionControl: Boolean(d.tileUrl) });
  if (d.tileUrl) {
    L.tileLayer(d.tileUrl, { maxZoom: 19, attribution: d.tileAttribution || "" }).addTo(map);
  }

  var data = null;
  var area = null;
  var cells = null;
  var heat = null;
  var figure = 0;

  function text(value) {
    var span = document.createElement("span");
    span.textContent = String(value);
    return span;
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  function sum(numbers, indexes) {
    return indexes.reduce(function (total, i) { return total + numbers[i]; }, 0);
  }

  function percent(numerator, denominator) {
    return (numerator / denominator * 100).toFixed(1) + "%";  // as the server's tables write it
  }

  function link(counter, code, text) {
    var a = document.createElement("a");
    a.href = data.links[counter].split(data.placeholder).join(encodeURIComponent(code));
    a.textContent = String(text);
    return a;
  }

  function labelled(box, label, counter, code, n) {
    box.appendChild(document.createTextNode(label + " "));
    box.appendChild(link(counter, code, n));
  }

  // Built from elements and textContent: names come from the grid import.
  function popup(p) {
    var f = data.figures[figure];
    var box = document.createElement("div");
    box.className = "cell-popup";
    var head = document.createElement("strong");
    head.textContent = p.name;
    box.appendChild(head);
    var meta = document.createElement("small");
    meta.textContent = " " + p.code + " · " + p.community;
    box.appendChild(meta);
    var value = document.createElement("div");
    value.className = "cell-figure";
    var parts = sum(p.n, f.parts);
    if (f.rate) {
      var denominator = p.n[f.denominator];
      value.textContent = f.label + ": " + (denominator ? percent(parts, denominator) : d.labelNoData);
      box.appendChild(value);
      var ratio = document.createElement("div");
      ratio.className = "cell-ratio";
      f.parts.forEach(function (i, at) {
        if (at) { ratio.appendChild(document.createTextNode(" + ")); }
        labelled(ratio, data.counters[i].label, i, p.code, p.n[i]);
      });
      ratio.appendChild(document.createTextNode(" / "));
      labelled(ratio, data.counters[f.denominator].label, f.denominator, p.code, denominator);
      box.appendChild(ratio);
    } else if (f.parts.length === 1) {
      labelled(value, f.label + ":", f.parts[0], p.code, parts);
      box.appendChild(value);
    } else {
      value.textContent = f.label + ": " + parts;
      box.appendChild(value);
      var list = document.createElement("div");
      list.className = "cell-parts";
      f.parts.forEach(function (i, at) {
        if (at) { list.appendChild(document.createTextNode(" · ")); }
        labelled(list, data.counters[i].label, i, p.code, p.n[i]);
      });
      box.appendChild(list);
    }
    return box;
  }

  function cellStyle(feature) {
    var k = feature.properties.k[figure];
    if (k === null) {
      return { color: "#57606a", weight: 1, dashArray: "3 3", fillColor: data.no_data, fillOpacity: 0.8, className: "grid-cell no-data" };
    }
    return { color: "#57606a", weight: 0.6, fillColor: data.figures[figure].legend[k].colour, fillOpacity: 0.8, className: "grid-cell" };
  }

  function swatch(colour, text, dashed) {
    var item = document.createElement("li");
    var mark = document.createElement("span");
    mark.className = "swatch" + (dashed ? " no-data" : "");
    mark.setAttribute("aria-hidden", "true");
    mark.style.background = colour;
    item.appendChild(mark);
    item.appendChild(document.createTextNode(text));
    return item;
  }

  function showLegend(heatShown) {
    legendList.textContent = "";
    var title = document.createElement("li");
    title.className = "legend-title";
    legendList.appendChild(title);
    if (heatShown) {
      title.textContent = d.labelSquares + ":";
      data.heat.legend.forEach(function (c) {
        legendList.appendChild(swatch(c.colour, c.from === c.to ? String(c.to) : c.from + "–" + c.to, false));
      });
      status.textContent = fill(d.labelHeatStatus, { located: data.heat.located, m: data.heat.square_m });
    } else {
      var f = data.figures[figure];
      title.textContent = f.label + ":";
      f.legend.forEach(function (c) {
        legendList.appendChild(swatch(c.colour, c.label, c.colour === data.no_data));
      });
      status.textContent = fill(d.labelCellsStatus, {
        cells: data.cells.features.length, in_cells: data.in_cells, received: data.received
      });
    }
    legendList.hidden = false;
  }

  function onHeat() {
    var checked = document.querySelector('input[name="map-layer"]:checked');
    return Boolean(checked && checked.value === "heat");
  }

  function showLayer() {
    var heatWanted = onHeat();
    if (heatWanted) { map.removeLayer(cells); heat.addTo(map); } else { map.removeLayer(heat); cells.addTo(map); }
    area.bringToFront();  // the outline over the shapes (it takes no clicks)
    el.setAttribute("data-layer", heatWanted ? "heat" : "cells");
    showLegend(heatWanted);
  }

  function showFigure() {
    var code = select ? select.value : data.figures[0].code;
    data.figures.forEach(function (f, i) { if (f.code === code) { figure = i; } });
    // setStyle keeps the className for the next time a path is made; the live paths change here.
    cells.eachLayer(function (layer) {
      var style = cellStyle(layer.feature);
      layer.setStyle(style);
      var path = layer.getElement();
      if (path) { path.setAttribute("class", style.className + " leaflet-interactive"); }
    });
    map.closePopup();
    document.querySelectorAll(".map-table").forEach(function (table) {
      table.hidden = table.getAttribute("data-figure") !== code;
    });
    if (window.history && window.history.replaceState) {
      var url = new URL(window.location.href);
      url.searchParams.set("fig", code);
      window.history.replaceState(null, "", url.toString());
    }
    el.setAttribute("data-figure", code);
    showLegend(onHeat());
  }

  fetch(d.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) { throw new Error(d.src + ": " + r.status); }
      return r.json();
    })
    .then(function (answer) {
      data = answer;
      area = L.featureGroup();
      if (data.area) {
        L.geoJSON(data.area, { style: { color: "#0b5cad", weight: 2, fill: false }, interactive: false }).addTo(area);
      }
      cells = L.geoJSON(data.cells, {
        style: cellStyle,
        onEachFeature: function (f, layer) {
          layer.bindPopup(function () { return popup(f.properties); });
          layer.bindTooltip(function () { return text(f.properties.name); }, { sticky: true });
          layer.on("add", function () {
            var path = layer.getElement();
            if (path) { path.setAttribute("data-code", f.properties.code); }
          });
        }
      });
      heat = L.geoJSON(data.heat, {
        style: function (f) {
          return { color: "#7a5a00", weight: 0.5, fillColor: f.properties.colour, fillOpacity: 0.7, className: "heat-square" };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(function () { return text(fill(d.labelSquare, { n: f.properties.count })); }, { sticky: true });
        }
      });
      area.addTo(map);
      var bounds = area.getBounds();
      if (!bounds.isValid()) { bounds = cells.getBounds(); }
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); } else { map.setView([28.1, 112.98], 11); }
      showLayer();
      showFigure();
      if (select) { select.addEventListener("change", showFigure); }
      document.querySelectorAll('input[name="map-layer"]').forEach(function (radio) {
        radio.addEventListener("change", showLayer);
      });
      el.setAttribute("data-cells", String(data.cells.features.length));
      el.setAttribute("data-squares", String(data.heat.features.length));
      el.setAttribute("data-loaded", "true");
    })
    .catch(function (err) {
      el.setAttribute("data-error", String(err));
      map.setView([28.1, 112.98], 11);
    });
})();

/* The small map on a case page: one marker at the incident's place.

   The page provides <div id="case-map" data-tile-url data-attribution> and a JSON block
   (#case-map-data, from Django's json_script) with latitude, longitude, zoom, name and
   precision. No inline script or style: the Content Security Policy forbids both. Without
   JavaScript, or if Leaflet fails to load, the caption under the map still says where. */
(function () {
  "use strict";

  function drawCaseMap() {
    var container = document.getElementById("case-map");
    var dataBlock = document.getElementById("case-map-data");
    if (!container || !dataBlock || typeof window.L === "undefined") {
      return;
    }
    var point = JSON.parse(dataBlock.textContent);
    var position = [point.latitude, point.longitude];

    container.classList.add("case-map-ready");
    var map = window.L.map(container, { scrollWheelZoom: false }).setView(position, point.zoom);
    window.L.tileLayer(container.dataset.tileUrl, {
      attribution: container.dataset.attribution,
      maxZoom: 18,
    }).addTo(map);

    // A circle rather than a pin: most coordinates are a city's or a country's centre, and
    // a pin would claim a precision the data does not have.
    // Leaflet puts a string tooltip in as HTML; a text node keeps a place name as text.
    var label = document.createElement("span");
    label.textContent = point.precision ? point.name + " (" + point.precision + ")" : point.name;
    window.L.circleMarker(position, { radius: 9, weight: 2 })
      .addTo(map)
      .bindTooltip(label);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCaseMap);
  } else {
    drawCaseMap();
  }
})();

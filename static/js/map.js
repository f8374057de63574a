/* The map of the case list (/incidents/): one circle per place, sized by the people
   detained there, with the cases at that place in its popup.

   The page provides <div id="list-map" hidden data-points data-tile-url data-attribution>
   and a JSON block (Django's json_script) with the points:
   [{lat, lon, title, url, date, count, count_label}]. No inline script or style: the Content Security
   Policy forbids both, and Leaflet's own styling goes through the CSSOM, which it allows.
   Without JavaScript the box stays hidden and the place list in the filters serves. */
(function () {
  "use strict";

  // Cases at exactly the same coordinates (a city's centre) share one circle.
  function groupByPosition(points) {
    var groups = {};
    var order = [];
    points.forEach(function (point) {
      var key = point.lat.toFixed(5) + "," + point.lon.toFixed(5);
      if (!groups[key]) {
        groups[key] = { lat: point.lat, lon: point.lon, count: 0, cases: [] };
        order.push(key);
      }
      groups[key].count += point.count;
      groups[key].cases.push(point);
    });
    return order.map(function (key) {
      return groups[key];
    });
  }

  // Built from DOM nodes with textContent: titles are data, never HTML.
  function popupContent(group) {
    var list = document.createElement("ul");
    list.className = "list-map-popup";
    group.cases.forEach(function (point) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = point.url;
      link.textContent = point.title;
      item.appendChild(link);
      var facts = [point.date, point.count ? point.count_label : ""].filter(Boolean);
      if (facts.length) {
        var meta = document.createElement("span");
        meta.className = "list-map-popup-meta";
        meta.textContent = facts.join(" · ");
        item.appendChild(meta);
      }
      list.appendChild(item);
    });
    return list;
  }

  function radiusFor(count) {
    // Area grows with the number of people, within readable bounds.
    return Math.max(6, Math.min(28, 5 + 3 * Math.sqrt(count)));
  }

  function drawListMap() {
    var container = document.getElementById("list-map");
    if (!container || typeof window.L === "undefined") {
      return;
    }
    var dataBlock = document.getElementById(container.dataset.points);
    if (!dataBlock) {
      return;
    }
    var points = JSON.parse(dataBlock.textContent);
    if (!points.length) {
      return;
    }
    container.hidden = false;
    var L = window.L;
    var map = L.map(container, { scrollWheelZoom: false });
    L.tileLayer(container.dataset.tileUrl, {
      attribution: container.dataset.attribution,
      maxZoom: 18,
    }).addTo(map);

    var bounds = [];
    groupByPosition(points).forEach(function (group) {
      var position = [group.lat, group.lon];
      bounds.push(position);
      L.circleMarker(position, {
        radius: radiusFor(group.count),
        weight: 2,
        color: "#083a66",
        fillColor: "#0b4f8a",
        fillOpacity: 0.45,
      })
        .addTo(map)
        .bindPopup(popupContent(group));
    });
    // Fit the cases into view, and again whenever the box changes size (a phone turned,
    // a window resized, the layout settling after load) until the reader moves the map.
    var fitting = false;
    var readerMoved = false;
    function fit() {
      fitting = true;
      if (bounds.length === 1) {
        map.setView(bounds[0], 6, { animate: false });
      } else {
        map.fitBounds(bounds, { padding: [30, 30], maxZoom: 8, animate: false });
      }
      fitting = false;
    }
    map.on("dragstart", function () {
      readerMoved = true;
    });
    map.on("zoomend", function () {
      if (!fitting) {
        readerMoved = true;
      }
    });
    fit();
    if (typeof window.ResizeObserver !== "undefined") {
      new window.ResizeObserver(function () {
        map.invalidateSize({ animate: false });
        if (!readerMoved) {
          fit();
        }
      }).observe(container);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawListMap);
  } else {
    drawListMap();
  }
})();

// The case's pin on OpenStreetMap tiles (they load in the browser when it is online; the pin shows anyway).
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el).setView(at, 16);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
              {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  L.marker(at).addTo(map);
})();

// The case's pin on the deployment's map tiles (map.tile_url; they load in the browser when it is online; the
// pin shows anyway). Tiles get only this site's origin as Referer (OpenStreetMap refuses requests without one).
(function () {
  var el = document.getElementById("map");
  var me = document.currentScript;
  if (!el || !window.L) return;
  var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el).setView(at, 16);
  if (me && me.dataset.tiles) {
    L.tileLayer(me.dataset.tiles, {maxZoom: 19, attribution: me.dataset.attribution || "",
                                   referrerPolicy: "strict-origin"}).addTo(map);
  }
  L.marker(at).addTo(map);
})();

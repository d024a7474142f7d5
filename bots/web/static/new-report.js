// The new-report form: a click on the map fills latitude and longitude (and moves the pin); choosing the type
// ticks its agencies. Without this script the fields are typed and the type's agencies apply by default.
(function () {
  var me = document.currentScript;
  var form = document.getElementById("new-report");
  if (!form) return;
  var type = document.getElementById("incident_type");
  var lat = document.getElementById("latitude"), lon = document.getElementById("longitude");
  type.addEventListener("change", function () {
    var picked = type.options[type.selectedIndex];
    var wanted = ((picked && picked.dataset.agencies) || "").split(",");
    form.querySelectorAll('input[name="agencies"]').forEach(function (box) {
      box.checked = wanted.indexOf(box.value) >= 0;
    });
  });
  var el = document.getElementById("pick-map");
  if (!el || !window.L) return;
  var map = L.map(el).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 10);
  if (me && me.dataset.tiles) {
    L.tileLayer(me.dataset.tiles, {maxZoom: 19, attribution: me.dataset.attribution || "",
                                   referrerPolicy: "strict-origin"}).addTo(map);
  }
  var pin = null;
  function place(at) {
    if (pin) { pin.setLatLng(at); } else { pin = L.marker(at).addTo(map); }
  }
  if (lat.value && lon.value) {
    var at = [parseFloat(lat.value), parseFloat(lon.value)];
    if (isFinite(at[0]) && isFinite(at[1])) { place(at); map.setView(at, 15); }
  }
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6);
    lon.value = e.latlng.lng.toFixed(6);
    place(e.latlng);
  });
})();

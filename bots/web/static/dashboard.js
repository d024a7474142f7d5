// The open-cases desk. Pushed updates: server-sent events from /dashboard/events make htmx fetch the rows again
// (the 30-second poll in the page is only the fallback). A new case announces itself: a beep once the operator
// has switched the sound on (browsers allow audio only after a gesture), the count in the tab title, and a
// desktop notification if allowed. An urgent report nobody has touched for 20 s sounds an alarm until someone
// acts. The overview map follows the table. Labels come from the page's data- attributes (the catalogs).
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  var rows = document.getElementById("rows");
  if (!desk || !rows || !window.htmx) return;
  var text = desk.dataset;
  var sound = document.getElementById("sound");
  var notify = document.getElementById("notify");
  var live = document.getElementById("live");
  var known = null;          // tickets on the table so far
  var audio = null;          // the AudioContext, made after a gesture
  var alarmTimer = null;
  var STORE = "siaga.sound";

  function refresh() { htmx.trigger(rows, "refresh"); }

  // --- pushed updates -------------------------------------------------------------------------------------
  var source = null;
  function setLive(on) {
    desk.dataset.live = on ? "on" : "off";
    if (live) live.textContent = on ? live.dataset.on : live.dataset.off;
  }
  function connect() {
    var state = document.getElementById("desk-state");
    var since = state ? state.dataset.signature : "";
    source = new EventSource("/dashboard/events?since=" + encodeURIComponent(since || ""));
    source.addEventListener("open", function () { setLive(true); });
    source.addEventListener("change", refresh);
    source.addEventListener("signedout", function () {
      source.close();
      window.location.assign("/dashboard/login");
    });
    source.addEventListener("error", function () {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) {  // refused (too many streams): try again later
        window.setTimeout(connect, 30000);
      }
    });
  }

  // --- sound ----------------------------------------------------------------------------------------------
  function soundOn() { return sound && sound.getAttribute("aria-pressed") === "true"; }
  function wakeAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }
  function beep(frequency, seconds, delay) {
    if (!audio || !soundOn()) return;
    var start = audio.currentTime + (delay || 0);
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.15, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + seconds);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(start);
    osc.stop(start + seconds);
  }
  function chime() { beep(880, 0.15, 0); beep(1320, 0.2, 0.18); }
  function siren() { beep(960, 0.25, 0); beep(720, 0.25, 0.3); beep(960, 0.25, 0.6); }
  function setSound(on) {
    sound.setAttribute("aria-pressed", on ? "true" : "false");
    sound.textContent = on ? text.soundOn : text.soundOff;
    try { window.localStorage.setItem(STORE, on ? "1" : "0"); } catch (e) { /* private mode */ }
    alarm();
  }
  if (sound) {
    sound.addEventListener("click", function () {
      var on = !soundOn();
      if (on) wakeAudio();
      setSound(on);
      if (on) chime();
    });
    var remembered = false;
    try { remembered = window.localStorage.getItem(STORE) === "1"; } catch (e) { /* private mode */ }
    if (remembered) {  // switched on before: the audio wakes at the first click or key on the page
      setSound(true);
      document.addEventListener("pointerdown", wakeAudio, {once: true});
      document.addEventListener("keydown", wakeAudio, {once: true});
    }
  }

  // --- desktop notifications ------------------------------------------------------------------------------
  function showNotify() {
    if (!notify || !("Notification" in window)) return;
    notify.hidden = false;
    if (Notification.permission === "granted") { notify.textContent = text.notifyOn; notify.disabled = true; }
    if (Notification.permission === "denied") { notify.textContent = text.notifyBlocked; notify.disabled = true; }
  }
  if (notify && "Notification" in window) {
    notify.addEventListener("click", function () {
      Notification.requestPermission().then(showNotify);
    });
    showNotify();
  }

  // --- what the table says --------------------------------------------------------------------------------
  function alarm() {
    var on = rows.querySelector("tr.alarm") !== null;
    desk.dataset.alarm = on ? "on" : "off";
    var sounding = on && soundOn();
    desk.dataset.sounding = sounding ? "on" : "off";
    if (sounding && !alarmTimer) {
      siren();
      alarmTimer = window.setInterval(siren, 2000);
    } else if (!sounding && alarmTimer) {
      window.clearInterval(alarmTimer);
      alarmTimer = null;
    }
  }
  function title() {
    var state = document.getElementById("desk-state");
    var need = state ? parseInt(state.dataset.need, 10) || 0 : 0;
    document.title = (need > 0 ? "(" + need + ") " : "") + text.title;
  }
  function announce() {
    var tickets = [];
    var fresh = [];
    rows.querySelectorAll("tr[data-ticket]").forEach(function (tr) {
      tickets.push(tr.dataset.ticket);
      if (known && !known.has(tr.dataset.ticket)) fresh.push(tr);
    });
    known = new Set(tickets);
    if (!fresh.length) return;
    desk.dataset.announced = String((parseInt(desk.dataset.announced, 10) || 0) + fresh.length);
    chime();
    if ("Notification" in window && Notification.permission === "granted") {
      fresh.forEach(function (tr) {
        new Notification(text.newCase + ": " + tr.dataset.ticket, {body: tr.dataset.type, tag: tr.dataset.ticket});
      });
    }
  }

  // --- overview map ---------------------------------------------------------------------------------------
  var mapEl = document.getElementById("overview");
  var map = null;
  var layer = null;
  function popup(d) {
    var box = document.createElement("div");
    var strong = document.createElement("strong");
    strong.textContent = d.ticket;
    box.appendChild(strong);
    [d.type, text.timeLeft + ": " + d.left].forEach(function (line) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
    box.appendChild(document.createElement("br"));
    var link = document.createElement("a");
    link.href = "/dashboard/cases/" + encodeURIComponent(d.ticket);
    link.textContent = text.open;
    box.appendChild(link);
    return box;
  }
  function drawMap() {
    if (!mapEl || !window.L) return;
    var points = [];
    rows.querySelectorAll("tr[data-lat]").forEach(function (tr) {
      points.push([parseFloat(tr.dataset.lat), parseFloat(tr.dataset.lon)]);
    });
    if (!map) {  // first drawn around the open cases, else the whole region; then the operator's own view
      map = L.map(mapEl);
      var b = mapEl.dataset.bounds.split(",").map(parseFloat);  // lat_min, lon_min, lat_max, lon_max
      if (points.length) map.fitBounds(points, {maxZoom: 14, padding: [24, 24]});
      else map.fitBounds([[b[0], b[1]], [b[2], b[3]]]);
      if (mapEl.dataset.tiles) {  // without tiles the markers show on a plain background
        L.tileLayer(mapEl.dataset.tiles, {maxZoom: 19, attribution: mapEl.dataset.attribution || "",
                                          referrerPolicy: "strict-origin"}).addTo(map);
      }
      layer = L.layerGroup().addTo(map);
    }
    layer.clearLayers();
    rows.querySelectorAll("tr[data-lat]").forEach(function (tr) {
      var d = tr.dataset;
      var kind = tr.classList.contains("alarm") ? " alarm" : tr.classList.contains("is-urgent") ? " urgent" : "";
      var icon = L.divIcon({className: "case-marker" + kind, iconSize: [18, 18]});
      L.marker([parseFloat(d.lat), parseFloat(d.lon)], {icon: icon, title: d.ticket, keyboard: true})
        .bindPopup(popup(d)).addTo(layer);
    });
  }

  function update() { title(); announce(); alarm(); drawMap(); }
  rows.addEventListener("htmx:afterSwap", update);
  update();
  connect();
})();

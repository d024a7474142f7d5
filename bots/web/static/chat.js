// The citizens' web chat: post what the citizen does, poll for what the bot says. No libraries, tiny on purpose.
(function () {
  var cfg = JSON.parse(document.getElementById("chat-config").textContent);
  var log = document.getElementById("log"), choices = document.getElementById("choices");
  var notice = document.getElementById("notice"), last = 0, seq = 0, expired = false;

  function id() { seq += 1; return Date.now().toString(36) + "-" + seq + "-" + Math.random().toString(36).slice(2, 8); }
  function bubble(text, mine) {
    var p = document.createElement("p");
    p.className = mine ? "me" : "bot";
    p.textContent = text;
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  }
  function expire() { expired = true; notice.textContent = cfg.expired; }  // 403: the server no longer knows this chat
  function post(body) {
    body.id = id(); body.lang = cfg.lang;
    return fetch("/chat/api/send", {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 403) expire();
        else if (r.status === 429) bubble(cfg.busy, false);  // too many from this network: said in the chat, it stays
        else notice.textContent = r.ok ? "" : cfg.offline;
      })
      .catch(function () { notice.textContent = cfg.offline; });
  }
  function show(messages) {
    messages.forEach(function (m) {
      if (m.text) bubble(m.text, false);
      choices.innerHTML = "";
      m.choices.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button"; b.textContent = c.label; b.dataset.choice = c.data;
        b.onclick = function () { bubble(c.label, true); choices.innerHTML = ""; post({kind: "choice", choice: c.data}); };
        choices.appendChild(b);
      });
      if (m.request_location) document.getElementById("locate").classList.add("ask");
    });
  }
  function poll() {
    fetch("/chat/api/messages?after=" + last).then(function (r) {
      if (r.status === 403) { expire(); return null; }
      return r.json();
    }).then(function (d) {
      if (d) { show(d.messages); last = d.last || last; notice.textContent = ""; }
    }).catch(function () { notice.textContent = cfg.offline; })
      .finally(function () { if (!expired) setTimeout(poll, 1500); });
  }
  document.getElementById("composer").onsubmit = function (e) {
    e.preventDefault();
    var input = document.getElementById("text"), text = input.value.trim();
    if (!text) return;
    bubble(text, true); input.value = ""; post({kind: "text", text: text});
  };
  document.getElementById("status").onclick = function () { bubble("/status", true); post({kind: "text", text: "/status"}); };
  document.getElementById("locate").onclick = function () {
    if (!navigator.geolocation) { notice.textContent = cfg.no_location; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      bubble("📍 " + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5), true);
      document.getElementById("locate").classList.remove("ask");
      post({kind: "location", lat: pos.coords.latitude, lon: pos.coords.longitude});
    }, function () { notice.textContent = cfg.no_location; }, {enableHighAccuracy: true, timeout: 15000});
  };
  document.getElementById("photo").onchange = function (e) {
    var file = e.target.files[0];
    if (!file) return;
    bubble("📷 " + file.name, true);
    fetch("/chat/api/photo?id=" + id() + "&lang=" + cfg.lang, {method: "POST", body: file,
                                                              headers: {"Content-Type": file.type || "application/octet-stream"}})
      .then(function (r) {
        if (r.status === 403) expire();
        else if (r.status === 429) bubble(cfg.busy, false);
        else if (r.status === 409) bubble(cfg.photo_not_now, false);  // no report asks for a photo now
      })
      .catch(function () { notice.textContent = cfg.offline; });
    e.target.value = "";
  };
  poll();
})();

// The citizens' web chat: post what the citizen does, poll for what the bot says. No libraries, tiny on purpose.
//
// Which buttons show: those of the latest bot message that has any (choices, a number field, a location button).
// A later message without buttons (a hint) leaves them as they are while the conversation's `stage` (a fingerprint
// the server sends with every poll) is unchanged; once the stage moves on (the report was sent, a new step began)
// they go. The shown message and its stage are kept in sessionStorage, so a reload (switching the page's
// language) shows them again.
(function () {
  var cfg = JSON.parse(document.getElementById("chat-config").textContent);
  var log = document.getElementById("log"), choices = document.getElementById("choices");
  var notice = document.getElementById("notice"), last = 0, seq = 0, expired = false;
  var KEY = "siaga-chat-buttons", held = load();

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  function hold(value) {
    held = value;
    try { if (value) sessionStorage.setItem(KEY, JSON.stringify(value)); else sessionStorage.removeItem(KEY); }
    catch (e) { /* private mode: the buttons just do not survive a reload */ }
  }
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
    body.id = id(); body.lang = cfg.lang;  // the page's language, on every post: switching the page switches the bot
    return fetch("/chat/api/send", {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 403) expire();
        else if (r.status === 429) bubble(cfg.busy, false);  // too many from this network: said in the chat, it stays
        else notice.textContent = r.ok ? "" : cfg.offline;
      })
      .catch(function () { notice.textContent = cfg.offline; });
  }
  function clear() { choices.innerHTML = ""; choices.className = "choices"; hold(null); }
  function hasButtons(m) { return m.choices.length > 0 || m.request_contact || m.request_location; }
  function button(label, onclick, extra) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.onclick = onclick;
    if (extra) b.className = extra;
    choices.appendChild(b);
    return b;
  }
  function contactField(m) {  // the number goes as text: the conversation checks it and asks again if it is wrong
    var form = document.createElement("form"), input = document.createElement("input"), send = document.createElement("button");
    form.className = "contact"; form.autocomplete = "on";
    input.type = "tel"; input.name = "tel"; input.autocomplete = "tel"; input.inputMode = "tel"; input.maxLength = 20;
    input.placeholder = cfg.phone_placeholder; input.setAttribute("aria-label", m.contact_label || cfg.phone_placeholder);
    send.type = "submit"; send.textContent = cfg.send_number;
    form.appendChild(input); form.appendChild(send);
    form.onsubmit = function (e) {
      e.preventDefault();
      var number = input.value.trim();
      if (!number) return;
      bubble(number, true); input.value = ""; post({kind: "text", text: number});
    };
    choices.appendChild(form);
  }
  function render(m) {
    choices.innerHTML = "";
    choices.className = "choices" + (m.columns === 2 || m.choices.length > 4 ? " cols-2" : "");
    if (m.request_contact) contactField(m);
    if (m.request_location) button("📍 " + (m.location_label || cfg.location), locate, "primary");
    m.choices.forEach(function (c) {
      var b = button(c.label, function () { bubble(c.label, true); clear(); post({kind: "choice", choice: c.data}); });
      b.dataset.choice = c.data;
    });
    if (m.request_location) document.getElementById("locate").classList.add("ask");
  }
  function show(messages, stage) {
    var withButtons = -1;
    messages.forEach(function (m, i) { if (m.text) bubble(m.text, false); if (hasButtons(m)) withButtons = i; });
    if (withButtons >= 0) {
      var m = messages[withButtons], trailing = withButtons < messages.length - 1;
      // a message after it came from a later turn: its buttons hold only if that turn left the stage as it was
      if (!trailing || (held && held.id === m.id && held.stage === stage)) {
        render(m);
        hold({id: m.id, stage: held && held.id === m.id ? held.stage : stage, message: {  // no text: buttons only
          choices: m.choices, columns: m.columns, request_contact: m.request_contact, contact_label: m.contact_label,
          request_location: m.request_location, location_label: m.location_label}});
      } else clear();
    } else if (held && held.stage !== stage) {
      clear();  // the conversation moved on: the last buttons answer a question no longer asked
    } else if (held && !choices.hasChildNodes()) {
      render(held.message);  // a reload with nothing new: the buttons still answer the current question
    }
  }
  function poll() {
    fetch("/chat/api/messages?after=" + last).then(function (r) {
      if (r.status === 403) { expire(); return null; }
      return r.json();
    }).then(function (d) {
      if (d) { show(d.messages, d.stage); last = d.last || last; notice.textContent = ""; }
    }).catch(function () { notice.textContent = cfg.offline; })
      .finally(function () { if (!expired) setTimeout(poll, 1500); });
  }
  function locate() {
    if (!navigator.geolocation) { notice.textContent = cfg.no_location; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      bubble("📍 " + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5), true);
      document.getElementById("locate").classList.remove("ask");
      post({kind: "location", lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy});
    }, function () { notice.textContent = cfg.no_location; }, {enableHighAccuracy: true, timeout: 15000});
  }
  document.getElementById("composer").onsubmit = function (e) {
    e.preventDefault();
    var input = document.getElementById("text"), text = input.value.trim();
    if (!text) return;
    bubble(text, true); input.value = ""; post({kind: "text", text: text});
  };
  document.getElementById("status").onclick = function () { bubble("/status", true); post({kind: "text", text: "/status"}); };
  document.getElementById("locate").onclick = locate;
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

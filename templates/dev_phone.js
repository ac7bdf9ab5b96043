// Parley phone simulator: text the brand as a customer and watch its answers.
(function () {
  "use strict";
  var phone = document.getElementById("phone");
  var thread = document.getElementById("thread");
  var errorBox = document.getElementById("error");
  var shown = "";

  function render(msgs) {
    var key = JSON.stringify(msgs);
    if (key === shown) return;
    shown = key;
    thread.textContent = "";
    msgs.forEach(function (m) {
      var div = document.createElement("div");
      div.className = "msg " + m.direction;
      div.textContent = m.body; // customer text is data, never HTML
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = m.direction === "inbound" ? "you · " + m.status : "brand · " + m.status;
      div.appendChild(meta);
      thread.appendChild(div);
    });
    thread.scrollTop = thread.scrollHeight;
  }

  function refresh() {
    if (!phone.value) return;
    fetch("/dev/phone/messages?phone=" + encodeURIComponent(phone.value))
      .then(function (r) { return r.json(); })
      .then(function (j) { if (j.data) render(j.data); })
      .catch(function () {});
  }

  document.getElementById("send").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = document.getElementById("body");
    errorBox.textContent = "";
    fetch("/dev/phone/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ phone: phone.value, body: body.value })
    }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) { errorBox.textContent = res.j.error ? res.j.error.message : "failed"; return; }
        body.value = "";
        refresh();
      });
  });
  phone.addEventListener("change", function () { shown = ""; refresh(); });
  refresh();
  setInterval(refresh, 1000);
})();

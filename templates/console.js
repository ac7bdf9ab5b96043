// Parley console: live updates (Server-Sent Events), actions sent with fetch,
// the reply box's segment counter, canned responses and keyboard shortcuts.
// Every page works without it; this only saves reloads and keystrokes.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var live = document.body.dataset.live || "";
  var main = document.querySelector("main");
  var current = main && main.dataset.conversationId ? main.dataset.conversationId : "";

  // ---- small helpers -------------------------------------------------------

  // toast shows a short message; href adds a link to follow it up.
  function toast(text, bad, href, linkText) {
    var t = document.getElementById("toast");
    if (!t) {
      t = document.createElement("p");
      t.id = "toast";
      t.setAttribute("role", "status");
      document.body.appendChild(t);
    }
    t.textContent = text;
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = linkText || "Open";
      t.appendChild(document.createTextNode(" "));
      t.appendChild(a);
    }
    t.className = bad ? "toast bad" : "toast";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.className = "toast gone"; }, href ? 20000 : bad ? 8000 : 2500);
  }

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  // ---- refreshing parts of the page from the server --------------------------

  // The parts each page refreshes when something changes. The reply box is
  // refreshed only while the agent is not writing in it.
  var parts = {
    inbox: ["#conversation-list"],
    conversation: [".thread-head", "#history", "#contact-panel"],
    campaign: ["#campaign-progress"],
    "import": ["#import-progress"]
  };

  var refreshing = false, again = false, timer = null;

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { headers: { "X-Requested-With": "fetch-page" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.redirected && /\/login/.test(r.url)) { location.href = r.url; return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var sel = (parts[live] || []).slice();
        var reply = document.getElementById("reply");
        var note = document.getElementById("note");
        var busy = (reply && (reply.value || document.activeElement === reply)) ||
                   (note && (note.value || document.activeElement === note));
        if (live === "conversation" && !busy) sel.push("#composer");
        var history = document.getElementById("history");
        var atBottom = history && history.scrollHeight - history.scrollTop - history.clientHeight < 40;
        var skipped = false;
        sel.forEach(function (s) {
          var now = document.querySelector(s), next = doc.querySelector(s);
          if (!now || !next) return;
          // Never pull a form from under the agent: a part they are using
          // or have changed waits for the next refresh.
          if (now.contains(document.activeElement) && document.activeElement !== document.body || dirty(now)) {
            skipped = true;
            return;
          }
          now.replaceWith(next);
        });
        if (skipped) setTimeout(scheduleRefresh, 1500);
        if (atBottom) scrollHistory();
        rememberList();
        markSelected();
        document.dispatchEvent(new CustomEvent("parley:refreshed"));
      })
      .catch(function () {})
      .finally(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  // dirty: a field in el differs from what the server rendered.
  function dirty(el) {
    return Array.prototype.some.call(el.querySelectorAll("input, select, textarea"), function (f) {
      if (f.type === "hidden" || f.type === "submit") return false;
      if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
      if (f.tagName === "SELECT") {
        return Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return f.value !== f.defaultValue;
    });
  }

  // settle: what was just saved is the form's new starting point.
  function settle(form) {
    form.querySelectorAll("input, select, textarea").forEach(function (f) {
      if (f.tagName === "SELECT") Array.prototype.forEach.call(f.options, function (o) { o.defaultSelected = o.selected; });
      else if (f.type === "checkbox" || f.type === "radio") f.defaultChecked = f.checked;
      else f.defaultValue = f.value;
    });
  }

  function scheduleRefresh() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, 100);
  }

  // The new-campaign form counts its audience while it is edited.
  var audienceForm = document.querySelector("form[data-audience-count]");
  if (audienceForm && window.fetch) {
    var out = document.getElementById("audience-count");
    var countTimer = null, asked = 0;
    var ask = function () {
      var n = ++asked;
      var body = new URLSearchParams(new FormData(audienceForm));
      fetch(audienceForm.dataset.audienceCount, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
      }).then(function (r) { return r.json(); }).then(function (j) {
        if (n !== asked || !out) return; // a newer answer is coming
        if (j.error) { out.textContent = j.error; out.classList.add("error"); return; }
        out.classList.remove("error");
        var x = j.excluded || {}, left = [];
        [["opted_out", "opted out"], ["no_marketing_consent", "without marketing consent"],
         ["undeliverable", "undeliverable"], ["frequency_cap", "at the daily cap"]].forEach(function (k) {
          if (x[k[0]]) left.push(x[k[0]] + " " + k[1]);
        });
        out.textContent = "Reaches " + j.eligible + (j.eligible === 1 ? " person" : " people") + " now" +
          (left.length ? "; left out: " + left.join(", ") : "") + ".";
      }).catch(function () {});
    };
    var later = function (e) {
      if (e.target.name === "csrf_token" || /^body/.test(e.target.name || "")) return;
      clearTimeout(countTimer);
      countTimer = setTimeout(ask, 300);
    };
    audienceForm.addEventListener("input", later);
    audienceForm.addEventListener("change", later);
    ask();
  }

  // ---- live events -----------------------------------------------------------

  // A running campaign's progress refreshes itself every two seconds.
  if (live === "campaign") {
    setInterval(function () {
      if (document.querySelector("#campaign-progress[data-running]")) refresh();
    }, 2000);
  }
  // So does a running import's, every second.
  if (live === "import") {
    setInterval(function () {
      if (document.querySelector("#import-progress[data-running]")) refresh();
    }, 1000);
  }

  // Admins keep a stream open on every page: they are told of each missed
  // response target wherever they are.
  var admin = document.body.dataset.role === "admin";
  var streamed = live === "inbox" || live === "conversation";
  if ((streamed || admin) && window.EventSource) {
    var hadError = false;
    var es = new EventSource("/events");
    es.addEventListener("breach", function (e) {
      var id = "";
      try { id = String(JSON.parse(e.data).id); } catch (err) { return; }
      window.parleyLastBreach = id;
      toast("Response target missed: a customer is still waiting.", true, "/conversations/" + id, "Open the conversation");
    });
    es.addEventListener("conversation", function (e) {
      var id = "";
      try { id = String(JSON.parse(e.data).id); } catch (err) { return; }
      window.parleyLastEvent = { id: id, at: Date.now() };
      if (live === "inbox" || id === current) scheduleRefresh();
    });
    es.addEventListener("resync", scheduleRefresh);
    es.addEventListener("open", function () {
      document.body.dataset.stream = "open";
      if (hadError) { hadError = false; scheduleRefresh(); }
    });
    es.addEventListener("error", function () { hadError = true; document.body.dataset.stream = "reconnecting"; });
    // A page the browser keeps for its back button (the back/forward
    // cache) must not keep its stream: each holds one of the few
    // connections a browser opens to a site, and after a handful of pages
    // the next one would wait for ever. Coming back, it reloads.
    window.addEventListener("pagehide", function (e) { if (e.persisted) es.close(); });
    window.addEventListener("pageshow", function (e) { if (e.persisted) location.reload(); });
  }

  // ---- actions with fetch ------------------------------------------------------

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches("form[data-tz]")) {
      var tz = form.querySelector('input[name="tz"]');
      if (tz) tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    }
    if (!form.matches("form[data-fetch]") || !window.fetch) return;
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    var button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrf }
    }).then(function (r) {
      return r.text().then(function (text) {
        if (!r.ok) { toast(text || ("Not done (" + r.status + ")"), true); return; }
        form.querySelectorAll("textarea").forEach(function (t) { t.value = ""; count(t); });
        settle(form);
        var a = document.activeElement;
        if (a && a.tagName !== "TEXTAREA" && form.contains(a)) a.blur(); // a pressed button must not hold the part back
        toast(form.dataset.done || "Saved");
        // A reply answers the customer: the waiting clock stops on screen at
        // once, before the refresh brings the new state.
        if (/\/reply$/.test(form.action)) {
          var w = document.getElementById("waiting");
          if (w) w.remove();
        }
        refresh();
      });
    }).catch(function () {
      toast("Parley could not be reached; nothing was sent.", true);
    }).finally(function () { if (button) button.disabled = false; });
  });

  // Presence: the header's select saves itself.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("select[data-autosubmit]")) {
      var form = t.form;
      fetch(form.action, {
        method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
      }).then(function (r) { toast(r.ok ? "You are " + t.value : "Presence not saved", !r.ok); });
    }
    if (t.id === "canned" && t.value) {
      var opt = t.options[t.selectedIndex];
      var reply = document.getElementById("reply");
      if (reply) {
        var at = reply.selectionStart || reply.value.length;
        reply.value = reply.value.slice(0, at) + opt.dataset.text + reply.value.slice(reply.selectionEnd || at);
        count(reply);
        reply.focus();
      }
      t.value = "";
    }
  });

  // ---- the reply box's counter -----------------------------------------------

  function count(ta) {
    if (!ta || !ta.dataset.counter) return;
    var out = document.getElementById(ta.dataset.counter);
    var warn = document.getElementById("ucs2-warning");
    var basic = ta.dataset.gsm || "", ext = ta.dataset.gsmExt || "";
    var text = ta.value.replace(/\r\n/g, "\n").trim();
    var units = 0, gsm = true, odd = [];
    for (var ch of text) {
      if (basic.indexOf(ch) >= 0) units += 1;
      else if (ext.indexOf(ch) >= 0) units += 2;
      else { gsm = false; if (odd.indexOf(ch) < 0 && odd.length < 5) odd.push(ch); }
    }
    var n, segs, enc;
    if (gsm) { n = units; enc = "GSM-7"; segs = n <= 160 ? 1 : Math.ceil(n / 153); }
    else { n = text.length; enc = "UCS-2"; segs = n <= 70 ? 1 : Math.ceil(n / 67); }
    if (out) out.textContent = n + " characters · " + segs + (segs === 1 ? " segment · " : " segments · ") + enc +
      (gsm ? "" : " (because of " + odd.join(" ") + ")");
    if (warn) warn.hidden = gsm;
    ta.dataset.segments = segs;
    ta.dataset.encoding = enc;
  }
  document.addEventListener("input", function (e) { count(e.target); });

  // ---- keyboard shortcuts --------------------------------------------------------

  // The inbox remembers its order so j/k in a conversation move along it.
  function rememberList() {
    var ids = Array.prototype.map.call(document.querySelectorAll("#conversation-list li.row"), function (li) { return li.dataset.id; });
    if (live === "inbox") {
      try { sessionStorage.setItem("parley.list", JSON.stringify(ids)); } catch (err) {}
    }
  }

  var selected = -1;
  function rows() { return document.querySelectorAll("#conversation-list li.row"); }
  function markSelected() {
    var rs = rows();
    rs.forEach(function (r, i) { r.classList.toggle("selected", i === selected); });
    if (rs[selected]) rs[selected].scrollIntoView({ block: "nearest" });
  }

  function neighbour(step) {
    var ids = [];
    try { ids = JSON.parse(sessionStorage.getItem("parley.list") || "[]"); } catch (err) {}
    var i = ids.indexOf(current);
    if (i < 0 || !ids[i + step]) return null;
    return ids[i + step];
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (live === "inbox") {
      var rs = rows();
      if (e.key === "j") { selected = Math.min(selected + 1, rs.length - 1); markSelected(); }
      else if (e.key === "k") { selected = Math.max(selected - 1, 0); markSelected(); }
      else if ((e.key === "Enter" || e.key === "o") && rs[selected]) { rs[selected].querySelector("a").click(); }
      return;
    }
    if (live === "conversation") {
      var go;
      if (e.key === "j") go = neighbour(1);
      else if (e.key === "k") go = neighbour(-1);
      else if (e.key === "r") { var reply = document.getElementById("reply") || document.getElementById("note"); if (reply) { e.preventDefault(); reply.focus(); } }
      else if (e.key === "e") { var close = document.getElementById("close-form"); if (close) close.requestSubmit(); }
      if (go) location.href = "/conversations/" + go;
    }
  });

  function scrollHistory() {
    var h = document.getElementById("history");
    if (h) h.scrollTop = h.scrollHeight;
  }

  // Times are rendered in UTC; show them in the agent's own zone.
  function localTimes() {
    var fmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    document.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.title = d.toString(); t.textContent = fmt.format(d); }
    });
  }
  document.addEventListener("parley:refreshed", localTimes);

  // Response targets: each waiting customer's clock counts down to the
  // brand's target ("answer within 4:12"), then up ("overdue 3 min").
  function slaClocks() {
    var now = Date.now();
    document.querySelectorAll(".sla-clock[data-due]").forEach(function (el) {
      var left = Math.round((new Date(el.dataset.due).getTime() - now) / 1000);
      if (isNaN(left)) return;
      if (left > 0) {
        var m = Math.floor(left / 60), s = left % 60;
        el.textContent = "answer within " + (m >= 60 ? Math.floor(m / 60) + " h " + (m % 60) + " min" : m + ":" + (s < 10 ? "0" : "") + s);
        el.classList.remove("overdue");
      } else {
        var over = Math.floor(-left / 60);
        el.textContent = over < 1 ? "overdue" : "overdue " + (over >= 60 ? Math.floor(over / 60) + " h " + (over % 60) + " min" : over + " min");
        el.classList.add("overdue");
      }
    });
  }
  slaClocks();
  setInterval(slaClocks, 1000);
  document.addEventListener("parley:refreshed", slaClocks);

  localTimes();
  rememberList();
  scrollHistory();
  count(document.getElementById("reply"));
})();

// Noticeboard behaviour: the clock, slide rotation and the poll with backoff.
// Rotation only moves one class between existing slides and the poll replaces the
// whole deck, so the document does not grow however long the board runs.
(function () {
  "use strict";
  var body = document.body;
  var offset = Number(body.dataset.serverTime || Date.now()) - Date.now();   // server clock − ours
  var WEEK = "日一二三四五六";
  var clockTime = document.querySelector("[data-clock-time]");
  var clockDate = document.querySelector("[data-clock-date]");
  var status = document.querySelector("[data-board-status]");
  var rotateTimer = null, pollTimer = null, clockTimer = null;
  var failures = 0, stopped = false, rotations = 0, lastGood = Date.now();

  function now() { return Date.now() + offset; }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function deck() { return document.getElementById("deck"); }

  function tick() {
    var d = new Date(now());
    var t = pad(d.getHours()) + ":" + pad(d.getMinutes());
    var day = d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日 星期" + WEEK[d.getDay()];
    if (clockTime && clockTime.textContent !== t) clockTime.textContent = t;
    if (clockDate && clockDate.textContent !== day) clockDate.textContent = day;
    tally();
    clockTimer = setTimeout(tick, 1000 - (now() % 1000) + 20);
  }

  // --- proof of display (公示留痕) -----------------------------------------------
  // Every second: which notice is on screen, and whether the page could be seen at all.
  // Totals per UTC hour go to this machine's server each minute; what could not be sent
  // is kept (at most three days) and sent with the next report.
  var shownUrl = body.dataset.shownUrl, shown = {}, reporting = !!shownUrl;
  var REPORT_MS = Number(body.dataset.reportMs) || 60000, KEEP_HOURS = 72;

  function tally() {
    if (!reporting) return;
    var d = deck();
    var active = d && d.querySelector(".slide.is-active[data-notice]");
    if (!active) return;
    var hour = new Date(now()).toISOString().slice(0, 13);
    var id = active.getAttribute("data-notice");
    var perHour = shown[hour] || (shown[hour] = {});
    var c = perHour[id] || (perHour[id] = [0, 0]);
    if (c[0] < 3600) c[0] += 1;
    if (document.visibilityState === "visible" && c[1] < c[0]) c[1] += 1;
  }

  function keepBack(sent) {
    Object.keys(sent).forEach(function (hour) {
      var into = shown[hour] || (shown[hour] = {});
      Object.keys(sent[hour]).forEach(function (id) {
        var a = into[id] || (into[id] = [0, 0]), b = sent[hour][id];
        a[0] = Math.min(3600, a[0] + b[0]); a[1] = Math.min(a[0], a[1] + b[1]);
      });
    });
    var hours = Object.keys(shown).sort();
    while (hours.length > KEEP_HOURS) delete shown[hours.shift()];
  }

  function report() {
    if (!reporting || !Object.keys(shown).length) return;
    var sent = shown;
    shown = {};
    var xhr = new XMLHttpRequest();
    xhr.open("POST", shownUrl);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.timeout = 15000;
    xhr.onload = function () {
      if (xhr.status === 403) reporting = false;            // not this machine's board: stop
      else if (xhr.status >= 500) keepBack(sent);
    };
    xhr.onerror = xhr.ontimeout = function () { keepBack(sent); };
    xhr.send(JSON.stringify({hours: sent}));
  }
  if (reporting) {
    setInterval(report, REPORT_MS);
    window.addEventListener("pagehide", report);
  }

  // --- rotation ---------------------------------------------------------------
  function usable(slide) {
    if (slide.hasAttribute("data-spare")) return false;
    var until = slide.getAttribute("data-until");
    // A notice whose period ended while the server was away leaves the screen anyway.
    return !until || Date.parse(until) > now();
  }

  function show(target) {
    var d = deck();
    if (!d || !target) return;
    var active = d.querySelector(".slide.is-active");
    if (active === target) return;
    if (active) active.classList.remove("is-active");
    target.classList.add("is-active");
    fit(target);
  }

  // Pages are sized on the server; should a text still not fit (another font, an odd
  // table) the slide's type steps down rather than anything being cut off.
  function fit(slide) {
    var main = slide.querySelector(".slide-main");
    if (!main || slide.hasAttribute("data-fit")) return;
    var steps = ["1", "2", "3"];
    for (var i = 0; i < steps.length && main.scrollHeight > main.clientHeight + 1; i++) {
      slide.setAttribute("data-fit", steps[i]);
    }
  }

  function advance(step) {
    var d = deck();
    if (!d) return;
    var slides = d.querySelectorAll(".slide");
    var active = d.querySelector(".slide.is-active");
    var start = Array.prototype.indexOf.call(slides, active);
    var next = null;
    for (var i = 1; i <= slides.length; i++) {
      var candidate = slides[(start + (step ? i : i - 1) + slides.length) % slides.length];
      if (usable(candidate)) { next = candidate; break; }
    }
    if (!next) next = d.querySelector("[data-spare]") || active;
    show(next);
    rotations += 1;
    body.setAttribute("data-rotations", String(rotations));
  }

  function scheduleRotation() {
    clearTimeout(rotateTimer);
    var d = deck();
    var ms = d ? Number(d.dataset.slideMs) || 15000 : 15000;
    rotateTimer = setTimeout(function () { advance(true); scheduleRotation(); }, ms);
  }

  // After an upgrade the server's static files have another version: a new deck says so
  // and the page reloads once to take the new styles and scripts (their URLs are hashed).
  function newAssets(d) {
    var theirs = d && d.dataset.assets, mine = body.dataset.assets;
    if (!theirs || !mine || theirs === mine) return false;
    report();
    window.location.reload();
    return true;
  }

  // After a new deck arrives keep showing the same notice page if it is still there.
  var currentKey = null;
  function rememberKey() {
    var active = deck() && deck().querySelector(".slide.is-active");
    currentKey = active ? active.getAttribute("data-key") : null;
  }
  function restore() {
    var d = deck();
    if (!d) return;
    var same = currentKey && d.querySelector('.slide[data-key="' + currentKey.replace(/"/g, "") + '"]');
    if (same && usable(same)) show(same); else advance(false);
    scheduleRotation();
  }

  // --- polling with backoff -------------------------------------------------------
  function pollDelay() {
    var d = deck();
    var base = d ? Number(d.dataset.pollMs) || 30000 : 30000;
    var cap = d ? Number(d.dataset.maxBackoffMs) || 300000 : 300000;
    if (!failures) return base;
    var delay = Math.min(base * Math.pow(2, failures), Math.max(cap, base));
    return delay * (0.8 + Math.random() * 0.4);          // spread many boards' retries
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!stopped) pollTimer = setTimeout(poll, pollDelay());
  }

  function setOnline(ok) {
    if (!status) return;
    if (ok) { if (status.textContent) status.textContent = ""; return; }
    var d = new Date(lastGood);
    status.textContent = "网络中断，正在重试 · 显示 " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + " 的内容";
  }

  function syncClock(xhr) {
    var date = xhr && xhr.getResponseHeader && xhr.getResponseHeader("Date");
    var server = date ? Date.parse(date) : NaN;
    if (!isNaN(server) && Math.abs(server - now()) > 2000) offset = server - Date.now();
  }

  function finished(code, xhr) {
    if (code === 286) { stopped = true; clearTimeout(rotateTimer); }
    if (code >= 200 && code < 400) {
      failures = 0; lastGood = Date.now(); setOnline(true); syncClock(xhr);
    } else {
      failures += 1; setOnline(false);
    }
    schedulePoll();
  }

  function poll() {
    var d = deck();
    if (!d || stopped) return;
    rememberKey();
    if (window.htmx && d.getAttribute("hx-get")) {
      window.htmx.trigger(d, "board-poll");
      return;
    }
    // Without htmx: the same request by hand, the same swap.
    var url = d.getAttribute("hx-get");
    if (!url) return;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.timeout = 15000;
    xhr.onload = function () {
      if (xhr.status === 200 || xhr.status === 286) {
        var tpl = document.createElement("template");
        tpl.innerHTML = xhr.responseText;
        var fresh = tpl.content.firstElementChild;
        if (fresh && newAssets(fresh)) return;
        if (fresh) { deck().replaceWith(fresh); seenVersion = fresh.dataset.version; restore(); }
      }
      finished(xhr.status, xhr);
    };
    xhr.onerror = xhr.ontimeout = function () { finished(0, xhr); };
    xhr.send();
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var cfg = event.detail && event.detail.requestConfig;
    if (!cfg || !cfg.path || cfg.path.indexOf("/slides") < 0) return;
    var xhr = event.detail.xhr;
    finished(xhr ? xhr.status : 0, xhr);
  });
  var seenVersion = deck() ? deck().dataset.version : null;
  document.addEventListener("htmx:afterSwap", function () {
    var d = deck();
    if (newAssets(d)) return;
    if (d && d.dataset.version !== seenVersion) { seenVersion = d.dataset.version; restore(); }
  });
  // A failed poll must never replace what is on screen.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    if (code !== 200 && code !== 286) event.detail.shouldSwap = false;
  });

  tick();
  if (deck() && deck().querySelector(".slide.is-active")) fit(deck().querySelector(".slide.is-active"));
  scheduleRotation();
  schedulePoll();
})();

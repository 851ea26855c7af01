// Nothing hidden without a sign: tables that scroll sideways say so, the aligned view brings its
// differing cells into view, and a cue says when the page goes on below the screen. On a phone,
// outside addresses open as links (the kiosk shows them as QR codes instead). With or without htmx.
(function () {
  "use strict";

  var phone = window.matchMedia("(max-width: 640px)");

  function markScrollFrames(root) {
    root.querySelectorAll("[data-scroll-frame]").forEach(function (frame) {
      var wrap = frame.querySelector(".table-wrap");
      if (!wrap) return;
      var scrollable = wrap.scrollWidth > wrap.clientWidth + 1;
      frame.classList.toggle("is-scrollable", scrollable);
      var table = wrap.querySelector("table");
      var first = wrap.querySelector("thead th:first-child");
      // A narrow first column (序号) keeps the next one (the name) in view beside it.
      var two = scrollable && !phone.matches && first && first.offsetWidth < wrap.clientWidth / 6;
      table.classList.toggle("stick-two", !!two);
      if (two) table.style.setProperty("--first-col", Math.floor(first.getBoundingClientRect().width) - 1 + "px");
      if (!scrollable || frame.dataset.diffShown) return;
      // The differing cells in view, just right of the columns that stay put: all of them when
      // they fit side by side (a row may differ in 面积 and in 金额), else the first.
      var cells = wrap.querySelectorAll("td.diff, th.diff");
      if (!cells.length) return;
      var lo = Infinity, hi = 0;
      for (var i = 0; i < cells.length; i++) {
        lo = Math.min(lo, cells[i].offsetLeft);
        hi = Math.max(hi, cells[i].offsetLeft + cells[i].offsetWidth);
      }
      var second = wrap.querySelector("thead th:nth-child(2)");
      var sticky = (first ? first.offsetWidth : 0) + (two && second ? second.offsetWidth : 0);
      var firstWidth = first ? first.offsetWidth : 0;
      if (hi - lo > wrap.clientWidth - firstWidth - 16 && table.querySelector("td[data-label]")) {
        // Not even side by side beside 序号: rows become cards, every difference in view.
        table.classList.remove("stick-two");
        table.classList.add("as-cards");
        wrap.scrollLeft = 0;
        frame.classList.remove("is-scrollable");
        frame.dataset.diffShown = "1";
        return;
      }
      if (two && second && hi - lo > wrap.clientWidth - sticky - 16) {
        // The differing cells need the room: only 序号 stays put, the name scrolls with the rest.
        table.classList.remove("stick-two");
        sticky -= second.offsetWidth;
      }
      if (hi > wrap.clientWidth) wrap.scrollLeft = Math.max(0, Math.min(lo - sticky - 16, hi - wrap.clientWidth + 16));
      frame.dataset.diffShown = "1";
    });
  }

  var cue = null;
  function moreBelow() {
    var doc = document.documentElement;
    var below = doc.scrollHeight - (window.scrollY + window.innerHeight) > 48;
    document.body.classList.toggle("more-below", below);
  }

  function ensureCue() {
    if (cue && document.body.contains(cue)) return;
    cue = document.createElement("button");
    cue.type = "button";
    cue.className = "more-cue";
    cue.setAttribute("aria-label", "向下还有内容，点一下往下翻");
    cue.textContent = "向下还有内容 ↓";
    cue.addEventListener("click", function () {
      window.scrollBy({ top: Math.round(window.innerHeight * 0.7), behavior: "smooth" });
    });
    document.body.appendChild(cue);
  }

  function phoneKeyboard() {
    // The kiosk's search box calls up only the on-screen keys; a phone uses its own keyboard.
    if (!phone.matches) return;
    document.querySelectorAll('input[inputmode="none"]:not([data-osk])').forEach(function (input) {
      input.removeAttribute("inputmode");
      input.setAttribute("placeholder", "输入要找的内容，如 低保");
    });
  }

  function refresh() {
    phoneKeyboard();
    ensureCue();
    markScrollFrames(document);
    moreBelow();
  }

  window.addEventListener("scroll", moreBelow, { passive: true });
  window.addEventListener("resize", refresh);
  document.addEventListener("htmx:afterSettle", refresh);
  window.addEventListener("load", refresh);
  if (document.readyState !== "loading") refresh();
  else document.addEventListener("DOMContentLoaded", refresh);

  // On a phone an outside address is simply opened: a QR code of it would be of no use there.
  // (Runs before the kiosk's own handler, which listens on the document.)
  window.addEventListener("click", function (event) {
    if (!phone.matches) return;
    var a = event.target.closest && event.target.closest("a[href]");
    if (!a) return;
    var url;
    try { url = new URL(a.getAttribute("href"), window.location.href); } catch (e) { return; }
    if (url.origin !== window.location.origin) event.stopPropagation();
  }, true);
})();

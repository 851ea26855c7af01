// Resident touchscreen behaviour that works with or without htmx.
(function () {
  "use strict";

  // 返回 walks back only through this resident's own screens. The browser's history still
  // holds the previous resident's (an idle reset cannot erase it), so the screens since the
  // last start are counted in sessionStorage, which the reset clears; at the first screen
  // 返回 goes home instead of into someone else's search.
  var DEPTH = "kiosk-depth";

  function depth() {
    try { return parseInt(window.sessionStorage.getItem(DEPTH) || "0", 10) || 0; } catch (e) { return 0; }
  }
  function setDepth(n) {
    try { window.sessionStorage.setItem(DEPTH, String(Math.max(0, n))); } catch (e) { /* storage off */ }
  }

  function arrived() {
    if (document.querySelector("[data-attract]")) { setDepth(0); return; }
    var nav = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")[0] : null;
    if (nav && nav.type === "back_forward") return;   // counted when 返回 was pressed
    if (nav && nav.type === "reload") return;
    setDepth(depth() + 1);
  }
  arrived();
  document.addEventListener("htmx:pushedIntoHistory", function () { setDepth(depth() + 1); });

  document.addEventListener("click", function (event) {
    var back = event.target.closest("[data-back]");
    if (!back) return;
    event.preventDefault();
    if (depth() > 1) {
      setDepth(depth() - 1);
      window.history.back();
    } else if (window.location.pathname !== "/" || window.location.search) {
      setDepth(0);                    // home counts itself as this resident's first screen
      window.location.href = "/";
    }
  });
  // No context menu on a public touchscreen (long press would open it).
  document.addEventListener("contextmenu", function (event) {
    if (!event.target.closest("input, textarea")) event.preventDefault();
  });
})();

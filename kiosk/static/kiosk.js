// Resident touchscreen behaviour that works with or without htmx.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var back = event.target.closest("[data-back]");
    if (!back) return;
    event.preventDefault();
    if (window.history.length > 1) { window.history.back(); } else { window.location.href = "/"; }
  });
  // No context menu on a public touchscreen (long press would open it).
  document.addEventListener("contextmenu", function (event) {
    if (!event.target.closest("input, textarea")) event.preventDefault();
  });
})();

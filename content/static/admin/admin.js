// Staff admin: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests (if a page uses htmx) carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });
  // Ask before irreversible-looking steps (withdraw, discard).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    if (event.target.closest("[data-print]")) window.print();
  });
})();

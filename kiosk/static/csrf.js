// htmx requests carry the CSRF token (from the page's meta tag) as a header;
// plain forms carry it as a hidden field.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });
})();

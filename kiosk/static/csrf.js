// CSRF without a session for readers: resident pages carry no token (so the page cache
// serves them like static files). When a POST form whose token field is empty is
// submitted, the token is fetched from /csrf-token first and the form submitted again;
// htmx requests carry the token as a header. Pages that render a token keep theirs.
(function () {
  "use strict";
  var token = null;
  var resubmitting = null;

  function fetchToken() {
    return fetch("/csrf-token", { credentials: "same-origin", cache: "no-store",
                                  headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) { token = data.token; return token; });
  }

  function again(form, submitter) {
    resubmitting = form;
    if (form.requestSubmit) form.requestSubmit(submitter || undefined);
    else form.submit();
  }

  // Capture phase on the document: runs before htmx's own submit handler on the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (resubmitting === form) { resubmitting = null; return; }
    var field = form.querySelector('input[name="csrf_token"]');
    if (field && field.value) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter;
    fetchToken().then(function (value) {
      if (!field) {
        field = document.createElement("input");
        field.type = "hidden";
        field.name = "csrf_token";
        form.appendChild(field);
      }
      field.value = value;
      again(form, submitter);
    }, function () {
      // Offline or refused: submit anyway; the server answers with its clear message.
      again(form, submitter);
    });
  }, true);

  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var value = meta ? meta.content : token;
    if (value) event.detail.headers["X-CSRFToken"] = value;
  });
})();

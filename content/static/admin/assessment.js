// Print button of the printable assessment page (no inline scripts: CSP default-src 'self').
document.addEventListener("click", function (e) {
  if (e.target.closest && e.target.closest("[data-print]")) { window.print(); }
});

// Citizen services: print the receipt slip; pick the matching ID type when the applicant type changes.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
  });
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.name !== "applicant_type") return;
    var form = input.form;
    var wanted = input.value === "法人或其他组织" ? "统一社会信用代码" : "居民身份证";
    var current = form.querySelector('input[name="id_type"]:checked');
    var group = input.value === "法人或其他组织" ? ".org-only" : ".person-only";
    if (!current || !current.closest(group)) {
      var pick = form.querySelector('input[name="id_type"][value="' + wanted + '"]');
      if (pick) pick.checked = true;
    }
  });
})();

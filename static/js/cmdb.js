// CMDB pages: confirmations on destructive forms, the class help beside the CI form.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  var classSelect = document.getElementById("id_ci_class");
  if (classSelect) {
    classSelect.addEventListener("change", function () {
      document.querySelectorAll(".class-help").forEach(function (details) {
        details.open = details.dataset.classId === classSelect.value;
      });
    });
  }
})();

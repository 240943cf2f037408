// Behaviour the templates used to carry in inline handlers, which the Content-Security-Policy refuses:
// a <select data-autosubmit> sends its form when changed (the language menu), a [data-print] button prints.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (!button) return;
    event.preventDefault();
    window.print();
  });
})();

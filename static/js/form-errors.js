// The error summary at the top of a form: shown in view on arrival, and each of its links puts the cursor in the
// field it names (an anchor alone would only scroll there).
(function () {
  "use strict";
  function fieldOf(target) {
    if (target.matches("input, select, textarea")) return target;
    return target.querySelector("input:not([type=hidden]), select, textarea");
  }
  document.querySelectorAll(".error-summary").forEach(function (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      var field = target && fieldOf(target);
      if (!field) return;
      event.preventDefault();
      var holder = field.closest(".field") || field;
      holder.scrollIntoView({block: "center"});
      field.focus({preventScroll: true});
    });
  });
  var first = document.querySelector(".error-summary");
  if (first) {
    first.scrollIntoView({block: "start"});
    first.focus({preventScroll: true});
  }
})();

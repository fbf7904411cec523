// Reloads a model version's admin page while it is being validated, so the
// administrator watches the status change without pressing F5.
(function () {
  "use strict";
  function pending() {
    return Array.prototype.some.call(
      document.querySelectorAll(".model-status"),
      function (el) {
        return el.dataset.status === "uploaded" || el.dataset.status === "validating";
      }
    );
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (pending()) {
      window.setTimeout(function () { window.location.reload(); }, 3000);
    }
  });
})();

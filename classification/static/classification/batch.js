// Batch page: follows the job's progress live, then reloads to show results.
(function () {
  "use strict";
  var section = document.getElementById("batch-progress");
  if (!section || section.dataset.finished === "true" || !window.fetch) { return; }
  var bar = document.getElementById("batch-bar");

  function poll() {
    fetch(section.dataset.api, {
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang }
    }).then(function (response) { return response.json(); }).then(function (job) {
      bar.max = job.total;
      bar.value = job.done + job.failed;
      document.getElementById("batch-done").textContent = job.done;
      document.getElementById("batch-failed").textContent = job.failed;
      document.getElementById("batch-total").textContent = job.total;
      if (job.status === "succeeded" || job.status === "failed") {
        window.location.reload();
      } else {
        window.setTimeout(poll, 1000);
      }
    }).catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();

// Batch page: follows the job's progress live (bar, counts, status), then
// reloads the same page of items to show the results and the downloads.
(function () {
  "use strict";
  var section = document.getElementById("batch-progress");
  if (!section || section.dataset.finished === "true" || !window.fetch) { return; }
  var bar = document.getElementById("batch-bar");
  var labels = {};
  try { labels = JSON.parse(section.dataset.labels || "{}"); } catch (error) { labels = {}; }

  function show(id, value) {
    var element = document.getElementById(id);
    if (element) { element.textContent = value; }
  }

  function poll() {
    fetch(section.dataset.api, {
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang }
    }).then(function (response) { return response.json(); }).then(function (job) {
      bar.max = job.total;
      bar.value = job.done + job.failed;
      show("batch-done", job.done);
      show("batch-failed", job.failed);
      show("batch-total", job.total);
      if (labels[job.status]) { show("batch-status", labels[job.status]); }
      if (job.status !== "queued" && job.status !== "running") {
        window.location.reload();
      } else {
        window.setTimeout(poll, 1000);
      }
    }).catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();

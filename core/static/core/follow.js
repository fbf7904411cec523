// Follow a job in the background: every element with data-follow="<API URL>"
// polls it, moves its <progress> to the job's percent, and reloads the page
// once the job has stopped (finished, failed or cancelled).
(function () {
  "use strict";
  if (!window.fetch) { return; }
  document.querySelectorAll("[data-follow]").forEach(function (box) {
    var bar = box.querySelector("progress");
    var percent = box.querySelector("[data-percent]");
    var poll = function () {
      fetch(box.dataset.follow, {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang }
      }).then(function (response) { return response.json(); }).then(function (job) {
        if (bar && typeof job.percent === "number") { bar.value = job.percent; }
        if (percent && typeof job.percent === "number") { percent.textContent = job.percent; }
        if (job.status === "queued" || job.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      }).catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  });
}());

// Training pages: follow a run's progress live; show the effect of a threshold.
(function () {
  "use strict";

  var section = document.getElementById("run-progress");
  if (section && section.dataset.active === "true" && window.fetch) {
    var bar = document.getElementById("run-bar");
    var poll = function () {
      fetch(section.dataset.api, {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang }
      }).then(function (response) { return response.json(); }).then(function (run) {
        bar.value = run.percent;
        document.getElementById("run-percent").textContent = run.percent;
        document.getElementById("run-phase").textContent = run.phase_display;
        var status = run.status_display || "";
        document.getElementById("run-status").textContent = status.charAt(0).toUpperCase() + status.slice(1);
        if (run.status === "queued" || run.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      }).catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  }

  // Zips of examples being added: reload the page once they are done.
  document.querySelectorAll("article.import[data-api]").forEach(function (box) {
    if (!window.fetch) { return; }
    var bar = box.querySelector("progress");
    var poll = function () {
      fetch(box.dataset.api, {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang }
      }).then(function (response) { return response.json(); }).then(function (job) {
        if (bar) { bar.value = job.done; }
        if (job.status === "queued" || job.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      }).catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  });

  // The threshold table: mark the row the typed threshold falls into.
  var input = document.querySelector("#threshold-form input[name=threshold]");
  var table = document.getElementById("threshold-table");
  if (input && table) {
    var mark = function () {
      var value = parseFloat(input.value);
      var rows = table.querySelectorAll("tbody tr");
      rows.forEach(function (row) { row.classList.remove("current"); });
      if (isNaN(value)) { return; }
      var best = null;
      rows.forEach(function (row) {
        if (parseFloat(row.dataset.threshold) <= value + 1e-9) { best = row; }
      });
      if (best) { best.classList.add("current"); }
    };
    input.addEventListener("input", mark);
    mark();
  }
})();

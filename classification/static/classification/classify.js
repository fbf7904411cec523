// Classify page: previews, drag and drop, and results without a page reload.
// Without JavaScript the form posts to the server, which renders the same results.
(function () {
  "use strict";
  var form = document.getElementById("classify-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var strings = document.getElementById("strings").dataset;
  var fileInput = document.getElementById("file-input");
  var cameraInput = document.getElementById("camera-input");
  var dropZone = document.getElementById("drop-zone");
  var previews = document.getElementById("previews");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  var template = document.getElementById("result-template");
  var chosen = [];

  function say(text, isError) {
    status.textContent = text;
    status.setAttribute("role", isError ? "alert" : "status");
    status.classList.toggle("error", Boolean(isError));
  }

  function render() {
    previews.textContent = "";
    chosen.forEach(function (entry, index) {
      var li = document.createElement("li");
      var img = document.createElement("img");
      img.src = entry.url;
      img.alt = "";
      var name = document.createElement("span");
      name.textContent = entry.file.name;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button";
      remove.textContent = strings.remove;
      remove.setAttribute("aria-label", strings.remove + " " + entry.file.name);
      remove.addEventListener("click", function () {
        URL.revokeObjectURL(entry.url);
        chosen.splice(index, 1);
        render();
      });
      li.append(img, name, remove);
      previews.appendChild(li);
    });
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      if (file.type && file.type.indexOf("image/") !== 0) { return; }
      chosen.push({ file: file, url: URL.createObjectURL(file) });
    });
    render();
  }

  [fileInput, cameraInput].forEach(function (input) {
    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });
  });
  ["dragenter", "dragover"].forEach(function (name) {
    dropZone.addEventListener(name, function (event) {
      event.preventDefault();
      dropZone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropZone.addEventListener(name, function (event) {
      event.preventDefault();
      dropZone.classList.remove("dragging");
    });
  });
  dropZone.addEventListener("drop", function (event) { add(event.dataTransfer.files); });

  function showResult(result, preview) {
    var node = template.content.firstElementChild.cloneNode(true);
    var img = node.querySelector(".result-image");
    if (preview) { img.src = preview; } else { img.remove(); }
    node.querySelector(".result-title").textContent = result.original_name;
    var verdict = node.querySelector(".none-of-these");
    verdict.hidden = !result.none_of_these;
    var list = node.querySelector(".classes");
    result.classes.forEach(function (item) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.className = "class-name";
      name.textContent = item.name;
      var percent = document.createElement("span");
      percent.className = "class-percent";
      percent.textContent = Math.round(item.probability * 100) + "%";
      var bar = document.createElement("progress");
      bar.max = 1;
      bar.value = item.probability;
      bar.setAttribute("aria-hidden", "true");
      li.append(name, percent, bar);
      list.appendChild(li);
    });
    node.querySelector(".result-model small").textContent =
      strings.answered + " " + result.model.name + " v" + result.model.version;
    results.appendChild(node);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen.length) { say(strings.none, true); return; }
    var data = new FormData();
    chosen.forEach(function (entry) { data.append("file", entry.file, entry.file.name); });
    data.append("model", form.elements.model.value);
    data.append("store", form.elements.store.checked ? "true" : "false");
    var button = document.getElementById("classify-button");
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    say(strings.working, false);
    fetch(form.dataset.api, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
        "Accept-Language": document.documentElement.lang,
        "Accept": "application/json"
      }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) {
        say((answer.body.error && answer.body.error.message) || strings.failed, true);
        return;
      }
      results.textContent = "";
      answer.body.results.forEach(function (result, index) {
        showResult(result, chosen[index] && chosen[index].url);
      });
      chosen = [];
      render();
      say(strings.done, false);
    }).catch(function () {
      say(strings.failed, true);
    }).then(function () {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    });
  });
})();

// Classify page: a drop zone with previews (files dropped anywhere on the page
// or pasted from the clipboard are added too), upload progress, and every file
// answered on its own, in place: the classified ones with their classes, the
// others with their reason. XMLHttpRequest rather than fetch: only it reports
// upload progress. Without JavaScript the form posts to the server, which
// renders the same answers. Strings come from #strings (data attributes).
// classify_live.js uses window.PicsortClassify (post, send, showClasses).
(function () {
  "use strict";
  var form = document.getElementById("classify-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  function byId(id) { return document.getElementById(id); }
  var strings = byId("strings").dataset;
  var fileInput = byId("file-input");
  var cameraInput = byId("camera-input");
  var dropZone = byId("drop-zone");
  var previews = byId("previews");
  var results = byId("results");
  var status = byId("status");
  var button = byId("classify-button");
  var progressBox = byId("upload-progress-box");
  var progress = byId("upload-progress");
  var percent = byId("upload-percent");
  var chosen = []; // {file, url}: url is an object URL for images, null otherwise
  var shown = []; // object URLs the results on screen still use
  var pasted = 0;
  var busy = false;

  dropZone.classList.add("enhanced");

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function say(text, isError) {
    status.textContent = text;
    status.setAttribute("role", isError ? "alert" : "status");
    status.classList.toggle("error", Boolean(isError));
  }

  function placeholder(file) {
    var box = document.createElement("span");
    box.className = "result-file";
    box.setAttribute("aria-hidden", "true");
    var dot = file ? file.name.lastIndexOf(".") : -1;
    box.textContent = dot > 0 ? file.name.slice(dot + 1, dot + 5).toUpperCase() : "?";
    return box;
  }

  function thumbnail(entry, className) {
    if (!entry || !entry.url) { return placeholder(entry && entry.file); }
    var img = document.createElement("img");
    img.className = className;
    img.alt = "";
    img.addEventListener("error", function () { img.replaceWith(placeholder(entry.file)); });
    img.src = entry.url;
    return img;
  }

  function entryFor(file) {
    var isImage = (file.type || "").indexOf("image/") === 0;
    return { file: file, url: isImage ? URL.createObjectURL(file) : null };
  }

  function renderPreviews() {
    previews.textContent = "";
    chosen.forEach(function (entry, index) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.className = "preview-name";
      name.textContent = entry.file.name;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "preview-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", format(strings.remove, { name: entry.file.name }));
      remove.addEventListener("click", function () {
        if (entry.url) { URL.revokeObjectURL(entry.url); }
        chosen.splice(index, 1);
        renderPreviews();
        var next = previews.querySelectorAll(".preview-remove")[Math.min(index, chosen.length - 1)];
        (next || fileInput).focus();
      });
      li.append(thumbnail(entry, "preview-image"), name, remove);
      previews.appendChild(li);
    });
    previews.hidden = !chosen.length;
  }

  // Every file is kept, images or not: the server says why one cannot be classified.
  function add(files) {
    Array.prototype.forEach.call(files, function (file) { chosen.push(entryFor(file)); });
    renderPreviews();
    if (files.length) { say(format(strings.chosen, { count: chosen.length }), false); }
  }

  [fileInput, cameraInput].forEach(function (input) {
    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });
  });

  // Files dropped anywhere on the page are added (and never opened by the browser).
  var dragDepth = 0;
  document.addEventListener("dragenter", function (event) {
    event.preventDefault();
    dragDepth += 1;
    dropZone.classList.add("dragging");
  });
  document.addEventListener("dragover", function (event) { event.preventDefault(); });
  document.addEventListener("dragleave", function () {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) { dropZone.classList.remove("dragging"); }
  });
  document.addEventListener("drop", function (event) {
    event.preventDefault();
    dragDepth = 0;
    dropZone.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) { add(event.dataTransfer.files); }
  });

  // An image pasted anywhere on the page (Ctrl+V, or the phone's paste) is added.
  document.addEventListener("paste", function (event) {
    var items = (event.clipboardData && event.clipboardData.items) || [];
    var files = [];
    Array.prototype.forEach.call(items, function (item) {
      var file = item.kind === "file" ? item.getAsFile() : null;
      if (file) { files.push(file); }
    });
    if (!files.length) { return; }
    event.preventDefault();
    files = files.map(function (file) {
      pasted += 1;
      var extension = ((file.type || "").split("/")[1] || "png").replace("jpeg", "jpg");
      var name = strings.pastedName + "-" + pasted + "." + extension;
      return new File([file], name, { type: file.type });
    });
    add(files);
    say(format(strings.pasted, { name: files.map(function (f) { return f.name; }).join(", ") }));
  });

  // One POST with upload progress; resolves with {status, body, retryAfter}.
  function post(url, data, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.responseType = "json";
      xhr.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Accept-Language", document.documentElement.lang);
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) { onProgress(event.loaded / event.total, false); }
        });
        xhr.upload.addEventListener("load", function () { onProgress(1, true); });
      }
      xhr.addEventListener("load", function () {
        resolve({
          status: xhr.status,
          body: xhr.response || {},
          retryAfter: parseInt(xhr.getResponseHeader("Retry-After"), 10) || 0
        });
      });
      xhr.addEventListener("error", function () { reject(new Error("network")); });
      xhr.addEventListener("abort", function () { reject(new Error("abort")); });
      xhr.send(data);
    });
  }

  function showProgress(fraction, uploaded) {
    progressBox.hidden = false;
    progress.value = fraction;
    percent.textContent = Math.round(fraction * 100) + "%";
    if (uploaded) { say(strings.working, false); }
  }

  function showClasses(list, classes) {
    list.textContent = "";
    classes.forEach(function (item) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.className = "class-name";
      name.textContent = item.name;
      var share = document.createElement("span");
      share.className = "class-percent";
      share.textContent = Math.round(item.probability * 100) + "%";
      var bar = document.createElement("progress");
      bar.max = 1;
      bar.value = item.probability;
      bar.setAttribute("aria-hidden", "true");
      li.append(name, share, bar);
      list.appendChild(li);
    });
  }

  // "Probably a kind of dog (97 %): beagle 31 %, basset 25 %": the broader
  // class the API hedged to when no class was confident enough.
  function showHedged(box, hedged) {
    box.hidden = !hedged;
    if (!hedged) { return; }
    box.querySelector(".hedged-answer").textContent = format(strings.probably, {
      name: hedged.name, percent: Math.round(hedged.confidence * 100) + "\u00a0%"
    });
    box.querySelector(".hedged-contributors").textContent = hedged.contributors
      .map(function (item) { return item.name + " " + Math.round(item.probability * 100) + "\u00a0%"; })
      .join(", ");
  }

  function resultCard(result, entry) {
    var node = byId("result-template").content.firstElementChild.cloneNode(true);
    node.querySelector(".result-image").replaceWith(thumbnail(entry, "result-image"));
    node.querySelector(".result-title").textContent = result.original_name;
    var unlike = result.none_of_these_reason === "unlike_examples";  // else: not confident
    node.querySelector(".none-of-these").hidden = !result.none_of_these || unlike;
    node.querySelector(".none-of-these-unlike").hidden = !unlike;
    showHedged(node.querySelector(".hedged"), result.hedged);
    showClasses(node.querySelector(".classes"), result.classes);
    node.querySelector(".result-model small").textContent =
      strings.answered + " " + (result.model.localized_name || result.model.name) +
      " v" + result.model.version + (result.precision ? " (" + result.precision + ")" : "");
    if (result.id && result.image_url) {  // kept: it can be corrected on its page
      var link = node.querySelector(".result-feedback");
      link.href = strings.detail.replace("999999999", String(result.id)) + "#feedback";
      link.parentNode.hidden = false;
    }
    return node;
  }

  function failureCard(error, entry) {
    var node = byId("failure-template").content.firstElementChild.cloneNode(true);
    node.querySelector(".result-title").textContent = error.file || (entry && entry.file.name);
    node.querySelector(".reason").textContent = error.message;
    return node;
  }

  // The answer of the classify API, shown file by file in upload order.
  function showAnswer(response, entries, keepPrevious) {
    var body = response.body;
    var ok = response.status >= 200 && response.status < 300;
    var error = body.error || {};
    var failures = ok ? body.errors || [] : (error.details && error.details.errors) || [];
    if (!ok && !failures.length) { // the whole request was refused: keep the files
      say(error.message || strings.failed, true);
      return false;
    }
    if (!keepPrevious) {
      results.textContent = "";
      shown.forEach(function (url) { URL.revokeObjectURL(url); });
      shown = [];
    }
    var answers = (ok ? body.results : []).map(function (r) { return { index: r.index, result: r }; })
      .concat(failures.map(function (e) { return { index: e.index, error: e }; }))
      .sort(function (a, b) { return a.index - b.index; });
    var cards = document.createDocumentFragment();
    answers.forEach(function (answer) {
      var entry = entries[answer.index];
      cards.appendChild(answer.result ? resultCard(answer.result, entry) : failureCard(answer.error, entry));
    });
    results.insertBefore(cards, results.firstChild);
    entries.forEach(function (entry) { if (entry.url) { shown.push(entry.url); } });
    if (!ok) {
      say(error.message, true);
    } else if (failures.length) {
      say(format(strings.summary, { done: body.results.length, failed: failures.length }), false);
    } else {
      say(strings.done, false);
    }
    return true;
  }

  // Classifies entries ({file, url}) and shows the answers; the kept ones
  // (keepPrevious) go on top of the results already there.
  function send(entries, keepPrevious) {
    if (busy) { return Promise.resolve(false); }
    busy = true;
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    var data = new FormData();
    entries.forEach(function (entry) { data.append("file", entry.file, entry.file.name); });
    data.append("model", form.elements.model.value);
    data.append("store", form.elements.store.checked ? "true" : "false");
    say(strings.uploading, false);
    showProgress(0, false);
    return post(form.dataset.api, data, showProgress).then(function (response) {
      return showAnswer(response, entries, keepPrevious);
    }).catch(function () {
      say(strings.failed, true);
      return false;
    }).then(function (answered) {
      busy = false;
      button.removeAttribute("aria-busy");
      button.disabled = false;
      progressBox.hidden = true;
      return answered;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen.length) { say(strings.none, true); fileInput.focus(); return; }
    var entries = chosen.slice();
    send(entries, false).then(function (answered) {
      if (answered) { // the answers now show these files (and own their object URLs)
        chosen = chosen.filter(function (entry) { return entries.indexOf(entry) < 0; });
        renderPreviews();
      }
    });
  });

  window.PicsortClassify = {
    format: format,
    post: post,
    send: send,
    showClasses: showClasses,
    entryFor: entryFor
  };
})();

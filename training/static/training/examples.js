// A classifier's page: drop photos on a class, or hold a button to record them
// from the camera (PicsortCamera, core/camera.js). Both send the photos to the
// examples API, then redraw that class's card from the page the server renders.
// Without JavaScript the per-class upload forms do the same.
(function () {
  "use strict";

  var cards = document.querySelector(".class-cards[data-api]");
  var strings = document.getElementById("training-strings");
  if (!cards || !strings || !window.fetch || !window.FormData) { return; }
  var api = cards.dataset.api;
  var maxFiles = parseInt(cards.dataset.maxFiles, 10) || 50;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var text = function (name, count) {
    return (strings.dataset[name] || "").replace("{count}", count);
  };
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  function status(card, message, isError) {
    var box = card.querySelector(".class-status");
    box.textContent = message;
    box.classList.toggle("form-errors", Boolean(isError));
    box.setAttribute("role", isError ? "alert" : "status");
  }

  // The card as the server draws it now (counts, thumbnails, warnings).
  function redraw(card) {
    return fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(card.id);
        if (!fresh) { return; }
        ["header", ".example-grid"].forEach(function (selector) {
          card.querySelector(selector).replaceWith(fresh.querySelector(selector));
        });
        var warning = card.querySelector(":scope > .warning");
        var freshWarning = fresh.querySelector(":scope > .warning");
        if (warning) { warning.remove(); }
        if (freshWarning) { card.querySelector("header").after(freshWarning); }
        card.classList.toggle("few", fresh.classList.contains("few"));
      });
  }

  function send(card, files) {
    var batches = [];
    for (var i = 0; i < files.length; i += maxFiles) { batches.push(files.slice(i, i + maxFiles)); }
    status(card, text("uploading", files.length));
    var chain = Promise.resolve();
    batches.forEach(function (batch) {
      chain = chain.then(function () {
        var body = new FormData();
        body.append("class_name", card.dataset.class);
        batch.forEach(function (file) { body.append("file", file, file.name); });
        return fetch(api, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: {
            "X-CSRFToken": csrf,
            "Accept": "application/json",
            "Accept-Language": document.documentElement.lang
          }
        }).then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (!response.ok) {
              throw new Error((answer.error && answer.error.message) || text("failed"));
            }
          });
        });
      });
    });
    return chain.then(function () {
      return redraw(card).then(function () { status(card, text("added")); });
    }).catch(function (error) {
      status(card, error.message || text("failed"), true);
      return redraw(card);
    });
  }

  // Drop photos on a class.
  cards.querySelectorAll(".drop-target").forEach(function (card) {
    var depth = 0;
    card.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      card.classList.add("dragging");
    });
    card.addEventListener("dragover", function (event) { event.preventDefault(); });
    card.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (!depth) { card.classList.remove("dragging"); }
    });
    card.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      card.classList.remove("dragging");
      var files = Array.prototype.filter.call(event.dataTransfer.files, function (file) {
        return !file.type || file.type.indexOf("image/") === 0;
      });
      if (files.length) { send(card, files); }
    });
  });

  // Record from the camera: press and hold; a few photos a second.
  var camera = window.PicsortCamera;
  var recorder = document.getElementById("recorder");
  if (!camera || !camera.supported() || !recorder) { return; }
  var video = document.getElementById("recorder-video");
  var button = document.getElementById("record-button");
  var count = document.getElementById("recorder-count");
  var current = null; // the class card the camera records for
  var frames = [];
  var timer = null;
  var EVERY_MS = 250;
  var MAX_SIDE = 512; // examples are stored at most this large anyway

  function close() {
    stopRecording(false);
    camera.stop();
    recorder.hidden = true;
    if (current) { current.querySelector("[data-record]").setAttribute("aria-expanded", "false"); }
    current = null;
  }

  function open(card) {
    if (current === card) { close(); return; }
    close();
    current = card;
    card.querySelector(".class-status").before(recorder);
    recorder.hidden = false;
    count.textContent = "";
    card.querySelector("[data-record]").setAttribute("aria-expanded", "true");
    camera.start(video, { width: 640, height: 480 }).catch(function (error) {
      var message = { denied: "denied", not_found: "noCamera", busy: "busy" }[error.code] || "cameraFailed";
      if (error.code === "stopped") { return; }
      var card = current;
      close();
      status(card, text(message), true);
    });
  }

  function grab() {
    if (frames.length >= maxFiles) { stopRecording(true); return; }
    camera.frame({ maxSide: MAX_SIDE, quality: 0.85 }).then(function (blob) {
      if (timer === null) { return; }
      frames.push(new File([blob], "camera-" + Date.now() + "-" + frames.length + ".jpg", { type: "image/jpeg" }));
      count.textContent = text("recording", frames.length);
    }).catch(function () {});
  }

  function startRecording(event) {
    if (event) { event.preventDefault(); }
    if (timer !== null || !camera.active()) { return; }
    frames = [];
    button.classList.add("recording");
    button.setAttribute("aria-pressed", "true");
    grab();
    timer = window.setInterval(grab, EVERY_MS);
  }

  function stopRecording(upload) {
    if (timer === null) { return; }
    window.clearInterval(timer);
    timer = null;
    button.classList.remove("recording");
    button.setAttribute("aria-pressed", "false");
    var taken = frames;
    frames = [];
    if (upload && taken.length && current) { send(current, taken); }
  }

  cards.querySelectorAll("[data-record]").forEach(function (toggle) {
    toggle.hidden = false;
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", "recorder");
    toggle.addEventListener("click", function () { open(toggle.closest(".class-card")); });
  });
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("pointerdown", function (event) {
    button.setPointerCapture(event.pointerId);
    startRecording(event);
  });
  ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (name) {
    button.addEventListener(name, function () { stopRecording(true); });
  });
  button.addEventListener("contextmenu", function (event) { event.preventDefault(); });
  button.addEventListener("keydown", function (event) {
    if ((event.key === " " || event.key === "Enter") && !event.repeat) { startRecording(event); }
  });
  button.addEventListener("keyup", function (event) {
    if (event.key === " " || event.key === "Enter") { event.preventDefault(); stopRecording(true); }
  });
  document.getElementById("recorder-close").addEventListener("click", close);
})();

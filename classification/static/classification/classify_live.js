// Classify page: the live camera, as Teachable Machine does it. The preview is
// classified with the chosen classifier about once a second through the
// preview API, which stores nothing; one request at a time, never more.
// "Keep this frame" sends the current picture like an upload (classified and,
// with "keep my images", stored). The camera stops with Stop or when the page
// is left. Needs core/camera.js and classify.js.
(function () {
  "use strict";
  var camera = window.PicsortCamera;
  var page = window.PicsortClassify;
  var form = document.getElementById("classify-form");
  if (!form || !camera || !page || !camera.supported()) { return; }
  function byId(id) { return document.getElementById(id); }
  var strings = byId("strings").dataset;
  var startButton = byId("camera-start");
  var panel = byId("camera-panel");
  var video = byId("camera-video");
  var classes = byId("camera-classes");
  var status = byId("camera-status");
  var keepButton = byId("camera-keep");
  var stopButton = byId("camera-stop");
  var INTERVAL = 1000; // between the starts of two frames, at least
  var running = false;
  var timer = null;
  var lastTop = null;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  // The live camera takes the place of the phone's "take a photo" picker.
  startButton.hidden = false;
  Array.prototype.forEach.call(document.querySelectorAll(".camera-capture"), function (node) {
    node.hidden = true;
  });

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  }

  function showFrame(result) {
    page.showClasses(classes, result.classes);
    var top = result.classes.length ? result.classes[0].name : "";
    if (top !== lastTop) { // announce a change, not every frame
      lastTop = top;
      say(page.format(strings.cameraLive, { name: top }), false);
    }
    panel.dataset.frames = String(Number(panel.dataset.frames || 0) + 1);
  }

  function tick() {
    timer = null;
    if (!running) { return; }
    if (document.hidden) { schedule(INTERVAL); return; } // nobody is looking
    var started = Date.now();
    camera.frame({ maxSide: 480, quality: 0.8 }).then(function (blob) {
      var data = new FormData();
      data.append("file", blob, "frame.jpg");
      data.append("model", form.elements.model.value);
      data.append("top_k", "3");
      return page.post(form.dataset.previewApi, data);
    }).then(function (response) {
      if (!running) { return; }
      if (response.status === 429) {
        var wait = Math.max(1, response.retryAfter);
        say(page.format(strings.cameraPaused, { seconds: wait }), true);
        lastTop = null;
        schedule(wait * 1000);
        return;
      }
      var body = response.body;
      if (response.status !== 200 || !body.results || !body.results.length) {
        say((body.error && body.error.message) || strings.failed, true);
        lastTop = null;
        schedule(INTERVAL * 3);
        return;
      }
      showFrame(body.results[0]);
      schedule(Math.max(0, INTERVAL - (Date.now() - started)));
    }).catch(function () {
      if (running) { say(strings.failed, true); schedule(INTERVAL * 3); }
    });
  }

  function stopLive(announce) {
    running = false;
    clearTimeout(timer);
    timer = null;
    camera.stop();
    panel.hidden = true;
    classes.textContent = "";
    lastTop = null;
    startButton.hidden = false;
    startButton.disabled = false;
    if (announce) {
      say(strings.cameraStopped, false);
      startButton.focus();
    }
  }

  startButton.addEventListener("click", function () {
    startButton.disabled = true;
    panel.hidden = false;
    say(strings.cameraStarting, false);
    camera.start(video).then(function () {
      running = true;
      startButton.hidden = true;
      panel.scrollIntoView({ block: "nearest" });
      stopButton.focus();
      schedule(0);
    }).catch(function (error) {
      var key = "camera" + (error.code || "failed").replace(/(^|_)(\w)/g, function (m, s, c) {
        return c.toUpperCase();
      });
      panel.hidden = true;
      startButton.disabled = false;
      var message = strings[key] || strings.cameraFailed;
      var pageStatus = byId("status");
      pageStatus.textContent = message;
      pageStatus.setAttribute("role", "alert");
      pageStatus.classList.add("error");
    });
  });

  stopButton.addEventListener("click", function () { stopLive(true); });

  keepButton.addEventListener("click", function () {
    keepButton.disabled = true;
    camera.frame({ quality: 0.92 }).then(function (blob) {
      var stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
      var file = new File([blob], strings.cameraName + "-" + stamp + ".jpg", { type: "image/jpeg" });
      say(strings.cameraKept, false);
      return page.send([page.entryFor(file)], true);
    }).catch(function () {
      say(strings.failed, true);
    }).then(function () {
      keepButton.disabled = false;
    });
  });

  form.elements.model.addEventListener("change", function () { lastTop = null; });
  window.addEventListener("pagehide", function () { stopLive(false); });
})();

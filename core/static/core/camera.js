// PicsortCamera: the device's camera shown in a <video> element, for any page.
//
//   PicsortCamera.supported() -> true when this browser can use a camera on this
//       page (the camera API exists and the page is a secure context: https or
//       localhost).
//   PicsortCamera.start(video, options) -> Promise, resolved once the preview
//       plays in `video`. options (all optional): facingMode ("environment", the
//       default, prefers a phone's back camera; "user" the front one), width and
//       height (the ideal size, 1280 x 720 by default). Rejected with an Error
//       whose .code is one of:
//         "unsupported"  no camera API here (see supported())
//         "denied"       the person or a browser policy refused the camera
//         "not_found"    there is no camera
//         "busy"         another application holds the camera
//         "stopped"      stop() was called before the camera was ready
//         "failed"       anything else
//       Calling start() again first stops the camera that is running.
//   PicsortCamera.frame(options) -> Promise<Blob>: the picture in the preview
//       now. options (all optional): type ("image/jpeg"), quality (0.9),
//       maxSide (the longer side in pixels; by default the camera's own size).
//       Rejected with .code "inactive" when the camera is not running.
//   PicsortCamera.stop() -> stops the camera (its light goes off) and empties
//       the video element. Safe to call at any time.
//   PicsortCamera.active() -> true while the camera runs.
//
// One camera per page. It also stops by itself when the page is left
// (pagehide). The caller owns every word shown to people: map the error codes
// above to translated messages. No Content-Security-Policy change is needed:
// the stream is attached with srcObject (not a URL) and frames are blobs.
(function () {
  "use strict";
  var stream = null;
  var video = null;
  var generation = 0; // start() and stop() calls, so a late camera is not kept

  function failure(code, cause) {
    var error = new Error("camera: " + code);
    error.code = code;
    error.cause = cause;
    return error;
  }

  function codeFor(error) {
    switch (error && error.name) {
      case "NotAllowedError":
      case "SecurityError":
        return "denied";
      case "NotFoundError":
      case "OverconstrainedError":
        return "not_found";
      case "NotReadableError":
      case "AbortError":
        return "busy";
      default:
        return "failed";
    }
  }

  function supported() {
    return Boolean(
      window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia
    );
  }

  function stop() {
    generation += 1;
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    if (video) {
      video.pause();
      video.srcObject = null;
      video = null;
    }
  }

  function playing(element) {
    return new Promise(function (resolve, reject) {
      function play() { element.play().then(resolve, reject); }
      if (element.readyState >= 1) { play(); } else {
        element.addEventListener("loadedmetadata", play, { once: true });
      }
    });
  }

  function start(element, options) {
    options = options || {};
    if (!supported()) { return Promise.reject(failure("unsupported")); }
    stop();
    var mine = generation;
    var constraints = {
      audio: false,
      video: {
        facingMode: { ideal: options.facingMode || "environment" },
        width: { ideal: options.width || 1280 },
        height: { ideal: options.height || 720 }
      }
    };
    return navigator.mediaDevices.getUserMedia(constraints).then(function (media) {
      if (mine !== generation) { // stopped while the browser was asking
        media.getTracks().forEach(function (track) { track.stop(); });
        throw failure("stopped");
      }
      stream = media;
      video = element;
      element.muted = true;
      element.playsInline = true;
      element.srcObject = media;
      return playing(element);
    }).catch(function (error) {
      if (mine === generation) { stop(); }
      throw error && error.code ? error : failure(codeFor(error), error);
    });
  }

  function frame(options) {
    options = options || {};
    if (!stream || !video || !video.videoWidth) { return Promise.reject(failure("inactive")); }
    var width = video.videoWidth;
    var height = video.videoHeight;
    var scale = options.maxSide ? Math.min(1, options.maxSide / Math.max(width, height)) : 1;
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) { resolve(blob); } else { reject(failure("failed")); }
      }, options.type || "image/jpeg", options.quality || 0.9);
    });
  }

  window.addEventListener("pagehide", stop);

  window.PicsortCamera = {
    supported: supported,
    start: start,
    frame: frame,
    stop: stop,
    active: function () { return Boolean(stream); }
  };
})();

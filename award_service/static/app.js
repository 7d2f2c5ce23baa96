// Small progressive enhancements; every page works without JavaScript.
document.querySelectorAll("[data-print]").forEach(function (b) {
  b.addEventListener("click", function () { window.print(); });
});
document.querySelectorAll("form[data-confirm]").forEach(function (f) {
  f.addEventListener("submit", function (e) {
    if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
  });
});
var summary = document.querySelector(".error-summary");
if (summary) { summary.focus(); }

// Door check-in: counts kept current (several doors check people in), and a
// camera scan where the browser can read QR codes (BarcodeDetector); a
// handheld scanner or typing works everywhere without either.
var counts = document.querySelector("[data-counts-url]");
if (counts && window.fetch) {
  window.setInterval(function () {
    fetch(counts.getAttribute("data-counts-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c) { return; }
        ["arrived", "registered", "capacity"].forEach(function (k) {
          var el = counts.querySelector('[data-count="' + k + '"]');
          if (el && String(c[k]) !== el.textContent) { el.textContent = c[k]; }
        });
      })
      .catch(function () {});
  }, 10000);
}
var cameraButton = document.querySelector("[data-camera-scan]");
if (cameraButton && "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  cameraButton.hidden = false;
  cameraButton.addEventListener("click", function () {
    var form = cameraButton.form;
    var video = form.querySelector("[data-camera-view]");
    var field = form.querySelector("input[name=code]");
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var look = function () {
        detector.detect(video).then(function (found) {
          if (found.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            field.value = found[0].rawValue;
            form.submit();
          } else {
            window.requestAnimationFrame(look);
          }
        }).catch(function () { window.requestAnimationFrame(look); });
      };
      look();
    }).catch(function () { cameraButton.hidden = true; field.focus(); });
  });
}

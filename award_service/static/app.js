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

// Narrow screens show tables as stacked cards (style.css): each cell gets the
// heading of its column as data-label, unless the template gave it one.
Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
  var labels = [];
  var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
  if (!head) { return; }
  Array.prototype.forEach.call(head.cells, function (th) {
    for (var i = 0; i < (th.colSpan || 1); i++) { labels.push(th.textContent.replace(/\s+/g, " ").trim()); }
  });
  Array.prototype.forEach.call(table.tBodies, function (body) {
    Array.prototype.forEach.call(body.rows, function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && labels[column]) {
          cell.setAttribute("data-label", labels[column]);
        }
        if (!cell.textContent.trim() && !cell.querySelector("input, button, select, textarea, a, img, svg")) {
          cell.setAttribute("data-empty", "");  // a card shows no heading over nothing
        }
        column += cell.colSpan || 1;
      });
    });
  });
});

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

// Copy buttons: a <button data-copy="ID"> copies the text of the element with that id. The
// buttons are hidden until this script runs, so without JavaScript only the selectable text
// shows. htmx (loaded beside this file) only enhances forms that work without it.
(function () {
  "use strict";
  function wire(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (b) {
      if (b.dataset.wired) return;
      b.dataset.wired = "1";
      b.hidden = false;
      b.addEventListener("click", function () {
        var src = document.getElementById(b.dataset.copy);
        if (!src) return;
        var text = src.value !== undefined && src.tagName === "INPUT" ? src.value : src.textContent.trim();
        var done = function () {
          var old = b.textContent;
          b.textContent = "Copied";
          b.setAttribute("aria-live", "polite");
          setTimeout(function () { b.textContent = old; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done);
        } else {
          var r = document.createRange();
          r.selectNodeContents(src);
          var s = window.getSelection();
          s.removeAllRanges();
          s.addRange(r);
          try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
        }
      });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (f) {
      if (f.dataset.wired) return;
      f.dataset.wired = "1";
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); }
      }, true);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (e) { wire(e.target); });
})();

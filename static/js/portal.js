// Self-service portal behaviours. Every page works without them.
(function () {
  "use strict";
  // "Reply now" moves the focus to the reply box, not only the scroll position.
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-focus-target]");
    if (!link) {
      return;
    }
    const target = document.querySelector(link.getAttribute("href"));
    if (target) {
      event.preventDefault();
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    }
  });
})();

// The desk's incident list: bulk selection and j / k / x row shortcuts.
(function () {
  const form = document.getElementById("bulk-form");
  if (!form) return;
  function update() {
    const boxes = form.querySelectorAll("input[data-number]:checked");
    // number:version — a row another desk changed since this page was drawn is refused (409)
    const numbers = Array.from(boxes).map((b) => b.dataset.number + ":" + b.dataset.version);
    document.getElementById("bulk-numbers").value = numbers.join(",");
    form.querySelectorAll("[data-bulk]").forEach((b) => (b.disabled = numbers.length === 0));
    const count = document.getElementById("bulk-count");
    if (count) count.textContent = numbers.length ? numbers.length + " " + count.dataset.selected : count.dataset.none;
  }
  const count = document.getElementById("bulk-count");
  if (count) count.dataset.none = count.textContent;
  form.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      form.querySelectorAll("input[data-number]").forEach((b) => (b.checked = event.target.checked));
    }
    update();
  });
  document.body.addEventListener("htmx:afterSwap", update);
  // j / k move between rows, Enter / o opens the focused one, x selects it.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) return;
    const links = Array.from(document.querySelectorAll("#incident-rows a.ticket-link"));
    if (!links.length) return;
    const index = links.indexOf(document.activeElement);
    if (event.key === "j" || event.key === "k") {
      const next = event.key === "j" ? Math.min(index + 1, links.length - 1) : Math.max(index - 1, 0);
      links[index === -1 ? 0 : next].focus();
      event.preventDefault();
    } else if (event.key === "x" && index !== -1) {
      const box = links[index].closest("tr").querySelector("input[data-number]");
      if (box) { box.checked = !box.checked; update(); }
    }
  });
})();

// The desk's bulk bar: the state menu offers only the moves the workflow allows for every
// selected ticket (each checkbox carries its ticket's allowed moves in data-moves).
(function () {
  "use strict";
  const form = document.getElementById("bulk-form");
  const menu = document.getElementById("bulk-state");
  if (!form || !menu) {
    return;
  }
  function offer() {
    const selected = Array.from(form.querySelectorAll("input[data-number]:checked"));
    Array.from(menu.options).forEach(function (option) {
      if (!option.value) {
        return;
      }
      const allowed = selected.every(function (box) {
        return (box.dataset.moves || "").split(" ").includes(option.value);
      });
      option.disabled = !allowed;
      option.hidden = !allowed;
    });
    if (menu.selectedOptions.length && menu.selectedOptions[0].disabled) {
      menu.value = "";
    }
  }
  form.addEventListener("change", function (event) {
    if (event.target !== menu) {
      offer();
    }
  });
  document.body.addEventListener("htmx:afterSwap", offer);
  offer();
})();

// The catalog's behaviours; every page works without them.
// 1. Forms marked data-validate are checked before they are sent, with the server's words
//    (data-msg-* attributes); the server checks everything again.
// 2. The form builder: add, move and remove questions and tasks in place.
// 3. Forms marked data-confirm ask first.
(function () {
  "use strict";

  // --- 1. Validation ---------------------------------------------------------------------------
  function feedback(field) {
    const id = field.id + "_errors";
    let box = document.getElementById(id);
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "invalid-feedback";
      field.insertAdjacentElement("afterend", box);
    }
    return box;
  }

  function message(field) {
    const v = field.validity;
    const data = field.dataset;
    if (v.valueMissing) return data.msgRequired || field.validationMessage;
    if (v.badInput || v.typeMismatch) return data.msgType || field.validationMessage;
    if (v.rangeUnderflow) return data.msgMin || field.validationMessage;
    if (v.rangeOverflow) return data.msgMax || field.validationMessage;
    if (v.tooLong) return data.msgLength || field.validationMessage;
    return field.validationMessage;
  }

  function show(field, text) {
    const box = feedback(field);
    box.textContent = text;
    box.classList.toggle("d-block", Boolean(text));
    field.classList.toggle("is-invalid", Boolean(text));
    if (text) {
      field.setAttribute("aria-invalid", "true");
      const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!described.includes(box.id)) described.unshift(box.id);
      field.setAttribute("aria-describedby", described.join(" "));
    } else {
      field.removeAttribute("aria-invalid");
    }
  }

  function check(field) {
    if (!field.willValidate) return true;
    const text = field.checkValidity() ? "" : message(field);
    show(field, text);
    return !text;
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (!form.matches("form[data-validate]")) return;
    const submitter = event.submitter;
    let first = null;
    if (submitter && submitter.dataset.needsComment) {
      const comment = document.getElementById(submitter.dataset.needsComment);
      if (comment && !comment.value.trim()) {
        show(comment, submitter.dataset.msgRequired);
        first = comment;
      }
    }
    if (!submitter || submitter.name !== "decision") {
      form.querySelectorAll("input, select, textarea").forEach(function (field) {
        if (!check(field) && !first) first = field;
      });
    }
    const summary = form.querySelector("[data-validate-summary]");
    if (summary) summary.classList.toggle("d-none", !first);
    if (first) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("input", function (event) {
    const field = event.target;
    if (field.classList && field.classList.contains("is-invalid") && field.closest("form[data-validate]")) {
      if (field.validity.valid) show(field, "");
    }
  });
  document.addEventListener("change", function (event) {
    const field = event.target;
    if (field.type === "checkbox" && field.classList.contains("is-invalid") && field.checked) show(field, "");
  });

  // --- 2. The form builder ---------------------------------------------------------------------
  function cards(list) {
    return Array.from(list.querySelectorAll(":scope > [data-card]"));
  }

  function renumber(list) {
    cards(list).forEach(function (card, index) {
      const order = card.querySelector('input[name$="-ORDER"]');
      if (order) order.value = index + 1;
    });
  }

  function typeChanged(card) {
    const select = card.querySelector('select[name$="-type"]');
    if (!select) return;
    card.querySelectorAll("[data-show-for]").forEach(function (block) {
      block.hidden = block.dataset.showFor !== select.value;
    });
  }

  function enhance(card) {
    card.querySelectorAll("[data-move]").forEach(function (button) { button.hidden = false; });
    typeChanged(card);
    const remove = card.querySelector('input[type=checkbox][name$="-DELETE"]');
    if (remove) card.classList.toggle("removed", remove.checked);
  }

  document.querySelectorAll("[data-formset]").forEach(function (list) {
    cards(list).forEach(enhance);
    renumber(list);
  });

  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-add-card]");
    if (add) {
      const prefix = add.dataset.addCard;
      const list = document.querySelector('[data-formset="' + prefix + '"]');
      const template = document.getElementById(prefix + "-template");
      const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
      if (!list || !template || !total) return;
      event.preventDefault();
      const index = Number(total.value);
      const html = template.innerHTML.replace(/__prefix__/g, String(index));
      list.insertAdjacentHTML("beforeend", html);
      total.value = index + 1;
      const card = cards(list).pop();
      enhance(card);
      renumber(list);
      const empty = list.parentElement.querySelector("[data-empty]");
      if (empty) empty.hidden = true;
      const firstInput = card.querySelector("input:not([type=hidden]), textarea");
      if (firstInput) firstInput.focus();
      return;
    }
    const move = event.target.closest("[data-move]");
    if (move) {
      const card = move.closest("[data-card]");
      const list = card.parentElement;
      if (move.dataset.move === "up" && card.previousElementSibling) {
        list.insertBefore(card, card.previousElementSibling);
      } else if (move.dataset.move === "down" && card.nextElementSibling) {
        list.insertBefore(card.nextElementSibling, card);
      }
      renumber(list);
      move.focus();
    }
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    const card = target.closest && target.closest("[data-card]");
    if (!card) return;
    if (target.matches('select[name$="-type"]')) typeChanged(card);
    if (target.matches('input[name$="-DELETE"]')) card.classList.toggle("removed", target.checked);
  });

  document.addEventListener("input", function (event) {
    const target = event.target;
    if (!target.matches || !target.matches('input[name$="-label"], input[name$="-title"]')) return;
    const card = target.closest("[data-card]");
    const title = card && card.querySelector("[data-card-title]");
    if (title && target.value.trim()) title.textContent = target.value;
  });
})();

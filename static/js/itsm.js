// Small behaviours shared by every page. No framework: htmx does the partial updates.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("select[data-autosubmit]")) {
      target.form.requestSubmit();
    }
  });

  // Sign-in page in demo mode: a demo account fills the form and signs in.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-demo-login]");
    if (!button) {
      return;
    }
    const form = document.getElementById("login-form");
    form.elements.username.value = button.dataset.demoLogin;
    form.elements.password.value = button.dataset.demoPassword;
    form.requestSubmit();
  });

  // Keyboard shortcuts: elements declare data-shortcut="a"; "?" shows the list.
  function typing(element) {
    return element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) {
      return;
    }
    if (event.key === "?") {
      const help = document.getElementById("shortcut-help");
      if (help && window.bootstrap) {
        window.bootstrap.Modal.getOrCreateInstance(help).toggle();
        event.preventDefault();
      }
      return;
    }
    const target = document.querySelector('[data-shortcut="' + CSS.escape(event.key) + '"]');
    if (target) {
      event.preventDefault();
      if (target.matches("input, textarea, select")) {
        target.focus();
      } else {
        target.click();
      }
    }
  });

  // Widths the server computes (data-bar="0".."100", e.g. SLA timers) are set through the DOM:
  // the Content-Security-Policy allows no style attribute in the HTML.
  function sizeBars(root) {
    root.querySelectorAll("[data-bar]").forEach(function (bar) {
      bar.style.width = Math.min(100, Math.max(0, Number(bar.dataset.bar) || 0)) + "%";
    });
  }
  document.addEventListener("htmx:load", function (event) {
    sizeBars(event.target);
  });
  if (!window.htmx) {
    document.addEventListener("DOMContentLoaded", function () {
      sizeBars(document);
    });
  }

  // A long text (a description, a comment) folds after a screen, with a button that shows all
  // of it. Its labels come translated on <body data-show-more data-show-less>.
  function fold(root) {
    const limit = window.innerHeight * 0.75;
    root.querySelectorAll(".markdown-body:not([data-fold])").forEach(function (text) {
      text.dataset.fold = "";
      if (text.scrollHeight <= limit * 1.25) {
        return;
      }
      text.classList.add("folded");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-link btn-sm px-0 fold-toggle";
      button.setAttribute("aria-expanded", "false");
      button.textContent = document.body.dataset.showMore || "Show more";
      text.after(button);
    });
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest(".fold-toggle");
    if (!button) {
      return;
    }
    const text = button.previousElementSibling;
    const folded = text.classList.toggle("folded");
    button.setAttribute("aria-expanded", folded ? "false" : "true");
    button.textContent = folded ? document.body.dataset.showMore : document.body.dataset.showLess;
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { fold(document); });
  } else {
    fold(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { fold(event.target); });

  // htmx leaves error statuses unswapped; an answer meant to be shown at an error status says
  // so with X-Form-Errors and is shown: a form sent back with its errors (413: a file over the
  // size limit), or a request too large to read, whose message goes to #page-alerts.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.getResponseHeader("X-Form-Errors")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A form that came back with errors: its summary takes the focus (screen readers read it).
  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();

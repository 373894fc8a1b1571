// Change pages: confirmations, the CI picker (a pick becomes a ticked box), the type's
// template field, the success-rate chart (chart.js from node_modules).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // CI picker: choosing "name · class · #id" from the list adds a ticked box for it.
  document.addEventListener("change", function (event) {
    var input = event.target;
    var picker = input.closest && input.closest(".ci-picker");
    if (!picker || input.type !== "text") {
      return;
    }
    var match = /#(\d+)\s*$/.exec(input.value);
    if (!match) {
      return;
    }
    var name = picker.dataset.name;
    var id = match[1];
    var picked = picker.querySelector(".ci-picked");
    if (!picked.querySelector('input[value="' + id + '"]')) {
      var box = document.createElement("div");
      box.className = "form-check";
      var check = document.createElement("input");
      check.className = "form-check-input";
      check.type = "checkbox";
      check.name = name;
      check.value = id;
      check.checked = true;
      check.id = name + "-" + id;
      var label = document.createElement("label");
      label.className = "form-check-label";
      label.htmlFor = check.id;
      label.textContent = input.value;
      box.appendChild(check);
      box.appendChild(label);
      picked.appendChild(box);
    }
    input.value = "";
  });

  // New change: the template list matters for a standard change only.
  var template = document.getElementById("id_template");
  var types = document.querySelectorAll('input[name="type"]');
  function showTemplate() {
    if (!template) {
      return;
    }
    var chosen = document.querySelector('input[name="type"]:checked');
    var standard = chosen && chosen.value === "standard";
    template.closest(".mb-3").hidden = !standard;
  }
  types.forEach(function (radio) { radio.addEventListener("change", showTemplate); });
  if (types.length) {
    showTemplate();
  }

  // Success rate: closed changes by outcome (stacked bars) and the rate (line).
  var data = document.getElementById("success-data");
  var canvas = document.getElementById("success-chart");
  if (data && canvas && window.Chart) {
    var chart = JSON.parse(data.textContent);
    var colours = {
      successful: "#15803d",
      successful_with_issues: "#65a30d",
      failed: "#b91c1c",
      backed_out: "#c2410c",
    };
    var datasets = chart.outcomes.map(function (series) {
      return { type: "bar", label: series.label, data: series.data, stack: "n",
               backgroundColor: colours[series.key], yAxisID: "count" };
    });
    datasets.unshift({ type: "line", label: chart.rate_label, data: chart.rate,
                       borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", yAxisID: "rate",
                       spanGaps: true, tension: 0.2 });
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new window.Chart(canvas, {
      data: { labels: chart.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : undefined,
        scales: {
          count: { type: "linear", position: "left", beginAtZero: true, stacked: true,
                   ticks: { precision: 0 } },
          rate: { type: "linear", position: "right", min: 0, max: 100,
                  grid: { drawOnChartArea: false },
                  ticks: { callback: function (v) { return v + " %"; } } },
          x: { stacked: true },
        },
      },
    });
  }
})();

// Report and service-review charts (chart.js from node_modules). Each chart has a table beside
// it with the same figures, for screen readers and for people who prefer numbers; printing
// redraws the charts at the page's width.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
  const dataNode = document.getElementById("report-charts");
  if (!dataNode || !window.Chart) {
    return;
  }
  const charts = JSON.parse(dataNode.textContent);
  const colours = {
    primary: "#1d4ed8",
    success: "#15803d",
    warning: "#b45309",
    danger: "#b91c1c",
  };
  const drawn = [];

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const series = charts[canvas.dataset.chart];
    const holder = canvas.closest(".report-chart");
    const empty = !series || !series.datasets.some(function (set) {
      return set.data.some(function (n) { return n; });
    });
    if (empty) {
      holder.hidden = true;
      return;
    }
    drawn.push(new window.Chart(canvas, {
      type: canvas.dataset.kind || "bar",
      data: {
        labels: series.labels,
        datasets: series.datasets.map(function (set) {
          return {
            label: set.label,
            data: set.data,
            backgroundColor: colours[set.colour] || colours.primary,
            borderColor: colours[set.colour] || colours.primary,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false, // figures to read (and print), not a show
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 } },
          x: { ticks: { autoSkip: true, maxRotation: 0 } },
        },
        plugins: { legend: { display: series.datasets.length > 1 } },
      },
    }));
  });

  function redraw() {
    drawn.forEach(function (chart) { chart.resize(); });
  }
  window.addEventListener("beforeprint", redraw);
  window.addEventListener("afterprint", redraw);
  window.matchMedia("print").addEventListener("change", redraw);
})();

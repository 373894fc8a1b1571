// SLA dashboard charts (chart.js from node_modules). The tables beside each chart carry the
// same figures for screen readers and for people who prefer numbers.
(function () {
  "use strict";
  const dataNode = document.getElementById("sla-charts");
  if (!dataNode || !window.Chart) {
    return;
  }
  const charts = JSON.parse(dataNode.textContent);
  const labels = JSON.parse(document.getElementById("sla-chart-labels").textContent);
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const colour = {
    primary: "#1d4ed8",
    met: "#15803d",
    breached: "#b91c1c",
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const series = charts[canvas.dataset.chart];
    if (!series || !series.labels.length) {
      canvas.closest(".sla-chart").hidden = true;
      return;
    }
    const line = canvas.dataset.kind === "line";
    const datasets = [
      {
        type: line ? "line" : "bar",
        label: labels.compliance,
        data: series.compliance,
        yAxisID: "percent",
        backgroundColor: colour.primary,
        borderColor: colour.primary,
        spanGaps: true,
        tension: 0.2,
      },
    ];
    if (line) {
      datasets.push(
        { type: "bar", label: labels.met, data: series.met, yAxisID: "count",
          backgroundColor: "rgba(21, 128, 61, .35)", stack: "n" },
        { type: "bar", label: labels.breached, data: series.breached, yAxisID: "count",
          backgroundColor: "rgba(185, 28, 28, .45)", stack: "n" }
      );
    }
    const scales = {
      percent: { type: "linear", position: "left", min: 0, max: 100,
                 ticks: { callback: function (v) { return v + " %"; } } },
    };
    if (line) {
      scales.count = { type: "linear", position: "right", beginAtZero: true, stacked: true,
                       grid: { drawOnChartArea: false }, ticks: { precision: 0 } };
      scales.x = { stacked: true };
    }
    new window.Chart(canvas, {
      data: { labels: series.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : undefined,
        scales: scales,
        plugins: { legend: { display: line } },
      },
    });
  });
})();

// Problem management charts (chart.js from node_modules): linked incidents per week on the
// problem page, first and second half of the window on the candidates page. The tables beside
// them carry the same figures for screen readers and for people who prefer numbers.
(function () {
  "use strict";
  if (!window.Chart) {
    return;
  }
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const colours = { earlier: "#94a3b8", recent: "#1d4ed8", weekly: "#1d4ed8" };

  function read(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function weekly() {
    const canvas = document.querySelector("canvas[data-problem-chart]");
    const data = read("problem-weekly");
    if (!canvas || !data || canvas.dataset.drawn) {
      return;
    }
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.counts, backgroundColor: colours.weekly }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : undefined,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function candidates() {
    const charts = read("candidate-charts");
    const labels = read("candidate-chart-labels");
    if (!charts || !labels) {
      return;
    }
    document.querySelectorAll("canvas[data-candidate-chart]").forEach(function (canvas) {
      const series = charts[canvas.dataset.candidateChart];
      if (!series || !series.labels.length) {
        return;
      }
      canvas.parentElement.style.height = Math.max(120, 34 * series.labels.length + 50) + "px";
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: series.labels,
          datasets: [
            { label: labels.earlier, data: series.earlier, backgroundColor: colours.earlier },
            { label: labels.recent, data: series.recent, backgroundColor: colours.recent },
          ],
        },
        options: {
          indexAxis: "y",
          responsive: true,
          maintainAspectRatio: false,
          animation: reduced ? false : undefined,
          scales: {
            x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
            y: {
              stacked: true,
              ticks: {
                autoSkip: false,
                // long titles are cut here; the table below holds them whole
                callback: function (value) {
                  const label = this.getLabelForValue(value);
                  const room = canvas.clientWidth < 500 ? 18 : 40;
                  return label.length > room ? label.slice(0, room - 1) + "…" : label;
                },
              },
            },
          },
        },
      });
    });
  }

  weekly();
  candidates();
  // The problem page re-renders its main panel through htmx after each action.
  document.body.addEventListener("htmx:afterSwap", weekly);
})();

// Job page charts: loss, pair accuracy, reward margin (train, and validation at its evaluations) and drift
// from the reference per logging step (vendored Chart.js).
// Polls the job's metrics.json while the job is queued or running; the rest of the page is htmx.
(function () {
  "use strict";
  // keep the log tail scrolled to its newest line, also after each htmx refresh
  function scrollLog() {
    const log = document.getElementById("log-tail");
    if (log) log.scrollTop = log.scrollHeight;
  }
  scrollLog();
  document.body.addEventListener("htmx:afterSwap", scrollLog);

  const box = document.getElementById("job-charts");
  if (!box || typeof Chart === "undefined") return;
  const url = box.dataset.metricsUrl;
  const empty = document.getElementById("charts-empty");
  const common = {
    responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
    interaction: { mode: "index", intersect: false },
    scales: { x: { type: "linear", title: { display: true, text: "step" } } },
  };
  const lossChart = new Chart(document.getElementById("chart-loss"), {
    type: "line",
    data: { datasets: [
      { label: "train loss", data: [], borderColor: "#3b5bdb", pointRadius: 0, borderWidth: 2 },
      { label: "validation loss", data: [], borderColor: "#e8590c", pointRadius: 3, borderWidth: 2, borderDash: [6, 3] },
    ] },
    options: { ...common, scales: { ...common.scales, y: { title: { display: true, text: "loss" } } } },
  });
  const accChart = new Chart(document.getElementById("chart-accuracy"), {
    type: "line",
    data: { datasets: [
      { label: "pair accuracy", data: [], borderColor: "#2b8a3e", pointRadius: 0, borderWidth: 2, yAxisID: "y" },
      { label: "reward margin", data: [], borderColor: "#e67700", pointRadius: 0, borderWidth: 2, yAxisID: "y1" },
      { label: "validation pair accuracy", data: [], borderColor: "#0c8599", pointRadius: 3, borderWidth: 2,
        borderDash: [6, 3], yAxisID: "y" },
    ] },
    options: { ...common, scales: { ...common.scales,
      y: { min: 0, max: 1, title: { display: true, text: "pair accuracy" } },
      y1: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "reward margin" } } } },
  });

  function lineChart(id, datasets, yTitle) {
    const canvas = document.getElementById(id);
    if (!canvas) return null;
    return new Chart(canvas, {
      type: "line",
      data: { datasets: datasets.map(([label, color, dash]) => (
        { label, data: [], borderColor: color, pointRadius: 0, borderWidth: 2, borderDash: dash || [] })) },
      options: { ...common, scales: { ...common.scales, y: { title: { display: true, text: yTitle } } } },
    });
  }
  // drift from the reference: [chart, [[series key, dataset index], ...]]
  const driftCharts = [
    [lineChart("chart-rewards", [["reward, best tier", "#2b8a3e"], ["reward, worst tier", "#c92a2a"]], "implicit reward"),
     [["reward_best", 0], ["reward_worst", 1]]],
    [lineChart("chart-logps", [["policy, best tier", "#3b5bdb"], ["reference, best tier", "#868e96", [6, 4]]],
               "mean token log-prob"),
     [["logp_best_policy", 0], ["logp_best_reference", 1]]],
    [lineChart("chart-kl", [["KL estimate", "#862e9c"], ["warning threshold", "#e03131", [6, 4]]], "KL (nats)"),
     [["kl", 0]]],
  ].filter(([chart]) => chart);

  function drawDrift(data) {
    driftCharts.forEach(([chart, series]) => {
      series.forEach(([key, index]) => { chart.data.datasets[index].data = points(data.steps, data[key] || []); });
      if (chart.canvas.id === "chart-kl" && data.steps.length) {
        const last = data.steps[data.steps.length - 1];
        chart.data.datasets[1].data = [{ x: data.steps[0], y: data.kl_warning }, { x: last, y: data.kl_warning }];
      }
      chart.update();
    });
  }

  function points(steps, values) {
    const out = [];
    steps.forEach((step, i) => { if (values[i] !== null && values[i] !== undefined) out.push({ x: step, y: values[i] }); });
    return out;
  }

  function isActive() {
    const live = document.getElementById("job-live");
    return live ? live.dataset.active === "true" : false;
  }

  async function refresh() {
    let data;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      data = await response.json();
    } catch (err) {
      return; // offline for a moment: the next poll tries again
    }
    lossChart.data.datasets[0].data = points(data.steps, data.loss);
    lossChart.data.datasets[1].data = points(data.steps, data.eval_loss || []);
    accChart.data.datasets[2].data = points(data.steps, data.eval_pair_accuracy || []);
    accChart.data.datasets[0].data = points(data.steps, data.pair_accuracy);
    accChart.data.datasets[1].data = points(data.steps, data.reward_margin);
    lossChart.update();
    accChart.update();
    drawDrift(data);
    if (empty) empty.hidden = data.steps.length > 0;
    box.dataset.points = String(data.steps.length);
  }

  let wasActive = isActive();
  refresh();
  setInterval(() => {
    const active = isActive();
    if (active || wasActive) refresh(); // one last refresh after the job settles
    wasActive = active;
  }, 2500);
})();

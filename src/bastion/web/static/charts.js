// Bastion charts, shared by every page that draws any: each <section data-source="..."> fetches
// its JSON (same origin, session cookie), and each <section data-charts='{...}'> carries it in
// the attribute (auto-escaped by the template); either way every <canvas data-chart="name">
// inside is drawn with Chart.js from data[name]. data-refresh="30" re-fetches every 30 seconds.
// No inline script: the CSP forbids it.
(function () {
  "use strict";

  var charts = new WeakMap();

  function options(spec) {
    var opts = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: spec.type !== "bar" || spec.datasets.length > 1 } }
    };
    if (spec.indexAxis) { opts.indexAxis = spec.indexAxis; }
    if (spec.type === "line") {
      opts.interaction = { mode: "index", intersect: false };
      opts.scales = { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true } };
    }
    return opts;
  }

  function draw(canvas, spec) {
    if (!spec || typeof Chart === "undefined") { return; }
    var existing = charts.get(canvas);
    var data = { labels: spec.labels, datasets: spec.datasets };
    if (existing) {
      existing.data = data;
      existing.update();
      return;
    }
    charts.set(canvas, new Chart(canvas, { type: spec.type, data: data, options: options(spec) }));
    canvas.setAttribute("data-drawn", "true");
  }

  function show(section, data) {
    section.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      draw(canvas, data[canvas.getAttribute("data-chart")]);
    });
    section.querySelectorAll("[data-total]").forEach(function (cell) {
      var total = data.totals && data.totals[cell.getAttribute("data-total")];
      if (total !== undefined) { cell.textContent = String(total); }
    });
    section.setAttribute("data-loaded", "true");
  }

  function load(section) {
    var status = section.querySelector(".chart-status");
    fetch(section.getAttribute("data-source"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("the server answered " + response.status); }
      return response.json();
    }).then(function (data) {
      show(section, data);
      if (status) { status.textContent = "Updated " + new Date().toLocaleTimeString(); }
    }).catch(function (error) {
      if (status) { status.textContent = "Charts could not be loaded: " + error.message; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("section[data-charts]").forEach(function (section) {
      var status = section.querySelector(".chart-status");
      try {
        show(section, JSON.parse(section.getAttribute("data-charts")));
      } catch (error) {
        if (status) { status.textContent = "Charts could not be drawn: " + error.message; }
      }
    });
    document.querySelectorAll("section[data-source]").forEach(function (section) {
      load(section);
      var every = parseInt(section.getAttribute("data-refresh") || "0", 10);
      if (every > 0) { setInterval(function () { load(section); }, every * 1000); }
    });
  });
})();

// The dependency graph of a CI page: cytoscape.js with the dagre layered layout, left to right.
// A relationship "source depends on target" is drawn source -> target, so business services sit
// on the left and the infrastructure they need on the right. The same graph is in the page as a
// nested list (the "As a list" tab) for keyboard and screen-reader users.
(function () {
  "use strict";
  var dataElement = document.getElementById("ci-graph-data");
  var container = document.getElementById("ci-graph");
  if (!dataElement || !container || !window.cytoscape) {
    return;
  }
  if (window.cytoscapeDagre) {
    window.cytoscape.use(window.cytoscapeDagre);
  }
  var data = JSON.parse(dataElement.textContent);
  var status = document.getElementById("graph-status");
  var defaultStatus = status ? status.innerHTML : "";

  // Fill and border per class (border >= 3:1 against white).
  var CLASS_COLOURS = {
    business_service: ["#ede9fe", "#6d28d9"],
    application: ["#dbeafe", "#1d4ed8"],
    database: ["#cffafe", "#0e7490"],
    server: ["#e2e8f0", "#475569"],
    network_device: ["#dcfce7", "#15803d"],
    storage: ["#fef3c7", "#a16207"],
    cloud_resource: ["#e0f2fe", "#0369a1"]
  };
  var OTHER = ["#f1f5f9", "#64748b"];
  var typesElement = document.getElementById("ci-graph-types");
  var TYPE_LABELS = typesElement ? JSON.parse(typesElement.textContent) : {};

  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var ruler = document.createElement("canvas").getContext("2d");
  function textWidth(text, font) {
    ruler.font = font;
    return ruler.measureText(text).width;
  }

  function shorten(text, size) {
    return text.length > size ? text.slice(0, size - 1) + "\u2026" : text;
  }

  var elements = [];
  data.nodes.forEach(function (node) {
    var colours = CLASS_COLOURS[node["class"]] || OTHER;
    var classes = [node.side];
    if (node.side === "focus") classes.push("focus");
    if (node.service) classes.push("service");
    if (node.service && node.side === "down") classes.push("impacted");
    if (node.status === "retired") classes.push("retired");
    if (node.summary) classes.push("summary");
    var focus = node.side === "focus";
    var twoLines = focus || node.summary;
    var name = shorten(node.name, focus ? 40 : 30);
    var detail = shorten(node.class_label, 44);
    var font = focus ? "700 13px " + FONT : "11px " + FONT;
    var width = twoLines
      ? Math.max(textWidth(name, font), textWidth(detail, font)) + 32
      : textWidth(name, (node.service ? "600 " : "") + font) + 24;
    elements.push({
      group: "nodes",
      data: {
        id: String(node.id),
        label: twoLines ? name + "\n" + detail : name,
        width: Math.max(width, 60),
        name: node.name,
        classLabel: node.class_label,
        url: node.url,
        fill: colours[0],
        stroke: colours[1],
        depth: node.depth
      },
      classes: classes.join(" ")
    });
  });
  data.edges.forEach(function (edge) {
    elements.push({
      group: "edges",
      data: {
        id: "e" + edge.id,
        source: String(edge.source),
        target: String(edge.target),
        label: TYPE_LABELS[edge.type] || edge.type
      }
    });
  });

  var cy = window.cytoscape({
    container: container,
    elements: elements,
    minZoom: 0.2,
    maxZoom: 2.5,
    wheelSensitivity: 0.3,
    boxSelectionEnabled: false,
    autoungrabify: true,
    style: [
      {
        selector: "node",
        style: {
          shape: "round-rectangle",
          width: "data(width)",
          height: 26,
          "background-color": "data(fill)",
          "border-color": "data(stroke)",
          "border-width": 1.5,
          label: "data(label)",
          color: "#0f172a",
          "font-family": FONT,
          "font-size": 11,
          "text-wrap": "wrap",
          "text-max-width": 400,
          "text-valign": "center",
          "text-halign": "center",
          "line-height": 1.3
        }
      },
      { selector: "node.service", style: { "border-width": 2.5, "font-weight": 600 } },
      {
        selector: "node.impacted",
        style: { "background-color": "#fee2e2", "border-color": "#b91c1c", "border-width": 3, color: "#7f1d1d" }
      },
      {
        selector: "node.focus",
        style: {
          "background-color": "#fef3c7",
          "border-color": "#b45309",
          "border-width": 4,
          "font-weight": 700,
          "font-size": 13,
          height: 46
        }
      },
      { selector: "node.retired", style: { "border-style": "dashed", opacity: 0.6 } },
      {
        selector: "node.summary",
        style: {
          height: 40,
          "background-color": "#f8fafc",
          "border-color": "#64748b",
          "border-style": "dashed",
          "border-width": 1.5,
          color: "#334155",
          "font-style": "italic"
        }
      },
      {
        selector: "edge",
        style: {
          width: 1.4,
          "line-color": "#94a3b8",
          "target-arrow-color": "#94a3b8",
          "target-arrow-shape": "triangle",
          "arrow-scale": 0.9,
          "curve-style": "taxi",
          "taxi-direction": "rightward",
          "taxi-turn": "50%",
          "font-size": 10,
          color: "#1e3a8a",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.9,
          "text-background-padding": 2
        }
      },
      { selector: ".faded", style: { opacity: 0.15 } },
      {
        selector: "edge.lit",
        style: { "line-color": "#1d4ed8", "target-arrow-color": "#1d4ed8", width: 2.2, label: "data(label)" }
      }
    ],
    layout: {
      name: "dagre",
      rankDir: "LR",
      ranker: "network-simplex",
      nodeSep: 6,
      rankSep: 64,
      edgeSep: 4,
      padding: 16,
      fit: false
    }
  });

  // Size the box to the drawing so that labels stay readable: as tall as the drawing needs at
  // the zoom that fits its width (within limits), then fit.
  function size() {
    var box = cy.elements().boundingBox();
    var width = container.clientWidth || 800;
    var zoom = Math.min(1, (width - 32) / Math.max(box.w, 1));
    var height = Math.max(300, Math.min(1000, box.h * zoom + 40));
    container.style.height = Math.round(height) + "px";
    cy.resize();
    cy.fit(undefined, 16);
    if (cy.zoom() > 1.1) {
      cy.zoom(1.1);
      cy.center();
    }
  }
  size();
  container.dataset.ready = "true";
  container.dataset.nodes = String(cy.nodes().length);

  cy.on("tap", "node", function (event) {
    var node = event.target;
    var url = node.data("url");
    if (node.hasClass("focus") || !url) {
      return;
    }
    if (url.charAt(0) === "#") {
      var target = document.querySelector(url);
      var details = target && target.querySelector("details");
      if (details) details.open = true;
      if (target) target.scrollIntoView({ behavior: "smooth" });
      return;
    }
    window.location.href = url;
  });
  cy.on("mouseover", "node", function (event) {
    var node = event.target;
    var near = node.closedNeighborhood();
    cy.elements().not(near).addClass("faded");
    near.edges().addClass("lit");
    container.style.cursor = node.hasClass("focus") ? "default" : "pointer";
    if (status) {
      status.textContent = node.data("name") + " \u00b7 " + node.data("classLabel") +
        (node.hasClass("focus") ? "" : " \u00b7 " + (container.dataset.readyLabel || ""));
    }
  });
  cy.on("mouseout", "node", function () {
    cy.elements().removeClass("faded lit");
    container.style.cursor = "";
    if (status) status.innerHTML = defaultStatus;
  });

  document.querySelectorAll("[data-graph]").forEach(function (button) {
    button.addEventListener("click", function () {
      var action = button.dataset.graph;
      var centre = { x: container.clientWidth / 2, y: container.clientHeight / 2 };
      if (action === "fit") {
        cy.fit(undefined, 16);
      } else {
        cy.zoom({ level: cy.zoom() * (action === "zoom-in" ? 1.25 : 0.8), renderedPosition: centre });
      }
    });
  });
  window.addEventListener("resize", function () {
    cy.resize();
  });
  window.cmdbGraph = cy;
})();

// Communication map of one device, drawn with the vendored Cytoscape.js from JSON the server escaped.
(function () {
  const el = document.getElementById("commgraph");
  if (!el || typeof cytoscape === "undefined") return;
  let graph;
  try { graph = JSON.parse(el.dataset.graph || "{}"); } catch (e) { return; }
  const elements = [];
  (graph.nodes || []).forEach(n => elements.push({ data: { id: n.id, label: n.label, self: n.self ? 1 : 0 } }));
  (graph.edges || []).forEach((e, i) => elements.push({ data: { id: "e" + i, source: e.source, target: e.target, label: e.label } }));
  cytoscape({
    container: el, elements: elements, layout: { name: "concentric", concentric: n => n.data("self") ? 2 : 1 },
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, "background-color": "#0b6bcb", width: 14, height: 14 } },
      { selector: "node[self = 1]", style: { "background-color": "#d9480f", width: 22, height: 22 } },
      { selector: "edge", style: { label: "data(label)", "font-size": 8, width: 1, "line-color": "#9fb3c8", "curve-style": "bezier" } },
    ],
  });
})();

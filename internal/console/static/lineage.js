// Genesis console: the asset page's lineage graph. The server embeds the
// graph (only what the viewer may read: internal/console/lineage.go) in
// #lineage-graph's data-graph; this draws it as SVG in #lineage-graph: a layered layout
// (longest-path layers from the asset — upstream to the left, downstream
// to the right — then barycentre sweeps to untangle each layer), edges as
// curves, each node its name@version and marking colour. A node's toggles
// collapse or expand its upstream or downstream side (click, Enter or
// Space); its name links to its page. The drawing scrolls and zooms. The
// page's link lists (#lineage a.lineage-link) stay as the no-script view.
(function () {
  "use strict";
  performance.mark("lineage-start");
  var SVG = "http://www.w3.org/2000/svg";
  var COLW = 240, ROWH = 46, BOXW = 190, BOXH = 36, PAD = 24, SWEEPS = 4, MAXLABEL = 26;

  var host = document.getElementById("lineage-graph");
  if (!host || !host.dataset.graph) { return; }
  var g;
  try {
    g = JSON.parse(host.dataset.graph);
  } catch (e) {
    host.textContent = "The lineage graph could not be read.";
    return;
  }

  var byId = new Map(), parents = new Map(), children = new Map();
  g.nodes.forEach(function (n) { byId.set(n.id, n); parents.set(n.id, []); children.set(n.id, []); });
  g.edges.forEach(function (e) {
    if (!byId.has(e.from) || !byId.has(e.to)) { return; }
    children.get(e.from).push(e.to);
    parents.get(e.to).push(e.from);
  });
  var root = byId.get(g.root);
  if (!root) { return; }
  var collapsedUp = new Set(), collapsedDown = new Set();
  var scale = 1;

  // goesUp: does n's upstream side belong to the drawing (the root and
  // upstream nodes), and goesDown likewise.
  function goesUp(n) { return n.side === "root" || n.side === "up"; }
  function goesDown(n) { return n.side === "root" || n.side === "down"; }

  // visible is every node reachable from the root without crossing a
  // collapsed side.
  function visible() {
    var seen = new Set([root.id]), queue = [root.id];
    for (var i = 0; i < queue.length; i++) {
      var n = byId.get(queue[i]);
      if (goesUp(n) && !collapsedUp.has(n.id)) {
        parents.get(n.id).forEach(function (p) {
          if (!seen.has(p) && byId.get(p).side === "up") { seen.add(p); queue.push(p); }
        });
      }
      if (goesDown(n) && !collapsedDown.has(n.id)) {
        children.get(n.id).forEach(function (c) {
          if (!seen.has(c) && byId.get(c).side === "down") { seen.add(c); queue.push(c); }
        });
      }
    }
    return seen;
  }

  // layers assigns each visible node its longest-path layer: 0 for the
  // root, -k for a node k steps upstream along the longest visible path,
  // +k downstream (Kahn's order, so every edge goes left to right).
  function layers(vis) {
    var layer = new Map([[root.id, 0]]);
    [["up", parents, children, -1], ["down", children, parents, 1]].forEach(function (s) {
      var side = s[0], out = s[1], inn = s[2], sign = s[3];
      var pending = new Map();
      vis.forEach(function (id) {
        var n = byId.get(id);
        if (n.side !== side) { return; }
        var k = 0;
        inn.get(id).forEach(function (m) { if (vis.has(m) && (m === root.id || byId.get(m).side === side)) { k++; } });
        pending.set(id, k);
      });
      var queue = [root.id];
      for (var i = 0; i < queue.length; i++) {
        var id = queue[i], l = layer.get(id);
        out.get(id).forEach(function (m) {
          if (!pending.has(m)) { return; }
          if (!layer.has(m) || sign * layer.get(m) < sign * l + 1) { layer.set(m, l + sign); }
          var k = pending.get(m) - 1;
          pending.set(m, k);
          if (k === 0) { queue.push(m); }
        });
      }
    });
    return layer;
  }

  // order puts each layer's nodes in an order with few crossings:
  // breadth-first order first, then sweeps that sort each layer by the
  // mean position of its neighbours in the layers already placed.
  function order(vis, layer) {
    var min = 0, max = 0, rows = new Map();
    vis.forEach(function (id) {
      var l = layer.get(id);
      if (l === undefined) { return; }
      min = Math.min(min, l); max = Math.max(max, l);
      if (!rows.has(l)) { rows.set(l, []); }
      rows.get(l).push(id);
    });
    var pos = new Map();
    function place(l) {
      var row = rows.get(l);
      if (!row) { return; }
      var mid = (row.length - 1) / 2;
      row.forEach(function (id, i) { pos.set(id, i - mid); });
    }
    for (var l = min; l <= max; l++) { place(l); }
    function neighbours(id) { return parents.get(id).concat(children.get(id)); }
    function sweep(from, to, step) {
      for (var l = from; l !== to + step; l += step) {
        var row = rows.get(l);
        if (!row) { continue; }
        var bary = new Map();
        row.forEach(function (id) {
          var sum = 0, n = 0;
          neighbours(id).forEach(function (m) {
            var lm = layer.get(m);
            if (vis.has(m) && lm !== undefined && (step > 0 ? lm < l : lm > l)) { sum += pos.get(m); n++; }
          });
          bary.set(id, n ? sum / n : pos.get(id));
        });
        row.sort(function (a, b) { return bary.get(a) - bary.get(b) || pos.get(a) - pos.get(b); });
        place(l);
      }
    }
    for (var i = 0; i < SWEEPS; i++) {
      sweep(min + 1, max, 1);
      sweep(max - 1, min, -1);
    }
    return { min: min, max: max, rows: rows };
  }

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function short(s) { return s.length > MAXLABEL ? s.slice(0, MAXLABEL - 1) + "…" : s; }

  // The drawing's parts, made once.
  var bar = document.createElement("div");
  bar.className = "lineage-bar";
  var status = document.createElement("span");
  status.id = "lineage-status";
  status.className = "muted";
  status.setAttribute("aria-live", "polite");
  function button(text, label, fn) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", fn);
    bar.appendChild(b);
    return b;
  }
  button("−", "Zoom out", function () { zoom(scale / 1.25); }).id = "lineage-zoom-out";
  button("+", "Zoom in", function () { zoom(scale * 1.25); }).id = "lineage-zoom-in";
  button("Fit", "Fit the graph in view", fit).id = "lineage-fit";
  button("Expand all", "Expand every collapsed side", function () {
    collapsedUp.clear(); collapsedDown.clear(); draw(null);
  }).id = "lineage-expand-all";
  bar.appendChild(status);
  var view = document.createElement("div");
  view.className = "lineage-view";
  view.tabIndex = -1;
  host.replaceChildren(bar, view);
  var svg = el("svg", { "class": "lineage-svg", role: "group", "aria-label": "Lineage of " + root.name + "@" + root.version });
  view.appendChild(svg);
  var width = 0, height = 0;

  function zoom(s) {
    var cx = (view.scrollLeft + view.clientWidth / 2) / scale, cy = (view.scrollTop + view.clientHeight / 2) / scale;
    scale = Math.min(2.5, Math.max(0.1, s));
    svg.setAttribute("width", width * scale);
    svg.setAttribute("height", height * scale);
    view.scrollLeft = cx * scale - view.clientWidth / 2;
    view.scrollTop = cy * scale - view.clientHeight / 2;
  }
  function fit() {
    if (!width || !height) { return; }
    zoom(Math.min(1, view.clientWidth / width, view.clientHeight / height));
  }

  // Drag the background to pan.
  var drag = null;
  view.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0 || ev.target.closest("a, [role=button]")) { return; }
    drag = { x: ev.clientX, y: ev.clientY, l: view.scrollLeft, t: view.scrollTop };
    view.setPointerCapture(ev.pointerId);
  });
  view.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    view.scrollLeft = drag.l - (ev.clientX - drag.x);
    view.scrollTop = drag.t - (ev.clientY - drag.y);
  });
  view.addEventListener("pointerup", function () { drag = null; });
  view.addEventListener("pointercancel", function () { drag = null; });

  function toggle(id, up) {
    var set = up ? collapsedUp : collapsedDown;
    if (set.has(id)) { set.delete(id); } else { set.add(id); }
    draw({ id: id, side: up ? "up" : "down" });
  }
  svg.addEventListener("click", function (ev) {
    var t = ev.target.closest(".lineage-toggle");
    if (t) { toggle(t.getAttribute("data-node"), t.getAttribute("data-side") === "up"); }
  });
  svg.addEventListener("keydown", function (ev) {
    var t = ev.target.closest(".lineage-toggle");
    if (t && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      toggle(t.getAttribute("data-node"), t.getAttribute("data-side") === "up");
    }
  });

  // Node elements are made once and kept: a redraw moves them and hides
  // what is collapsed away (re-creating a thousand nodes costs more than
  // moving them).
  var edgeLayer = el("g", { "class": "lineage-edges", "aria-hidden": "true" }, svg);
  var nodeLayer = el("g", { "class": "lineage-nodes" }, svg);
  var made = new Map();

  // draw lays out and draws what is visible; focus names the toggle to
  // give the focus back to (the one just used).
  function draw(focus) {
    var vis = visible();
    var layer = layers(vis);
    var o = order(vis, layer);
    var most = 1;
    o.rows.forEach(function (row) { most = Math.max(most, row.length); });
    width = (o.max - o.min) * COLW + BOXW + 2 * PAD + 24;
    height = most * ROWH + 2 * PAD;
    var xy = new Map();
    for (var l = o.min; l <= o.max; l++) {
      var row = o.rows.get(l) || [];
      var top = PAD + (most - row.length) * ROWH / 2;
      row.forEach(function (id, i) { xy.set(id, { x: PAD + 12 + (l - o.min) * COLW, y: top + i * ROWH }); });
    }
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", width * scale);
    svg.setAttribute("height", height * scale);
    var d = [];
    g.edges.forEach(function (e) {
      var a = xy.get(e.from), b = xy.get(e.to);
      if (!a || !b) { return; }
      var x1 = a.x + BOXW, y1 = a.y + BOXH / 2, x2 = b.x, y2 = b.y + BOXH / 2, mx = (x1 + x2) / 2;
      d.push("M" + x1 + " " + y1 + "C" + mx + " " + y1 + " " + mx + " " + y2 + " " + x2 + " " + y2);
    });
    // One path per few hundred edges: thousands of path elements cost
    // more to lay out than a few long paths.
    var paths = [];
    for (var i = 0; i < d.length; i += 400) {
      paths.push(el("path", { d: d.slice(i, i + 400).join(""), "class": "lineage-edge" }));
    }
    edgeLayer.replaceChildren.apply(edgeLayer, paths);
    var fresh = document.createDocumentFragment();
    for (var l2 = o.min; l2 <= o.max; l2++) {
      (o.rows.get(l2) || []).forEach(function (id) {
        var m = made.get(id);
        if (!m) {
          m = makeNode(byId.get(id));
          made.set(id, m);
          fresh.appendChild(m.g);
        }
        var p = xy.get(id);
        m.g.setAttribute("transform", "translate(" + p.x + " " + p.y + ")");
        m.g.classList.remove("lineage-gone");
        if (m.up) { setToggle(m.up, collapsedUp.has(id)); }
        if (m.down) { setToggle(m.down, collapsedDown.has(id)); }
      });
    }
    nodeLayer.appendChild(fresh);
    made.forEach(function (m, id) { if (!xy.has(id)) { m.g.classList.add("lineage-gone"); } });
    var up = 0, down = 0;
    xy.forEach(function (_, id) { var s = byId.get(id).side; if (s === "up") { up++; } else if (s === "down") { down++; } });
    host.dataset.shown = String(xy.size);
    status.textContent = "Showing " + up + " of " + g.up + " upstream, " + down + " of " + g.down + " downstream.";
    if (focus) {
      var f = made.get(focus.id);
      f = f && (focus.side === "up" ? f.up : f.down);
      if (f) { f.focus({ preventScroll: true }); }
    }
    return xy;
  }

  function makeNode(n) {
    var lvl = ["open", "proprietary", "national-security"].indexOf(n.level) >= 0 ? n.level : "national-security";
    var grp = el("g", { "class": "lineage-n lineage-side-" + n.side, "data-id": n.id, "data-name": n.name });
    el("rect", { "class": "lineage-box" + (n.side === "root" ? " lineage-root" : ""), width: BOXW, height: BOXH, rx: 5 }, grp);
    el("rect", { "class": "lineage-mark marking-" + lvl, width: 6, height: BOXH, rx: 2 }, grp);
    var a = el("a", { "class": "lineage-node", href: "/assets/" + encodeURIComponent(n.name) }, grp);
    var title = el("title", {}, a);
    title.textContent = (n.title ? n.title + " — " : "") + n.name + "@" + n.version + " · " + n.marking;
    var t1 = el("text", { x: 12, y: 15, "class": "lineage-name" }, a);
    t1.textContent = short(n.name + "@" + n.version);
    var t2 = el("text", { x: 12, y: 29, "class": "lineage-marking" }, grp);
    t2.textContent = short(n.marking);
    var m = { g: grp };
    if (goesUp(n) && parents.get(n.id).length) { m.up = makeToggle(grp, n, true); }
    if (goesDown(n) && children.get(n.id).length) { m.down = makeToggle(grp, n, false); }
    return m;
  }

  function makeToggle(parent, n, up) {
    var t = el("g", { "class": "lineage-toggle", role: "button", tabindex: "0", "data-node": n.id, "data-side": up ? "up" : "down",
      transform: "translate(" + (up ? 0 : BOXW) + " " + BOXH / 2 + ")" }, parent);
    t.lineageWhat = (up ? "upstream" : "downstream") + " of " + n.name + "@" + n.version;
    el("circle", { r: 8 }, t);
    t.lineageSign = el("text", { "text-anchor": "middle", y: 4 }, t);
    t.lineageClosed = null;
    return t;
  }

  function setToggle(t, closed) {
    if (t.lineageClosed === closed) { return; }
    t.lineageClosed = closed;
    t.classList.toggle("closed", closed);
    t.setAttribute("aria-expanded", closed ? "false" : "true");
    t.setAttribute("aria-label", (closed ? "Expand " : "Collapse ") + t.lineageWhat);
    t.lineageSign.textContent = closed ? "+" : "−";
  }

  var xy = draw(null);
  performance.mark("lineage-drawn");
  var r = xy.get(root.id);
  if (r) {
    view.scrollLeft = r.x * scale - view.clientWidth / 2 + BOXW / 2;
    view.scrollTop = r.y * scale - view.clientHeight / 2;
  }
  // Ready once the browser has laid out and painted the first drawing.
  requestAnimationFrame(function () {
    setTimeout(function () {
      host.dataset.ready = "1";
      performance.mark("lineage-ready");
    }, 0);
  });
})();

// Genesis console: the asset page's lineage graph. The server embeds the
// graph in #lineage-graph's data-graph (only what the viewer may read:
// internal/console/lineage.go); this draws it there as SVG: a layered
// layout (longest-path layers from the asset — upstream to the left,
// downstream to the right — then barycentre sweeps to untangle each
// layer), edges as curves, each node its name@version and marking colour.
// A node's toggles collapse or expand its upstream or downstream side
// (click, Enter or Space); its name links to its page; the arrow keys
// move from node to node. The drawing
// scrolls, pans (drag) and zooms, and holds in the document only what is
// in view, so a thousand nodes stay quick. The page's link lists
// (#lineage a.lineage-link) stay as the no-script view.
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
  // mean position of its neighbours in the layers already placed. It
  // works on indices and typed arrays: at a thousand nodes it runs on
  // every toggle.
  function order(vis, layer) {
    var ids = [], ix = new Map();
    vis.forEach(function (id) { if (layer.has(id)) { ix.set(id, ids.length); ids.push(id); } });
    var n = ids.length, L = new Int32Array(n), min = 0, max = 0, i, k;
    for (i = 0; i < n; i++) {
      L[i] = layer.get(ids[i]);
      if (L[i] < min) { min = L[i]; }
      if (L[i] > max) { max = L[i]; }
    }
    var below = [], above = [];
    for (i = 0; i < n; i++) { below.push([]); above.push([]); }
    g.edges.forEach(function (e) {
      var a = ix.get(e.from), b = ix.get(e.to);
      if (a === undefined || b === undefined || L[a] === L[b]) { return; }
      if (L[a] > L[b]) { var t = a; a = b; b = t; }
      below[b].push(a);
      above[a].push(b);
    });
    var rows = [];
    for (i = min; i <= max; i++) { rows.push([]); }
    for (i = 0; i < n; i++) { rows[L[i] - min].push(i); }
    var pos = new Float64Array(n), bary = new Float64Array(n);
    function place(row) {
      var mid = (row.length - 1) / 2;
      for (var k = 0; k < row.length; k++) { pos[row[k]] = k - mid; }
    }
    rows.forEach(place);
    function byBary(a, b) { return bary[a] - bary[b] || pos[a] - pos[b]; }
    function sweep(down) {
      for (var r = 0; r < rows.length; r++) {
        var row = rows[down ? r : rows.length - 1 - r];
        for (var k = 0; k < row.length; k++) {
          var v = row[k], nb = down ? below[v] : above[v], sum = 0;
          for (var m = 0; m < nb.length; m++) { sum += pos[nb[m]]; }
          bary[v] = nb.length ? sum / nb.length : pos[v];
        }
        row.sort(byBary);
        place(row);
      }
    }
    for (k = 0; k < SWEEPS; k++) {
      sweep(true);
      sweep(false);
    }
    var out = new Map();
    rows.forEach(function (row, r) { out.set(r + min, row.map(function (v) { return ids[v]; })); });
    return { min: min, max: max, rows: out };
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
  // The view's size and scroll position, kept here rather than read back
  // after each change: reading them after the drawing changed would make
  // the browser lay the page out twice per redraw.
  var vw = view.clientWidth, vh = view.clientHeight, sx = 0, sy = 0;
  window.addEventListener("resize", function () { vw = view.clientWidth; vh = view.clientHeight; paint(); });

  // scrollTo moves the view (clamped to the drawing): first the nodes
  // coming into view are put in, then the browser lays out once.
  function scrollTo(x, y) {
    sx = Math.max(0, Math.min(x, width * scale - vw));
    sy = Math.max(0, Math.min(y, height * scale - vh));
    paint();
    svg.setAttribute("width", width * scale);
    svg.setAttribute("height", height * scale);
    view.scrollLeft = sx;
    view.scrollTop = sy;
  }

  function zoom(s) {
    var cx = (sx + vw / 2) / scale, cy = (sy + vh / 2) / scale;
    scale = Math.min(2.5, Math.max(0.1, s));
    scrollTo(cx * scale - vw / 2, cy * scale - vh / 2);
  }
  function fit() {
    if (!width || !height) { return; }
    zoom(Math.min(1, vw / width, vh / height));
  }

  // Drag the background to pan.
  var drag = null;
  view.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0 || ev.target.closest("a, [role=button]")) { return; }
    drag = { x: ev.clientX, y: ev.clientY, l: sx, t: sy };
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
      return;
    }
    var step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[ev.key];
    var from = step && ev.target.closest("g.lineage-n");
    if (from) {
      ev.preventDefault();
      focusNode(neighbour(from.getAttribute("data-id"), step[0], step[1]));
    }
  });

  // neighbour is the node beside id in the layout: the next or previous
  // in its layer (dy), or the nearest in the next layer left or right
  // (dx); id itself at an edge.
  function neighbour(id, dx, dy) {
    var p = cur.get(id);
    if (!p) { return id; }
    var best = id, bestD = Infinity;
    cur.forEach(function (q, other) {
      var d;
      if (dy) {
        if (q.x !== p.x || (q.y - p.y) * dy <= 0) { return; }
        d = Math.abs(q.y - p.y);
      } else {
        if (Math.round((q.x - p.x) / COLW) !== dx) { return; }
        d = Math.abs(q.y - p.y);
      }
      if (d < bestD) { best = other; bestD = d; }
    });
    return best;
  }

  // focusNode brings a node into view (and so into the document) and
  // gives its link the focus.
  function focusNode(id) {
    var p = cur.get(id);
    if (!p) { return; }
    if (p.x * scale < sx || (p.x + BOXW) * scale > sx + vw || p.y * scale < sy || (p.y + BOXH) * scale > sy + vh) {
      scrollTo((p.x + BOXW / 2) * scale - vw / 2, (p.y + BOXH / 2) * scale - vh / 2);
    }
    var m = made.get(id);
    if (m) { m.g.querySelector("a.lineage-node").focus({ preventScroll: true }); }
  }

  // Only what is in view (and a margin around it) is in the document:
  // node elements are made on first sight and kept, attached while in
  // view; edges are drawn when their box meets the view. A thousand
  // nodes then cost the browser little more than the few dozen seen.
  var edgeLayer = el("g", { "class": "lineage-edges", "aria-hidden": "true" }, svg);
  var nodeLayer = el("g", { "class": "lineage-nodes" }, svg);
  var made = new Map(), attached = new Set(), cur = new Map(), MARGIN = 400, first = true, moved = false;

  // draw lays out what is visible and paints the view; focus names the
  // toggle just used: it keeps its place on screen and gets the focus.
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
    var before = focus && cur.get(focus.id);
    cur = xy;
    var after = focus && xy.get(focus.id), x = sx, y = sy;
    if (first && xy.has(root.id)) {
      // First drawing: the asset in the middle of the view.
      first = false;
      x = xy.get(root.id).x * scale - vw / 2 + BOXW / 2;
      y = xy.get(root.id).y * scale - vh / 2;
    } else if (before && after) {
      x += (after.x - before.x) * scale;
      y += (after.y - before.y) * scale;
    }
    moved = true;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    scrollTo(x, y);
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

  // paint puts the nodes and edges in view into the document and takes
  // the others out (after a new layout, moved: every node's place and
  // toggles are set again).
  function paint() {
    var x0 = (sx - MARGIN) / scale, x1 = (sx + vw + MARGIN) / scale;
    var y0 = (sy - MARGIN) / scale, y1 = (sy + vh + MARGIN) / scale;
    var keep = document.activeElement && document.activeElement.closest && document.activeElement.closest("g.lineage-n");
    var inView = new Set(), frag = document.createDocumentFragment();
    cur.forEach(function (p, id) {
      if (p.x + BOXW + 10 < x0 || p.x - 10 > x1 || p.y + BOXH < y0 || p.y > y1) { return; }
      inView.add(id);
      var m = made.get(id);
      if (!m) { m = makeNode(byId.get(id)); made.set(id, m); }
      if (moved || !attached.has(id)) {
        m.g.setAttribute("transform", "translate(" + p.x + " " + p.y + ")");
        if (m.up) { setToggle(m.up, collapsedUp.has(id)); }
        if (m.down) { setToggle(m.down, collapsedDown.has(id)); }
      }
      if (!attached.has(id)) { frag.appendChild(m.g); }
    });
    nodeLayer.appendChild(frag);
    attached.forEach(function (id) {
      var m = made.get(id);
      if (inView.has(id)) { return; }
      if (m.g === keep && cur.has(id)) { inView.add(id); return; }
      m.g.remove();
    });
    attached = inView;
    moved = false;
    var d = [];
    g.edges.forEach(function (e) {
      var a = cur.get(e.from), b = cur.get(e.to);
      if (!a || !b || Math.max(a.x, b.x) + BOXW < x0 || Math.min(a.x, b.x) > x1 || Math.max(a.y, b.y) + BOXH < y0 || Math.min(a.y, b.y) > y1) { return; }
      var ex1 = a.x + BOXW, ey1 = a.y + BOXH / 2, ex2 = b.x, ey2 = b.y + BOXH / 2, mx = (ex1 + ex2) / 2;
      d.push("M" + ex1 + " " + ey1 + "C" + mx + " " + ey1 + " " + mx + " " + ey2 + " " + ex2 + " " + ey2);
    });
    var paths = [];
    for (var i = 0; i < d.length; i += 400) {
      paths.push(el("path", { d: d.slice(i, i + 400).join(""), "class": "lineage-edge" }));
    }
    edgeLayer.replaceChildren.apply(edgeLayer, paths);
  }
  var pending = false;
  view.addEventListener("scroll", function () {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      if (view.scrollLeft !== sx || view.scrollTop !== sy) { sx = view.scrollLeft; sy = view.scrollTop; paint(); }
    });
  });

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

  draw(null);
  performance.mark("lineage-drawn");
  // Ready once the browser has laid out and painted the first drawing.
  requestAnimationFrame(function () {
    setTimeout(function () {
      host.dataset.ready = "1";
      performance.mark("lineage-ready");
    }, 0);
  });
})();

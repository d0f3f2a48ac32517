// The live cluster view (replsim.ui.view.ClusterView): SVG drawn in the browser from the data the
// kernel sends (replsim.ui.scene), kept by view_data.js (which comes first in the same module).
// Every delta is kept, so playing, stepping and scrubbing over the past need no kernel round trip.

const NS = "http://www.w3.org/2000/svg";
const W = 500, H = 250;
const GRAPH = { x0: 12, x1: 290, y0: 34, y1: 236 };
const STRIP = { x0: 366, x1: 494, y0: 48 };
const CELLS = 12;
const TL = { x0: 92, x1: 490, y0: 40, y1: 220 };
const C = {
  leader: "#0072B2", follower: "#56B4E9", candidate: "#E69F00", second: "#CC79A7",
  down: "#DDDDDD", downEdge: "#8C8C8C", fault: "#D55E00", edge: "#555555", faint: "#D0D0D0",
  purple: "#CC79A7", green: "#009E73", orange: "#E69F00", grey: "#888888", text: "#222222",
};
const EPOCH = ["#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#0072B2", "#D55E00"];
// message kinds: shape, size, fill, outline (colour is never the only difference: shapes differ)
const KIND = {
  "append": ["circle", 5, C.leader, C.leader],
  "heartbeat": ["circle", 3.2, "#FFFFFF", C.leader],
  "ack": ["diamond", 4.2, C.follower, "#1F4E6B"],
  "vote request": ["triangle", 5.5, C.orange, "#7A5500"],
  "vote": ["vee", 5.5, C.green, "#00513B"],
  "client request": ["square", 4.2, C.purple, "#6E3058"],
  "client response": ["square", 4.2, "#FFFFFF", C.purple],
  "snapshot": ["square", 6.5, C.leader, "#00304D"],
  "refusal": ["cross", 5, C.fault, C.fault],
  "ping": ["circle", 2.2, C.grey, C.grey],
  "other": ["circle", 3, C.grey, C.grey],
};
const SPEEDS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
// --- drawing helpers -------------------------------------------------------------------
function el(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function shapePath(shape, r) {
  switch (shape) {
    case "diamond": return `M0,${-r}L${r},0L0,${r}L${-r},0Z`;
    case "triangle": return `M0,${-r}L${r},${r * 0.8}L${-r},${r * 0.8}Z`;
    case "vee": return `M0,${r}L${r},${-r * 0.8}L${-r},${-r * 0.8}Z`;
    case "square": return `M${-r},${-r}H${r}V${r}H${-r}Z`;
    case "cross": return `M${-r},${-r}L${r},${r}M${r},${-r}L${-r},${r}`;
    default: return `M${-r},0A${r},${r} 0 1,0 ${r},0A${r},${r} 0 1,0 ${-r},0Z`;
  }
}

function glyph(kind, parent, x = 0, y = 0) {
  const [shape, r, fill, stroke] = KIND[kind] || KIND.other;
  return el("path", { d: shapePath(shape, r), fill: shape === "cross" ? "none" : fill, stroke,
                      "stroke-width": shape === "cross" ? 2.2 : 1.2, transform: `translate(${x},${y})` }, parent);
}

function fmt(us) {
  const s = us / 1e6;
  return Math.abs(s) < 10 ? s.toFixed(3) : s.toFixed(2);
}

function nodeColour(n, name, leader) {
  if (!n.up) return C.down;
  if (n.role === "leader") return name === leader ? C.leader : C.second;
  return n.role === "candidate" ? C.candidate : C.follower;
}

function roleWord(n, name, leader) {
  if (!n.up) return "down";
  if (n.role === "leader" && name !== leader) return "2nd leader";
  return n.role;
}

// --- the picture ------------------------------------------------------------------------
function pointOf(places, idx) {
  const p = idx >= 0 ? places.nodes[idx] : places.clients[-1 - idx];
  return p ? [GRAPH.x0 + p.x * (GRAPH.x1 - GRAPH.x0), GRAPH.y0 + p.y * (GRAPH.y1 - GRAPH.y0)] : null;
}

function linkState(s, a, b) {
  const group = (n) => s.groups.findIndex((g) => g.includes(n));
  if (s.groups.length > 1 && group(a) !== group(b)) return "partitioned";
  if (s.cuts.some(([x, y]) => x === a && y === b) || s.cuts.some(([x, y]) => x === b && y === a)) return "cut";
  return "ok";
}

// what the still part of the picture depends on at time t: redrawn only when it changes
function signature(v, s) {
  const nodes = Object.entries(s.nodes).map(([n, x]) => [n, x.role, x.up, x.epoch, x.lsn, x.base, x.leader, x.broken]);
  let acked = 0;
  for (const a of v.store.acked) if (a[0] >= 0 && a[0] <= s.t) acked += 1;
  const active = v.places.clients.map((_, k) => {
    let last = null;
    for (const o of v.store.ops) if (o[2] === k && o[0] <= s.t) last = o;
    return last ? [last[3], s.t - last[0] < v.store.span * 3] : null;
  });
  return JSON.stringify([nodes, s.leader, s.groups, s.cuts, acked, active, v.selected, v.places, v.store.seq]);
}

function drawCluster(v, s) {
  const sig = signature(v, s);
  if (sig !== v.sig) { v.sig = sig; drawStill(v, s); }
  drawMessages(v, s);
}

function drawStill(v, s) {
  const { places, store } = v;
  const g = v.layer;
  g.replaceChildren();
  const names = places.nodes.map((p) => p.name);
  const idx = Object.fromEntries(names.map((n, i) => [n, i]));
  const pts = names.map((_, i) => pointOf(places, i));
  if (places.geo) el("text", { x: GRAPH.x0, y: GRAPH.y1, class: "rs-small" }, g, "west to east, the Pacific in the middle (not to scale)");
  // links between every pair of nodes: faint; a follower's link to its leader: solid
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) {
    const a = s.nodes[names[i]], b = s.nodes[names[j]];
    if (!a || !b) continue;
    const [x0, y0] = pts[i], [x1, y1] = pts[j];
    const state = linkState(s, i, j);
    const streams = a.leader === names[j] || b.leader === names[i];
    const up = a.up && b.up;
    if (state === "ok") {
      el("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: streams ? (up ? C.edge : C.downEdge) : C.faint,
                   "stroke-width": streams ? 1.6 : 1, "stroke-dasharray": streams && !up ? "2 3" : "none" }, g);
      continue;
    }
    // a break in the middle: two dashed halves with a gap, the word beside it
    const mx = (x0 + x1) / 2, my = (y0 + y1) / 2, len = Math.hypot(x1 - x0, y1 - y0) || 1;
    const ux = (x1 - x0) / len, uy = (y1 - y0) / len, gap = 7;
    const attrs = { stroke: C.fault, "stroke-width": 1.6, "stroke-dasharray": "5 3" };
    el("line", { x1: x0, y1: y0, x2: mx - ux * gap, y2: my - uy * gap, ...attrs }, g);
    el("line", { x1: mx + ux * gap, y1: my + uy * gap, x2: x1, y2: y1, ...attrs }, g);
    for (const k of [-1, 1]) {
      el("line", { x1: mx + ux * gap * k - uy * 5, y1: my + uy * gap * k + ux * 5,
                   x2: mx + ux * gap * k + uy * 5, y2: my + uy * gap * k - ux * 5, stroke: C.fault, "stroke-width": 2 }, g);
    }
    el("text", { x: mx + 8, y: my - 6, class: "rs-fault" }, g, state);
  }
  // clients: a small person-like shape (a circle on a trapezoid), joined to the node they last used
  const recent = new Map();
  for (const o of store.ops) if (o[0] <= s.t) recent.set(o[2], o);
  places.clients.forEach((cl, k) => {
    const [x, y] = pointOf(places, -1 - k);
    const last = recent.get(k);
    const to = last && last[3] >= 0 ? last[3] : idx[cl.near];
    if (to !== undefined && pts[to]) {
      const active = last && s.t - last[0] < store.span * 3;
      el("line", { x1: x, y1: y, x2: pts[to][0], y2: pts[to][1], stroke: C.purple,
                   "stroke-width": active ? 1.6 : 1, "stroke-dasharray": "1 2" }, g);
    }
    el("circle", { cx: x, cy: y - 5, r: 3.2, fill: "#FFFFFF", stroke: C.purple, "stroke-width": 1.4 }, g);
    el("path", { d: `M${x - 5},${y + 5}L${x - 3},${y - 1}H${x + 3}L${x + 5},${y + 5}Z`, fill: "#FFFFFF",
                 stroke: C.purple, "stroke-width": 1.4 }, g);
    const word = cl.local ? "client" : places.geo && cl.near && cl.name.startsWith(cl.near) ? "user" : cl.name;
    el("text", { x, y: y - 11, class: "rs-small", "text-anchor": "middle" }, g, word);
  });
  // nodes: leader a square, follower a circle, candidate a diamond; down: grey, hatched, dashed
  names.forEach((name, i) => {
    const n = s.nodes[name];
    if (!n) return;
    const [x, y] = pts[i];
    const shape = n.role === "leader" ? "square" : n.role === "candidate" ? "diamond" : "circle";
    const r = shape === "square" ? 13 : 15;
    const node = el("g", { class: "rs-node", "data-node": name, transform: `translate(${x},${y})` }, g);
    el("path", { d: shapePath(shape, r), fill: nodeColour(n, name, s.leader), stroke: n.up ? "#000" : C.downEdge,
                 "stroke-width": name === v.selected ? 3 : 1.4, "stroke-dasharray": n.up ? "none" : "3 2" }, node);
    if (!n.up) el("path", { d: shapePath(shape, r), fill: "url(#rs-hatch)", stroke: "none" }, node);
    if (n.role === "leader" && name !== s.leader && n.up) el("path", { d: "M-8,-8L8,8M8,-8L-8,8", stroke: "#FFF", "stroke-width": 2 }, node);
    const below = y > (GRAPH.y0 + GRAPH.y1) / 2 || (places.geo && y > GRAPH.y0 + 60);
    const ty = below ? r + 11 : -r - 20;
    el("text", { y: ty, "text-anchor": "middle", class: "rs-name" }, node, name);
    el("text", { y: ty + 10, "text-anchor": "middle", class: "rs-small" }, node,
       `${roleWord(n, name, s.leader)} · epoch ${n.epoch}${n.broken ? " · stopped" : ""}`);
  });
  drawStrips(v, s, names);
}

// messages in flight: a pool of elements, moved each frame (nothing made or removed while playing);
// an attribute is written only when it changes, and labels only when few messages are drawn
function setIf(item, key, value, write) {
  if (item[key] !== value) { item[key] = value; write(value); }
}

function drawMessages(v, s) {
  const { places, store } = v, pool = v.pool, layer = v.msgLayer;
  const shown = flying(store, s.t).filter(([m]) => !v.kinds.length || v.kinds.includes(places.kinds[m[4]]));
  const labels = shown.length <= 30;
  let used = 0;
  for (const [m, along, stopped, fade, id] of shown) {
    const a = pointOf(places, m[2]), b = pointOf(places, m[3]);
    if (!a || !b) continue;
    const kind = places.kinds[m[4]];
    const x = (a[0] + (b[0] - a[0]) * along).toFixed(1), y = (a[1] + (b[1] - a[1]) * along).toFixed(1);
    let item = pool[used];
    if (!item) {
      const g = el("g", {}, layer);
      item = pool[used] = { g, glyph: el("path", {}, g), cross: el("path", { d: shapePath("cross", 5), stroke: C.fault,
        "stroke-width": 2.4, fill: "none" }, g), text: el("text", { x: 6, y: -5 }, g, "") };
    }
    used += 1;
    const g = item.g;
    setIf(item, "kind", kind, () => {
      const [shape, r, fill, stroke] = KIND[kind] || KIND.other;
      item.glyph.setAttribute("d", shapePath(shape, r));
      item.glyph.setAttribute("fill", shape === "cross" ? "none" : fill);
      item.glyph.setAttribute("stroke", stroke);
      item.glyph.setAttribute("stroke-width", shape === "cross" ? 2.2 : 1.2);
      g.dataset.kind = kind;
    });
    setIf(item, "at", x + "," + y, (xy) => g.setAttribute("transform", `translate(${xy})`));
    setIf(item, "id", id, () => { g.dataset.id = id; g.dataset.fate = places.fates[m[5]]; });
    setIf(item, "stopped", stopped, () => {
      g.setAttribute("class", stopped ? "rs-msg rs-dropped" : "rs-msg");
      item.cross.style.display = stopped ? "" : "none";
      item.text.setAttribute("class", stopped ? "rs-fault" : "rs-small");
    });
    setIf(item, "opacity", stopped ? Math.max(1 - fade, 0.15).toFixed(2) : "1", (o) => g.setAttribute("opacity", o));
    setIf(item, "word", stopped ? places.fates[m[5]] : labels ? m[6] : "", (w) => { item.text.textContent = w; });
    setIf(item, "shown", true, () => { g.style.display = ""; });
  }
  for (let k = used; k < pool.length; k++) {  // the rest of the pool: hidden, and no longer a message
    setIf(pool[k], "shown", false, () => {
      pool[k].g.style.display = "none";
      pool[k].g.setAttribute("class", "rs-idle");
      pool[k].stopped = undefined;
    });
  }
}

// --- each node's log ----------------------------------------------------------------------
function drawStrips(v, s, names) {
  const g = v.layer, store = v.store;
  const hi = Math.max(0, ...Object.values(s.nodes).map((n) => n.lsn));
  const first = Math.max(hi - CELLS + 1, 1);
  const cw = (STRIP.x1 - STRIP.x0) / CELLS;
  const rows = names.filter((n) => s.nodes[n]);
  const rh = Math.min(34, (H - STRIP.y0 - 8) / Math.max(rows.length, 1));
  const acked = new Set(store.acked.filter((a) => a[0] >= 0 && a[0] <= s.t).map((a) => `${a[1]}:${a[2]}`));
  let top = 0;
  for (const a of store.acked) if (a[0] >= 0 && a[0] <= s.t) top = Math.max(top, a[1]);
  const lead = s.nodes[s.leader];
  el("text", { x: STRIP.x0 - 66, y: STRIP.y0 - 26, class: "rs-name" }, g, "Each node's log");
  el("text", { x: STRIP.x0 - 66, y: STRIP.y0 - 14, class: "rs-small" }, g, `lsn ${first} to ${first + CELLS - 1}`);
  rows.forEach((name, r) => {
    const n = s.nodes[name], y = STRIP.y0 + r * rh;
    const row = el("g", { class: "rs-log", "data-node": name }, g);
    el("text", { x: STRIP.x0 - 4, y: y + rh * 0.45, "text-anchor": "end", class: "rs-small" }, row,
       name.length > 13 ? name.slice(0, 12) + "…" : name);
    for (let k = 0; k < CELLS && n.lsn >= first; k++) {
      const lsn = first + k, x = STRIP.x0 + k * cw, h = rh * 0.55;
      if (lsn > n.lsn || lsn <= n.base) {
        el("rect", { x: x + 0.5, y, width: cw - 1, height: h, fill: lsn <= n.base && lsn <= n.lsn ? "#EEEEEE" : "none",
                     stroke: "#CCCCCC", "stroke-width": 0.6 }, row);
        continue;
      }
      const e = epochOf(n.data, lsn, s.t);
      let away = false;
      if (name !== s.leader && lead) away = lsn > lead.lsn || epochOf(lead.data, lsn, s.t) !== e;
      el("rect", { x: x + 0.5, y, width: cw - 1, height: h, fill: EPOCH[(e - 1 + EPOCH.length) % EPOCH.length],
                   stroke: away ? C.fault : "#333", "stroke-width": away ? 1.4 : 0.6,
                   "stroke-dasharray": away ? "2 1.5" : "none", class: away ? "rs-cell rs-away" : "rs-cell" }, row);
      if (away) el("rect", { x: x + 0.5, y, width: cw - 1, height: h, fill: "url(#rs-away)" }, row);
      el("text", { x: x + cw / 2, y: y + h * 0.75, "text-anchor": "middle", class: "rs-tiny" }, row, String(e));
      if (acked.has(`${lsn}:${e}`)) el("path", { d: `M${x + cw / 2 - 2},${y + h + 3}l2,2l3,-4`, stroke: "#000", fill: "none", "stroke-width": 1 }, row);
    }
    if (n.lsn >= first) {
      const x = STRIP.x0 + (n.lsn - first + 1) * cw;
      el("path", { d: `M${x},${y - 2}v${rh * 0.55 + 4}`, stroke: "#000", "stroke-width": 1.6 }, row);
    }
    const tail = n.lsn < first ? `holds up to lsn ${n.lsn}${n.up ? "" : " (down)"}` : "";
    if (tail) el("text", { x: STRIP.x0 + 2, y: y + rh * 0.45, class: "rs-small" }, row, tail);
  });
  const bottom = STRIP.y0 + rows.length * rh;
  if (top >= first) {
    const x = STRIP.x0 + (top - first + 1) * cw;
    el("path", { d: `M${x},${STRIP.y0 - 4}V${bottom - 4}`, stroke: C.fault, "stroke-width": 1.2, "stroke-dasharray": "4 2" }, g);
  }
  if (top) el("text", { x: STRIP.x0 - 66, y: bottom + 4, class: "rs-small" }, g, `acknowledged: up to lsn ${top} (red line)`);
}

// --- the message timeline ----------------------------------------------------------------
function drawTimeline(v, s) {
  const { places, store } = v, g = v.layer;
  v.sig = null;
  g.replaceChildren();
  for (const item of v.pool) {
    item.g.style.display = "none";
    item.g.setAttribute("class", "rs-idle");
    item.shown = false;
    item.stopped = undefined;
  }
  const names = places.nodes.map((p) => p.name);
  let start, end;
  if (v.window.length === 2) { start = v.window[0] * 1e6; end = v.window[1] * 1e6; }
  else { end = Math.max(s.t, store.span * 12); start = Math.max(0, end - store.span * 12); }
  const xOf = (t) => TL.x0 + ((t - start) / Math.max(end - start, 1)) * (TL.x1 - TL.x0);
  const lane = (TL.y1 - TL.y0) / Math.max(names.length - 1, 1);
  const yOf = (i) => TL.y0 + i * lane;
  el("text", { x: 4, y: 16, class: "rs-name" }, g, "Messages between the nodes (one lane per node)");
  names.forEach((n, i) => {
    el("line", { x1: TL.x0, x2: TL.x1, y1: yOf(i), y2: yOf(i), stroke: "#DDDDDD" }, g);
    el("text", { x: TL.x0 - 6, y: yOf(i) + 3, "text-anchor": "end", class: "rs-small" }, g, n.length > 15 ? n.slice(0, 14) + "…" : n);
    const data = store.nodes[n];
    if (!data) return;
    for (const st of data.states) {
      if (st[0] < start || st[0] > Math.min(end, s.t)) continue;
      const role = places.roles[st[1]], x = xOf(st[0]);
      const shape = !st[2] ? "cross" : role === "leader" ? "square" : role === "candidate" ? "diamond" : "circle";
      el("path", { d: shapePath(shape, 4.5), transform: `translate(${x},${yOf(i)})`, fill: st[2] ? nodeColour({ up: true, role }, n, n) : "none",
                   stroke: st[2] ? "#000" : C.downEdge, "stroke-width": 1.2 }, g);
      el("text", { x, y: yOf(i) - 7, "text-anchor": "middle", class: "rs-small" }, g, `${st[2] ? role : "down"} t${st[3]}`);
    }
  });
  for (let k = 0; k <= 4; k++) {
    const t = start + ((end - start) * k) / 4, x = xOf(t);
    el("line", { x1: x, x2: x, y1: TL.y1 + 6, y2: TL.y1 + 9, stroke: "#888" }, g);
    el("text", { x, y: TL.y1 + 18, "text-anchor": "middle", class: "rs-small" }, g, `${fmt(t)} s`);
  }
  const drawn = store.messages.filter((m) => m[0] >= start && m[0] <= end && m[0] <= s.t && m[2] >= 0 && m[3] >= 0
    && (!v.kinds.length || v.kinds.includes(places.kinds[m[4]])));
  const placed = [];  // labels so far: one too near another is left out
  for (const m of drawn) {
    const kind = places.kinds[m[4]];
    const fate = m[5], lost = fate >= 2 && fate <= 5;
    const span = m[1] - m[0];
    let t1 = Math.min(m[1], s.t);
    if (fate >= 2 && fate <= 4) t1 = Math.min(m[0] + DROPPED_AT * span, s.t);
    const y0 = yOf(m[2]), y1 = y0 + (yOf(m[3]) - y0) * ((t1 - m[0]) / Math.max(span, 1));
    const a = el("g", { class: lost ? "rs-arrow rs-dropped" : "rs-arrow", "data-kind": kind, "data-fate": places.fates[fate] }, g);
    const [, , fill, stroke] = KIND[kind] || KIND.other;
    el("line", { x1: xOf(m[0]), y1: y0, x2: xOf(t1), y2: y1, stroke: lost ? C.fault : stroke === "#FFFFFF" ? fill : stroke,
                 "stroke-width": 1.1, "stroke-dasharray": lost ? "4 2" : "none" }, a);
    glyph(kind, a, xOf(t1), y1);
    if (lost && (t1 >= m[0] + DROPPED_AT * span || fate === 5)) {
      el("path", { d: shapePath("cross", 4), transform: `translate(${xOf(t1)},${y1})`, stroke: C.fault, "stroke-width": 2, fill: "none" }, a);
    }
    // a label a third of the way along (a broadcast's arrows part there), if there is room
    const lx = xOf(m[0]) + (xOf(t1) - xOf(m[0])) / 3, ly = y0 + (y1 - y0) / 3;
    const word = lost ? `${m[6] ? m[6] + " " : ""}${kind} (${places.fates[fate]})` : `${kind}${m[6] ? " " + m[6] : ""}`;
    const half = word.length * 2.9 + 4;  // about half the label's width at 10 px
    if (drawn.length <= 60 && !placed.some(([px, py, ph]) => Math.abs(px - lx) < ph + half && Math.abs(py - ly) < 12)) {
      placed.push([lx, ly, half]);
      el("text", { x: lx, y: ly - 2, "text-anchor": "middle", class: lost ? "rs-fault rs-label" : "rs-small rs-label" }, a, word);
    }
  }
  if (s.t >= start && s.t <= end) el("line", { x1: xOf(s.t), x2: xOf(s.t), y1: TL.y0 - 12, y2: TL.y1 + 4, stroke: "#000", "stroke-dasharray": "3 2" }, g);
}

// --- the widget ------------------------------------------------------------------------------
function legendHtml(kinds) {
  const items = ["append", "heartbeat", "ack", "vote request", "vote", "client request", "client response"]
    .filter((k) => !kinds.length || kinds.includes(k));
  const sym = (k) => {
    const [shape, r, fill, stroke] = KIND[k];
    return `<svg width="12" height="12" viewBox="-6 -6 12 12" aria-hidden="true"><path d="${shapePath(shape, Math.min(r, 5))}" fill="${fill}" stroke="${stroke}"/></svg>`;
  };
  return items.map((k) => `<span>${sym(k)} ${k}</span>`).join("") +
    `<span><svg width="12" height="12" viewBox="-6 -6 12 12" aria-hidden="true"><path d="${shapePath("cross", 4)}" stroke="${C.fault}" stroke-width="2"/></svg> dropped (lost, partitioned, cut)</span>` +
    `<span>nodes: ■ leader ● follower ◆ candidate; grey, hatched, dashed = down</span>` +
    `<span>logs: a box per entry, its number the epoch; | applied; ✓ acknowledged; red dashed, striped = to be discarded</span>`;
}

function render({ model, el: root }) {
  if (!stores.has(model)) initialize({ model });
  const store = stores.get(model);
  root.classList.add("rs-view");
  root.innerHTML = `
    <div class="rs-bar" role="toolbar" aria-label="time controls of the cluster view">
      <button class="rs-play" aria-label="play">▶ Play</button>
      <button class="rs-back" aria-label="step back to the previous event" title="previous event (←)">◀ Back</button>
      <button class="rs-step" aria-label="step to the next event" title="next event (→)">Step ▶</button>
      <label class="rs-look">look back <input class="rs-scrub" type="range" min="0" max="0" step="1" value="0"
        aria-label="look back: the moment shown"></label>
      <span class="rs-clock" aria-live="off">t = 0.000 s</span>
      <label>speed <select class="rs-speed" aria-label="speed in virtual seconds per real second"></select></label>
      <button class="rs-now" aria-label="show now">Now</button>
      <button class="rs-mode" aria-label="switch between the cluster and the message timeline">Timeline</button>
    </div>
    <svg class="rs-svg" viewBox="0 0 ${W} ${H}" role="img" tabindex="0">
      <defs>
        <pattern id="rs-hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <line x1="0" y1="0" x2="0" y2="5" stroke="#8C8C8C" stroke-width="1.4"/></pattern>
        <pattern id="rs-away" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">
          <line x1="0" y1="0" x2="0" y2="4" stroke="#FFFFFF" stroke-width="1.6"/></pattern>
      </defs>
      <g class="rs-layer"></g>
      <g class="rs-messages"></g>
    </svg>
    <div class="rs-legend"></div>
    <div class="rs-note" aria-live="polite"></div>`;
  const q = (c) => root.querySelector(c);
  const svg = q(".rs-svg"), scrub = q(".rs-scrub"), clock = q(".rs-clock"), speedSel = q(".rs-speed");
  const v = { model, store, svg, layer: q(".rs-layer"), msgLayer: q(".rs-messages"), pool: [], sig: null, places: model.get("places"), kinds: model.get("kinds"),
              window: model.get("window"), mode: model.get("mode"), selected: model.get("selected"),
              t: store.now, live: true, playing: false, last: 0, frame: 0, draws: 0 };
  root.__rsView = v;  // for the browser test: the state of the drawing

  for (const s of SPEEDS) speedSel.add(new Option(`${s} s/s`, String(s)));
  const showSpeed = () => {
    const s = model.get("speed");
    if (![...speedSel.options].some((o) => Number(o.value) === s)) speedSel.add(new Option(`${s} s/s`, String(s)));
    speedSel.value = String(s);
  };
  showSpeed();

  function draw() {
    const t = Math.min(Math.max(v.t, 0), store.now);
    const s = stateAt(store, v.places, t);
    if (v.mode === "timeline") drawTimeline(v, s); else drawCluster(v, s);
    scrub.min = String(Math.round(first()));
    scrub.max = String(Math.round(last()));
    scrub.value = String(Math.round(t));
    clock.textContent = `t = ${fmt(t)} s${t < store.now ? " (looking back)" : ""}`;
    q(".rs-play").textContent = v.playing ? "Pause" : "▶ Play";
    q(".rs-play").setAttribute("aria-label", v.playing ? "pause" : "play");
    q(".rs-mode").textContent = v.mode === "timeline" ? "Cluster" : "Timeline";
    svg.setAttribute("aria-label", `${v.mode === "timeline" ? "message timeline" : "cluster"} at t = ${fmt(t)} s; the status table below says it in words`);
    v.draws += 1;
    v.drawnAt = t;
  }
  v.draw = draw;

  // the kernel shows this moment in the status table (or now, with null); told once the learner stops
  // stepping or scrubbing for a moment, so that a run of steps costs the kernel one redraw
  let told = null;
  function tell(t) {
    clearTimeout(told);
    told = setTimeout(() => {
      const value = t === null || t >= store.now ? -1 : t / 1e6;
      if (model.get("cursor") !== value) { model.set("cursor", value); model.save_changes(); }
    }, 150);
  }

  function tick(stamp) {
    if (!v.playing) return;
    const dt = v.last ? Math.min(stamp - v.last, 100) : 0;
    v.last = stamp;
    // a new interval after an action plays at the chosen speed, or faster if it would take over 3 s
    const speed = v.catchUp ? Math.max(model.get("speed"), (last() - v.t) / 3e6) : model.get("speed");
    v.t += dt * 1e3 * speed;
    if (v.t >= last()) { v.t = last(); v.playing = false; v.live = v.t >= store.now; tell(v.live ? null : v.t); }
    draw();
    if (v.playing) v.frame = requestAnimationFrame(tick);
  }

  const first = () => (v.window.length === 2 ? v.window[0] * 1e6 : 0);
  const last = () => (v.window.length === 2 ? Math.min(v.window[1] * 1e6, store.now) : store.now);
  function play(from, catchUp = false) {
    v.catchUp = catchUp;
    if (from !== undefined) v.t = from;
    if (v.t >= last()) v.t = first();
    v.playing = true; v.live = false; v.last = 0;
    cancelAnimationFrame(v.frame);
    v.frame = requestAnimationFrame(tick);
    draw();
  }

  function pause() {
    v.playing = false;
    cancelAnimationFrame(v.frame);
    v.live = v.t >= store.now;
    tell(v.t);
    draw();
  }

  function jump(t) {
    v.playing = false;
    cancelAnimationFrame(v.frame);
    v.t = Math.min(Math.max(t, first()), last());
    v.live = v.t >= store.now;
    draw();
  }

  function step(dir) {
    const ts = store.times;
    let t = v.t;
    if (dir > 0) { const nxt = ts.find((x) => x > v.t + 0.5); t = nxt === undefined ? store.now : nxt; }
    else { let prev = 0; for (const x of ts) { if (x < v.t - 0.5) prev = x; else break; } t = prev; }
    jump(t);
    tell(v.t);
  }
  v.step = step; v.jump = jump; v.play = play; v.pause = pause;

  q(".rs-play").addEventListener("click", () => (v.playing ? pause() : play()));  // at the chosen speed
  q(".rs-step").addEventListener("click", () => step(1));
  q(".rs-back").addEventListener("click", () => step(-1));
  q(".rs-now").addEventListener("click", () => { jump(last()); tell(v.live ? null : v.t); });
  q(".rs-mode").addEventListener("click", () => { v.mode = v.mode === "timeline" ? "cluster" : "timeline"; draw(); });
  scrub.addEventListener("input", () => jump(Number(scrub.value)));
  scrub.addEventListener("change", () => tell(v.t));
  speedSel.addEventListener("change", () => { model.set("speed", Number(speedSel.value)); model.save_changes(); });
  svg.addEventListener("click", (e) => {
    const node = e.target.closest && e.target.closest("[data-node]");
    if (node) { v.selected = node.dataset.node; model.set("selected", v.selected); model.save_changes(); draw(); }
  });
  root.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    const keys = { " ": () => (v.playing ? pause() : play()), ArrowRight: () => step(1), ArrowLeft: () => step(-1),
                   Home: () => { jump(first()); tell(v.t); }, End: () => { jump(last()); tell(v.live ? null : v.t); },
                   "+": () => bump(1), "-": () => bump(-1) };
    if (keys[e.key]) { keys[e.key](); e.preventDefault(); }
  });
  function bump(k) {
    const i = SPEEDS.indexOf(model.get("speed"));
    const next = SPEEDS[Math.min(Math.max((i < 0 ? 4 : i) + k, 0), SPEEDS.length - 1)];
    model.set("speed", next); model.save_changes(); showSpeed();
  }

  // a new delta: play the new interval from where the picture was (an action returns to now)
  const onNew = (before, d) => {
    if (d.since < 0) { v.t = store.now; v.live = true; v.playing = false; draw(); return; }
    if (v.playing) return;  // already playing: it goes on to the new now
    if (store.now > before) play(before, true); else jump(store.now);  // an action shows now again
  };
  store.views.add(onNew);
  model.on("change:places", () => { v.places = model.get("places"); draw(); });
  model.on("change:speed", showSpeed);
  model.on("change:selected", () => { v.selected = model.get("selected"); draw(); });
  model.on("change:mode", () => { v.mode = model.get("mode"); draw(); });
  model.on("change:note", () => { q(".rs-note").textContent = model.get("note"); });
  model.on("change:cursor", () => {
    const c = model.get("cursor");
    if (c < 0 && !v.playing && !v.live) jump(store.now);
  });
  q(".rs-legend").innerHTML = legendHtml(v.kinds);
  q(".rs-note").textContent = model.get("note");
  if (v.window.length === 2) v.t = last();
  draw();
  return () => { v.playing = false; cancelAnimationFrame(v.frame); store.views.delete(onNew); };
}

// one store per model, filled from its first state on (before any view shows it)
function initialize({ model }) {
  const store = emptyStore();
  stores.set(model, store);
  const onDelta = () => {
    const d = model.get("delta");
    if (!d || d.seq === undefined || (d.seq <= store.seq && d.since >= 0)) return;
    if (d.since >= 0 && d.seq !== store.seq + 1) { model.send({ type: "resync" }); return; }
    const before = store.now;
    apply(store, d);
    for (const f of store.views) f(before, d);
  };
  model.on("change:delta", onDelta);
  onDelta();
}

export default { initialize, render };

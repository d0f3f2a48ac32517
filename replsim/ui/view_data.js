// The live cluster view's data side (no drawing): the store of every delta the kernel sent, and what
// it says about any moment: each node's state, the network, the messages drawn and how far along.
// view.py puts this file before view.js in one ES module. Times are in microseconds of virtual time.

const DROPPED_AT = 0.5, FADE = 0.25;  // as replsim.ui.scene: a dropped message stops half-way, then fades
const stores = new WeakMap();

// --- the data ------------------------------------------------------------------------
function emptyStore() {
  return { seq: -1, since: -1, now: 0, nodes: {}, leaders: [], network: [], events: [], messages: [],
           ops: [], times: [], span: 1, acked: [], views: new Set() };
}

function push(into, items) { for (const x of items || []) into.push(x); }

function apply(store, d) {
  if (!d || d.seq === undefined) return;
  if (d.since < 0) Object.assign(store, emptyStore(), { views: store.views });
  for (const [name, n] of Object.entries(d.nodes)) {
    const s = store.nodes[name] ??= { states: [], pos: [], epochs: [], bases: [] };
    push(s.states, n.states); push(s.epochs, n.epochs); push(s.bases, n.bases);
    let t = 0;
    for (const [dt, lsn] of n.pos || []) { t += dt; s.pos.push([t, lsn]); }
  }
  push(store.leaders, d.leaders); push(store.network, d.network); push(store.events, d.events);
  // messages as [sent, arrives, src, dst, kind, fate, label]
  const kept = store.messages.filter((m) => m[1] <= d.since);
  let sent = 0;
  for (const m of d.messages) { sent += m[0]; kept.push([sent, sent + m[1], m[2], m[3], m[4], m[5], m[6] || ""]); }
  kept.sort((a, b) => a[0] - b[0]);
  store.messages = kept;
  // ops as [invoke, complete or -1, client, node, kind, outcome, lsn, epoch]
  store.ops.length = Math.min(store.ops.length, d.ops_from);
  let invoke = 0;
  for (const o of d.ops) { invoke += o[0]; store.ops.push([invoke, o[1] < 0 ? -1 : invoke + o[1], ...o.slice(2)]); }
  store.seq = d.seq; store.since = d.since; store.now = d.now;
  let span = 0;
  const times = [0, d.now];
  for (const m of kept) {  // a message's events: sent, and arrived or dropped
    span = Math.max(span, m[1] - m[0]);
    times.push(m[0]);
    if (m[5] >= 2 && m[5] <= 4) times.push(m[0] + Math.round(DROPPED_AT * (m[1] - m[0])));
    else times.push(m[1]);
  }
  for (const s of Object.values(store.nodes)) { for (const x of s.states) times.push(x[0]); for (const x of s.pos) times.push(x[0]); }
  for (const x of store.network) times.push(x[0]);
  for (const o of store.ops) { times.push(o[0]); if (o[1] >= 0) times.push(o[1]); }
  times.sort((a, b) => a - b);
  store.times = times.filter((t, i) => i === 0 || t !== times[i - 1]).filter((t) => t <= d.now);
  store.span = Math.max(span, 1);
  store.acked = store.ops.filter((o) => o[4] === 0 && o[5] === 0 && o[6] >= 0).map((o) => [o[1], o[6], o[7]]);
}

// the last item whose time (item[0]) is at or before t, or undefined
function at(list, t) {
  let lo = 0, hi = list.length - 1, found;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid][0] <= t) { found = list[mid]; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function epochOf(node, lsn, t) {
  let best;
  for (const r of node.epochs) if (r[0] <= t && r[1] <= lsn && (!best || r[0] >= best[0])) best = r;
  return best ? best[2] : 0;
}

// the cluster at time t: each node's state and position, the leader, the network
function stateAt(store, places, t) {
  const nodes = {};
  for (const p of places.nodes) {
    const s = store.nodes[p.name];
    if (!s) continue;
    const st = at(s.states, t);
    if (!st || (s.states[0] && s.states[0][0] > t)) continue;
    const pos = at(s.pos, t);
    const base = at(s.bases, t);
    nodes[p.name] = { role: places.roles[st[1]], up: !!st[2], epoch: st[3], leader: st[4], broken: !!st[5],
                      lsn: pos ? pos[1] : 0, base: base ? base[1] : 0, data: s };
  }
  const lead = at(store.leaders, t);
  const net = at(store.network, t);
  return { t, nodes, leader: lead ? places.nodes[lead[1]].name : places.nodes[0].name,
           groups: net ? net[1] : [], cuts: net ? net[2] : [] };
}

// messages drawn at time t: [message, how far along 0..1, stopped]
function flying(store, t) {
  const out = [], ms = store.messages, from = t - store.span * (1 + FADE);
  let lo = 0, hi = ms.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (ms[mid][0] < from) lo = mid + 1; else hi = mid; }
  for (let i = lo; i < ms.length && ms[i][0] <= t; i++) {
    const m = ms[i], span = Math.max(m[1] - m[0], 1), fate = m[5];
    if (fate >= 2 && fate <= 4) {  // lost, partitioned, cut: stops half-way and fades
      const stop = m[0] + Math.round(DROPPED_AT * span);
      if (t < stop + FADE * span) out.push([m, Math.min((t - m[0]) / span, DROPPED_AT), t >= stop, (t - stop) / (FADE * span), i]);
    } else if (fate === 5) {  // reached a crashed node
      if (t < m[1] + FADE * span) out.push([m, Math.min((t - m[0]) / span, 1), t >= m[1], (t - m[1]) / (FADE * span), i]);
    } else if (t < m[1]) out.push([m, (t - m[0]) / span, false, 0, i]);
  }
  return out;
}


// The dashboard page: one WebSocket to the node that served it (/dash/ws), a
// JSON snapshot a second, rendered into tables and uPlot charts. Plain
// browser JavaScript, no build step. Charts keep the last HISTORY points.
'use strict';
(function () {
  const HISTORY = 120;
  const token = new URLSearchParams(location.search).get('token');
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/dash/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
  const times = [];
  // One series history per chart: name -> values aligned with `times`.
  const hist = { typeCalls: new Map(), typeP99: new Map(), nodeCalls: new Map(), nodeErrors: new Map() };
  const charts = {};
  const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const fmt = (x, digits) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));
  const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });
  const sumCalls = (types) => Object.values(types || {}).reduce((a, r) => a + r.calls, 0);
  const sumErrors = (types) => Object.values(types || {}).reduce((a, r) => a + r.errors, 0);

  function record(map, values) {
    for (const [name, v] of Object.entries(values)) if (!map.has(name)) map.set(name, new Array(times.length - 1).fill(null));
    for (const [name, arr] of map) {
      arr.push(name in values ? values[name] : null);
      if (arr.length > HISTORY) arr.shift();
    }
  }

  function draw(key, testid) {
    const map = hist[key];
    const names = [...map.keys()];
    const box = $(testid);
    const width = Math.max(300, box.clientWidth);
    let c = charts[key];
    // uPlot's series are fixed at creation: a new type or node makes a new chart.
    if (c === undefined || c.names.join('\n') !== names.join('\n')) {
      if (c !== undefined) c.plot.destroy();
      const series = [{}, ...names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false }))];
      const plot = new uPlot({ width, height: 200, series, scales: { x: { time: true } }, axes: [{}, { size: 60 }], legend: { live: false } }, [times.slice(), ...names.map((n) => map.get(n).slice())], box);
      charts[key] = c = { plot, names };
      return;
    }
    if (c.plot.width !== width) c.plot.setSize({ width, height: 200 });
    c.plot.setData([times.slice(), ...names.map((n) => map.get(n).slice())]);
  }

  function renderMembers(snap) {
    const body = $('members').querySelector('tbody');
    body.replaceChildren();
    for (const n of snap.nodes) {
      const tr = el('tr', { 'data-testid': 'member-row', 'data-member': n.id, 'data-state': n.state, class: n.state });
      tr.append(el('td', {}, n.id + (n.self ? ' (this node)' : '')));
      tr.append(el('td', {}, n.zone || '–'));
      const st = el('td', { 'data-testid': 'member-state', class: `state ${n.state}`, title: n.reason || '' }, n.state);
      tr.append(st);
      tr.append(el('td', { class: 'num', 'data-testid': 'member-shards' }, String(n.shards)));
      tr.append(el('td', { class: 'num', 'data-testid': 'member-calls', 'data-value': sumCalls(n.types) }, n.state === 'down' ? '–' : fmt(sumCalls(n.types), 1)));
      tr.append(el('td', { class: 'num', 'data-testid': 'member-backlog' }, n.queued === undefined ? '–' : String(n.queued)));
      tr.append(el('td', { class: 'num', 'data-testid': 'member-outbox' }, n.outbox === undefined ? '–' : String(n.outbox.pending)));
      tr.append(el('td', { class: 'num', 'data-testid': 'member-reminders' }, n.reminders === undefined ? '–' : `${n.reminders.pending} (${n.reminders.dueSoon})`));
      const br = el('td', { 'data-testid': 'member-breakers' });
      if (n.breakers !== undefined) {
        const notClosed = n.breakers.filter((b) => b.state !== 'closed');
        if (notClosed.length === 0) br.textContent = `${n.breakers.length} closed`;
        for (const b of notClosed) br.append(el('span', { class: `breaker ${b.state}` }, `${b.name} ${b.state} `));
      } else br.textContent = '–';
      tr.append(br);
      tr.append(el('td', { class: 'muted' }, `${n.state} since ${clock(n.since)}`));
      body.append(tr);
    }
  }

  function renderTypes(snap) {
    const body = $('types').querySelector('tbody');
    body.replaceChildren();
    for (const [type, r] of Object.entries(snap.types)) {
      const tr = el('tr', { 'data-testid': 'type-row', 'data-type': type });
      tr.append(el('td', {}, type));
      tr.append(el('td', { class: 'num', 'data-testid': 'type-calls', 'data-value': r.calls }, fmt(r.calls, 1)));
      tr.append(el('td', { class: 'num', 'data-testid': 'type-errors', 'data-value': r.errors }, fmt(r.errors, 1)));
      tr.append(el('td', { class: 'num', 'data-testid': 'type-p50' }, fmt(r.p50, 2)));
      tr.append(el('td', { class: 'num', 'data-testid': 'type-p99' }, fmt(r.p99, 2)));
      const per = snap.nodes.filter((n) => n.types[type]).map((n) => `${n.id} ${fmt(n.types[type].calls, 1)} · ${fmt(n.types[type].p99, 2)}`);
      tr.append(el('td', { class: 'muted' }, per.join('   ')));
      body.append(tr);
    }
  }

  function renderEvents(snap) {
    const list = $('events');
    list.replaceChildren();
    for (const e of snap.events) {
      const li = el('li', { class: e.level, 'data-event': e.event });
      li.append(el('time', {}, clock(e.t)), document.createTextNode(e.text));
      list.append(li);
    }
    if (snap.events.length === 0) list.append(el('li', { class: 'muted' }, 'none yet'));
  }

  function render(snap) {
    $('served-by').textContent = snap.servedBy;
    $('window').textContent = String(snap.windowMs / 1000);
    times.push(snap.at / 1000);
    if (times.length > HISTORY) times.shift();
    const typeCalls = {}, typeP99 = {}, nodeCalls = {}, nodeErrors = {};
    for (const [type, r] of Object.entries(snap.types)) {
      typeCalls[type] = r.calls;
      typeP99[type] = r.p99;
    }
    for (const n of snap.nodes) {
      nodeCalls[n.id] = n.state === 'down' ? null : sumCalls(n.types);
      nodeErrors[n.id] = n.state === 'down' ? null : sumErrors(n.types);
    }
    record(hist.typeCalls, typeCalls);
    record(hist.typeP99, typeP99);
    record(hist.nodeCalls, nodeCalls);
    record(hist.nodeErrors, nodeErrors);
    renderMembers(snap);
    renderTypes(snap);
    renderEvents(snap);
    draw('typeCalls', 'chart-type-calls');
    draw('typeP99', 'chart-type-p99');
    draw('nodeCalls', 'chart-node-calls');
    draw('nodeErrors', 'chart-node-errors');
    document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
  }

  // Reconnects with backoff: the page outlives a node restart.
  let backoff = 500;
  function connect() {
    const ws = new WebSocket(wsUrl);
    const status = $('status');
    ws.onopen = () => {
      backoff = 500;
      status.textContent = 'live';
      status.className = 'status live';
    };
    ws.onmessage = (m) => {
      try {
        render(JSON.parse(m.data));
      } catch (err) {
        console.error('dashboard: bad snapshot', err);
      }
    };
    ws.onclose = () => {
      status.textContent = 'disconnected; retrying';
      status.className = 'status lost';
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }
  connect();
})();

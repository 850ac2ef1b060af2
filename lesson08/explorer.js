// The chain-rule explorer's front end: an anywidget ES module that draws what
// lesson08.explorer.explorer_data computed. Every click is answered here, from the
// widget's state, so a saved notebook or the docs site works with no kernel; the
// kernel is asked only for what was not precomputed (traits `query` and `lr`).

const h = (tag, cls, text, attrs = {}) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
const fmt = (v) => (v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4).replace(/\.?0+$/, ''));
const keyOf = (grad, ix) => `${grad}[${ix.join(',')}]`;

// 1. The chain rule: one clickable factor per step.
function drawFormula(d, k, pick) {
  const formula = h('div', 'l08x-formula', null, { role: 'group', 'aria-label': 'the chain rule, from the loss back to the input' });
  d.steps.forEach((s, i) => {
    if (i) formula.append(h('span', 'l08x-times', '×'));
    const f = h('span', 'l08x-factor' + (i === k ? ' l08x-selected' : ''), null,
      { role: 'button', tabindex: '-1', 'aria-pressed': String(i === k), 'aria-label': `factor ${i + 1}: ${s.label}`, title: 'show this factor' });
    f.dataset.step = i;
    const fr = h('span', 'l08x-frac');
    fr.append(h('span', 'l08x-num', '∂'), h('span', 'l08x-den', '∂' + s.wrt));
    const fn = h('span', 'l08x-fn', s.fn);
    if (s.sub) fn.append(h('sub', null, s.sub));
    f.append(fr, fn, h('span', 'l08x-args', '(' + s.args + ')'));
    f.addEventListener('click', () => pick(i));
    formula.append(f);
  });
  return formula;
}

// ◀ ▷ ▶ and one button per factor.
function drawControls(d, k, pick, player) {
  const nav = h('div', 'l08x-nav', null, { role: 'toolbar', 'aria-label': 'steps of the backward pass' });
  const last = d.steps.length - 1;
  const prev = h('button', 'l08x-prev', '◀', { 'aria-label': 'previous factor, towards the loss (←)', title: 'previous factor (←)' });
  prev.disabled = k === 0;
  prev.addEventListener('click', () => { player.stop(); pick(k - 1); });
  const play = h('button', 'l08x-play', player.playing() ? '❚❚ pause' : '▷ play',
    { 'aria-label': player.playing() ? 'pause the backward pass' : 'play the backward pass, from the loss to the input (Enter)', title: 'play (Enter)' });
  play.addEventListener('click', () => player.toggle());
  const next = h('button', 'l08x-next', '▶', { 'aria-label': 'next factor, towards the input (→)', title: 'next factor (→)' });
  next.disabled = k === last;
  next.addEventListener('click', () => { player.stop(); pick(k + 1); });
  nav.append(prev, play, next);
  d.steps.forEach((s, i) => {
    const b = h('button', 'l08x-btn' + (i === k ? ' l08x-selected' : ''), s.label,
      { 'aria-label': `step ${i + 1}: ${s.label}`, 'aria-pressed': String(i === k) });
    b.dataset.step = i;
    b.addEventListener('click', () => { player.stop(); pick(i); });
    nav.append(b);
  });
  return nav;
}

// 2. The code that computes the factor, and its operations with their shapes.
function drawCode(d, k) {
  const s = d.steps[k];
  const code = h('div', 'l08x-code');
  code.append(h('div', 'l08x-src', `step ${k + 1} of ${d.steps.length}: ${s.label}, computed by ${s.source}`));
  const pre = h('pre', 'l08x-pre');
  s.code.forEach((line, i) => {
    const cls = i === s.main_line ? ' l08x-current' : (s.param_lines.includes(i) ? ' l08x-param' : '');
    pre.append(h('div', 'l08x-line' + cls, line || ' '));
  });
  const ops = h('table', 'l08x-ops');
  s.ops.forEach((op) => {
    const tr = h('tr', 'l08x-op');
    tr.append(h('td', 'l08x-opcode', op.code), h('td', 'l08x-shapes', op.shapes), h('td', 'l08x-note', op.note));
    ops.append(tr);
  });
  code.append(pre, ops);
  return code;
}

// 3. The network from input to loss; gradients not computed yet at step k are grey.
function drawDiagram(d, k, pick) {
  const diag = h('div', 'l08x-diagram', null, { role: 'list', 'aria-label': 'the network, from the input to the loss' });
  const gradCls = (step) => 'l08x-grad' + (step == null || step > k ? ' l08x-pending' : '') + (step === k ? ' l08x-fresh' : '');
  d.nodes.forEach((nd, i) => {
    if (i) diag.append(h('span', 'l08x-arrow', '→', { 'aria-hidden': 'true' }));
    if (nd.kind === 'act') {
      const a = h('div', 'l08x-node l08x-act', null, { role: 'listitem' });
      a.dataset.name = nd.name;
      a.append(h('div', 'l08x-fwd', '→ ' + nd.name + ' ' + nd.shape),
        h('div', gradCls(nd.grad_step), '← ' + nd.grad + ' ' + (nd.grad_step == null ? 'not computed' : nd.grad_shape)));
      diag.append(a);
    } else {
      const f = h('div', 'l08x-node l08x-fnbox' + (nd.step === k ? ' l08x-active' : ''), null,
        { role: 'listitem', 'aria-label': `${nd.label}: show its factor` });
      f.dataset.name = nd.name;
      f.append(h('div', 'l08x-fnlabel', nd.label));
      nd.params.forEach((p) => {
        const row = h('div', 'l08x-paramrow');
        row.append(h('span', 'l08x-pname', p.name + ' ' + p.shape + ' '), h('span', gradCls(p.grad_step), p.grad + ' ' + p.grad_shape));
        f.append(row);
      });
      f.addEventListener('click', () => pick(nd.step));
      diag.append(f);
    }
  });
  return diag;
}

// 4. The numbers: one clickable picture per gradient the step computes.
const colour = (v, vmax) => {
  const t = vmax ? Math.max(-1, Math.min(1, v / vmax)) : 0;
  const [r, g, b] = t >= 0 ? [202, 0, 32] : [5, 113, 176];
  const a = Math.abs(t);
  return `rgb(${Math.round(255 + (r - 255) * a)},${Math.round(255 + (g - 255) * a)},${Math.round(255 + (b - 255) * a)})`;
};

function drawPanel(p, chosen, choose) {
  const box = h('figure', 'l08x-panel');
  const cw = Math.max(4, Math.min(22, Math.floor(252 / p.w)));      // squares of a 28×28 picture; wider for a short strip
  const ch = Math.max(cw, Math.min(22, Math.floor(60 / p.h)));      // a strip of a few rows gets taller squares, easier to click
  const canvas = h('canvas', 'l08x-canvas', null,
    { role: 'img', 'aria-label': `${p.title}; click a square to see how its number is made`, tabindex: '-1' });
  canvas.width = p.w * cw; canvas.height = p.h * ch;
  canvas.dataset.grad = p.grad; canvas.dataset.cw = cw; canvas.dataset.ch = ch;
  const ctx = canvas.getContext('2d');
  p.values.forEach((v, c) => {
    ctx.fillStyle = colour(v, p.vmax);
    ctx.fillRect((c % p.w) * cw, Math.floor(c / p.w) * ch, cw, ch);
  });
  const at = chosen && chosen.grad === p.grad ? p.idx.findIndex((ix) => ix.join(',') === chosen.index.join(',')) : -1;
  if (at >= 0) {
    ctx.strokeStyle = '#000'; ctx.lineWidth = 2;
    ctx.strokeRect((at % p.w) * cw + 1, Math.floor(at / p.w) * ch + 1, cw - 2, ch - 2);
  }
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    const col = Math.floor((e.clientX - r.left) / (r.width / p.w)), row = Math.floor((e.clientY - r.top) / (r.height / p.h));
    const c = Math.min(p.h - 1, Math.max(0, row)) * p.w + Math.min(p.w - 1, Math.max(0, col));
    choose(p, c);
  });
  box.append(h('figcaption', 'l08x-ptitle', p.title), canvas,
    h('div', 'l08x-legend', `blue < 0 < red; darkest ±${fmt(p.vmax)}`));
  return box;
}

function drawPanels(s, chosen, choose) {
  const wrap = h('div', 'l08x-panels');
  s.panels.forEach((p) => wrap.append(drawPanel(p, chosen, choose)));
  return wrap;
}

// How one number is made: its formula, the largest terms, and the rest summed.
function drawExplanation(x) {
  const box = h('div', 'l08x-explain', null, { 'aria-live': 'polite' });
  if (!x) { box.append(h('div', 'l08x-hint', 'Click a square of a picture to see how its number is made.')); return box; }
  box.append(h('div', 'l08x-xhead', x.entry ? `${x.shown} = ${fmt(x.entry.v)}` : `${x.key} = …`));
  if (x.note) box.append(h('div', 'l08x-xnote', x.note));
  if (x.error) box.append(h('div', 'l08x-xnote', x.error));
  const e = x.entry;
  if (!e) return box;
  box.append(h('div', 'l08x-formula-line', e.f));
  const table = h('table', 'l08x-terms');
  const biggest = Math.max(1e-300, ...e.t.map((t) => Math.abs(t[t.length - 1])), e.r ? Math.abs(e.r[2]) : 0);
  const row = (label, product) => {
    const tr = h('tr', 'l08x-term');
    const bar = h('span', 'l08x-bar' + (product < 0 ? ' l08x-neg' : ''));
    bar.style.width = `${Math.round(60 * Math.abs(product) / biggest)}px`;
    const tdBar = h('td', 'l08x-tbar'); tdBar.append(bar);
    tr.append(h('td', 'l08x-tlabel', label), h('td', 'l08x-tprod', fmt(product)), tdBar);
    table.append(tr);
  };
  e.t.forEach((t) => {
    const factors = t.slice(0, -1);
    row(factors.map(([name, v]) => `${name} = ${fmt(v)}`).join(' × '), t[t.length - 1]);
  });
  if (e.r) row(`the other ${e.r[0].toLocaleString('en')} terms` + (e.r[1] ? ` (${e.r[1].toLocaleString('en')} of them exactly 0)` : ''), e.r[2]);
  const total = e.t.reduce((a, t) => a + t[t.length - 1], 0) + (e.r ? e.r[2] : 0);
  box.append(table, h('div', 'l08x-total', `sum of the terms ${fmt(total)} = the gradient's value ${fmt(e.v)}`));
  return box;
}

// 5. One step of learning: the batch's loss before and after p -= lr * p.g.
function drawLearning(d, model, state, redraw) {
  const box = h('div', 'l08x-learn');
  box.append(h('div', 'l08x-title', 'One step of learning: p −= lr · p.g for every weight and bias'));
  const rates = h('div', 'l08x-rates', null, { role: 'group', 'aria-label': 'learning rate' });
  d.learn.forEach(([lr]) => {
    const b = h('button', 'l08x-rate' + (state.lr === lr ? ' l08x-selected' : ''), String(lr),
      { 'aria-label': `learning rate ${lr}`, 'aria-pressed': String(state.lr === lr) });
    b.addEventListener('click', () => { state.lr = lr; redraw(); });
    rates.append(b);
  });
  const input = h('input', 'l08x-lr', null, { type: 'number', min: '0', step: 'any', 'aria-label': 'another learning rate (needs a kernel)', placeholder: 'other lr' });
  const submit = () => {
    const lr = Number(input.value);
    if (input.value === '' || !(lr >= 0) || !Number.isFinite(lr) || lr === state.asked) return;
    state.lr = lr; state.asked = lr; state.noKernel = false;
    model.set('lr', lr); model.save_changes();
    redraw();
    setTimeout(() => { if (state.asked === lr) { state.noKernel = true; redraw(); } }, 1500);
  };
  input.addEventListener('change', submit);
  input.l08xSubmit = submit;                        // Enter, through the key handler in render()
  rates.append(input);
  box.append(rates);
  const pre = d.learn.find(([lr]) => lr === state.lr);
  const got = model.get('learned');
  const after = pre ? pre[1] : (got && got.lr === state.lr ? got.loss : null);
  let text;
  if (after != null) {
    const change = (after - d.loss) / d.loss * 100;
    text = `lr ${state.lr}: loss ${fmt(d.loss)} → ${fmt(after)} (${change > 0 ? '+' : ''}${change.toFixed(1)}%)` +
      (after > d.loss ? ': the step overshoots, and the loss goes up' : '');
  } else if (got && got.lr === state.lr && got.error) text = got.error;
  else text = state.noKernel ? `lr ${state.lr} needs a running kernel; the rates above were precomputed` : `lr ${state.lr}: asking the kernel…`;
  box.append(h('div', 'l08x-result', text, { 'aria-live': 'polite' }));
  return box;
}

function render({ model, el }) {
  const root = h('div', 'l08x', null, { tabindex: '0', role: 'region', 'aria-label': 'chain-rule explorer: ← and → step, Enter plays' });
  el.appendChild(root);
  const local = { chosen: null, lr: null, asked: null, noKernel: false };
  let timer = null;
  const pick = (i) => {
    const n = model.get('data').steps.length;
    model.set('selected', Math.max(0, Math.min(n - 1, i)));
    model.save_changes();
  };
  const player = {
    playing: () => timer !== null,
    stop: () => { if (timer !== null) { clearInterval(timer); timer = null; draw(); } },
    toggle: () => {
      if (timer !== null) return player.stop();
      const last = model.get('data').steps.length - 1;
      if (model.get('selected') >= last) pick(0);
      timer = setInterval(() => {
        const k = model.get('selected');
        if (k >= last) player.stop(); else pick(k + 1);
      }, 900);
      draw();
    },
  };
  const choose = (p, c) => {
    const d = model.get('data'), ix = p.idx[c], key = keyOf(p.grad, ix);
    local.chosen = { grad: p.grad, index: ix, key, shown: key, entry: d.explained[key] || null, note: null, error: null, pending: null };
    if (!local.chosen.entry) {
      // not precomputed: show the nearest precomputed square at once, and ask the kernel for this one
      let best = null, bestD = Infinity;
      p.idx.forEach((jx, cc) => {
        const dist = Math.abs(Math.floor(cc / p.w) - Math.floor(c / p.w)) + Math.abs((cc % p.w) - (c % p.w));
        if (dist < bestD && d.explained[keyOf(p.grad, jx)]) { best = keyOf(p.grad, jx); bestD = dist; }
      });
      const chosen = local.chosen;
      Object.assign(chosen, { shown: best, entry: best ? d.explained[best] : null, pending: key,
        note: `${key} was not precomputed: asking the kernel` + (best ? `; meanwhile, the nearest precomputed entry` : '') });
      model.set('query', { key, name: p.grad, index: ix }); model.save_changes();
      setTimeout(() => {
        if (local.chosen !== chosen || chosen.pending !== key) return;
        chosen.note = `no kernel answered for ${key}` + (best ? `: this is the nearest precomputed entry (run the notebook to explain any entry)` : '');
        draw();
      }, 1500);
    }
    draw();
  };
  model.on('change:answer', () => {
    const a = model.get('answer');
    if (local.chosen && a && a.key === local.chosen.pending) {
      Object.assign(local.chosen, { pending: null, note: null });
      if (a.error) local.chosen.error = a.error; else Object.assign(local.chosen, { entry: a, shown: a.key });
      draw();
    }
  });
  model.on('change:learned', () => { if (model.get('learned').lr === local.asked) local.asked = null; local.noKernel = false; draw(); });
  // ← → step and Enter plays (Enter in the rate box submits it). Listening on window in the capture phase sees the key
  // before a notebook's own shortcuts (Enter: edit the cell) do, and stops only these keys: Ctrl+S and the rest pass.
  const onKey = (e) => {
    const t = e.composedPath()[0];                  // the real target, also inside a shadow root (marimo)
    if (!(t instanceof Node) || !root.contains(t) || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
    const k = model.get('selected');
    if (t.tagName === 'INPUT') { if (e.key !== 'Enter') return; t.l08xSubmit(); }
    else if (e.key === 'ArrowLeft') { player.stop(); pick(k - 1); }
    else if (e.key === 'ArrowRight') { player.stop(); pick(k + 1); }
    else if (e.key === 'Enter' && t.tagName !== 'BUTTON') player.toggle();
    else return;
    e.preventDefault(); e.stopPropagation();
  };
  window.addEventListener('keydown', onKey, true);
  function draw() {
    const d = model.get('data'), k = model.get('selected'), s = d.steps && d.steps[k];
    if (!s) { root.textContent = 'no data'; return; }
    if (local.lr === null) local.lr = d.learn[2] ? d.learn[2][0] : d.learn[0][0];
    if (local.chosen && !s.panels.some((p) => p.grad === local.chosen.grad)) local.chosen = null;
    const focused = root.contains(document.activeElement);
    root.replaceChildren();
    root.append(h('div', 'l08x-title', 'The chain rule, from the loss back to the input'), drawFormula(d, k, pick), drawControls(d, k, pick, player));
    const left = h('div', 'l08x-left');
    left.append(drawCode(d, k), h('div', 'l08x-title', 'Shapes: forward →, gradients ← (grey: not computed yet)'), drawDiagram(d, k, pick));
    const right = h('div', 'l08x-right');
    right.append(h('div', 'l08x-title', 'The numbers: click a square'), drawPanels(s, local.chosen, choose));
    const body = h('div', 'l08x-body');
    body.append(left, right);
    root.append(body, drawExplanation(local.chosen), drawLearning(d, model, local, draw));
    if (focused) root.focus({ preventScroll: true });
  }
  model.on('change:selected', draw);
  model.on('change:data', () => { local.chosen = null; draw(); });
  draw();
  return () => { if (timer !== null) clearInterval(timer); window.removeEventListener('keydown', onKey, true); };
}

export default { render };

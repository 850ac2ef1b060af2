// The chain-rule explorer's front end: an anywidget ES module that draws what
// lesson08.explorer.explorer_data computed. Every click is answered here, from the
// widget's state, so a saved notebook or the docs site works with no kernel; the
// kernel is asked only for what was not precomputed (traits `query` and `lr`).
//
// The pure helpers (numbers, keys, colours, texts) come first and are exported for
// the node tests in tests/js/; nothing here touches the DOM until render() runs.

// ---------------------------------------------------------------- pure helpers

// A number as the widget shows it: `digits` significant digits, trailing zeros of a
// fraction dropped (0.5, not 0.5000), whole numbers kept whole (1260, not 126), and
// exponent notation for the very small and the very large (3.766e-5, 1.2e+18).
export function formatNumber(v, digits = 4) {
  if (v === null || v === undefined) return 'overflow';
  if (typeof v !== 'number') v = Number(v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '-∞';
  if (v === 0) return '0';                                   // also -0
  const [mant, exp] = v.toExponential(digits - 1).split('e');  // rounded first: 9999.7 has exponent 4
  const e = Number(exp);
  const trim = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (e < -3 || e >= Math.max(digits, 5)) return `${trim(mant)}e${e < 0 ? '-' : '+'}${Math.abs(e)}`;
  const fixed = trim(v.toFixed(Math.max(0, digits - 1 - e)));
  return fixed === '-0' ? '0' : fixed;
}

// How a loss changed, in words that read well at every scale: "unchanged", a percentage,
// or a factor (×42, ×1.2e+18) once the loss more than doubles.
export function describeChange(before, after) {
  if (!Number.isFinite(after)) return 'overflow';
  if (after === before) return 'unchanged';
  if (!Number.isFinite(before) || before === 0) return after > before ? 'up' : 'down';
  const ratio = after / before;
  if (ratio >= 2) return `×${formatNumber(ratio, 2)}`;
  const pct = (ratio - 1) * 100;
  const text = Math.abs(pct) >= 0.05 ? pct.toFixed(1) : formatNumber(pct, 2);
  return `${pct > 0 ? '+' : ''}${text}%`;
}

// The result line of one step of learning; `after` is null (or not finite) when the loss overflowed.
export function lossChangeText(lr, before, after) {
  if (after === null || after === undefined || !Number.isFinite(Number(after)))
    return `lr ${lr}: loss ${formatNumber(before)} → overflow: the step overshoots so far that the loss is too large to compute`;
  after = Number(after);
  return `lr ${lr}: loss ${formatNumber(before)} → ${formatNumber(after)} (${describeChange(before, after)})` +
    (after > before ? ': the step overshoots, and the loss goes up' : '');
}

// The key of one entry of a gradient, as explorer_data's `explained` spells it: "w1.g[3,7]".
export const keyOf = (grad, ix) => `${grad}[${ix.join(',')}]`;

// A square's colour: white at 0, red for positive, blue for negative, darkest at ±vmax.
export function colour(v, vmax) {
  const t = vmax && Number.isFinite(v) ? Math.max(-1, Math.min(1, v / vmax)) : 0;
  const [r, g, b] = t >= 0 ? [202, 0, 32] : [5, 113, 176];
  const a = Math.abs(t);
  return `rgb(${Math.round(255 + (r - 255) * a)},${Math.round(255 + (g - 255) * a)},${Math.round(255 + (b - 255) * a)})`;
}

// The key of the precomputed square of picture `p` nearest to square `c` (city-block distance), or null.
export function nearestEntry(p, c, explained) {
  let best = null, bestD = Infinity;
  p.idx.forEach((jx, cc) => {
    const dist = Math.abs(Math.floor(cc / p.w) - Math.floor(c / p.w)) + Math.abs((cc % p.w) - (c % p.w));
    if (dist < bestD && explained[keyOf(p.grad, jx)]) { best = keyOf(p.grad, jx); bestD = dist; }
  });
  return best;
}

// Square `c` of picture `p` moved by (dr, dc), kept inside the picture.
export function moveCursor(p, c, dr, dc) {
  const row = Math.min(p.h - 1, Math.max(0, Math.floor(c / p.w) + dr));
  const col = Math.min(p.w - 1, Math.max(0, (c % p.w) + dc));
  return row * p.w + col;
}

// What a screen reader hears for square `c` of picture `p`: "w1.g[350,7] = 0.218, row 13 of 28, column 7 of 28".
export const squareText = (p, c) =>
  `${keyOf(p.grad, p.idx[c])} = ${formatNumber(p.values[c])}, row ${Math.floor(c / p.w) + 1} of ${p.h}, column ${(c % p.w) + 1} of ${p.w}`;

// One term of an explanation, [[name, value], …, product], as parts: factors with their values, then the product.
export function termParts(t) {
  return { factors: t.slice(0, -1).map(([name, v]) => ({ name, value: formatNumber(v) })), product: formatNumber(t[t.length - 1]) };
}

// One term as one line of text: "v[3244, 15] (0.5083) × u.g[3244, 0] (-0.004049) = -0.002058".
export function termText(t) {
  const { factors, product } = termParts(t);
  return `${factors.map((f) => `${f.name} (${f.value})`).join(' × ')} = ${product}`;
}

// The sum of the (rounded) terms against the gradient's value: never "=" between rounded numbers.
export function totalText(sum, value) {
  const a = formatNumber(sum), b = formatNumber(value);
  const diff = Math.abs(sum - value);
  return `sum of the terms ${a} ≈ the gradient's value ${b}` +
    (a === b || !(diff > 0) ? '' : ` (they differ by ${formatNumber(diff, 2)}: every number here is rounded to 4 digits)`);
}

export const NO_ANSWER = 'no answer from the kernel: run the notebook cell again to reconnect';

// ---------------------------------------------------------------- DOM helpers

const h = (tag, cls, text, attrs = {}) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};
// A number that never breaks across lines ("-7.129e-6" stays whole).
const num = (v) => h('span', 'l08x-n', formatNumber(v));
// An element of text and numbers: strings stay text, numbers become unbreakable spans.
const line = (tag, cls, ...parts) => {
  const e = h(tag, cls);
  parts.forEach((p) => e.append(typeof p === 'number' || p === null ? num(p) : p));
  return e;
};
// A button whose accessible name starts with its visible text (axe: label-content-name-mismatch).
const labelled = (b, more) => { b.setAttribute('aria-label', b.textContent.replace(/\s+/g, ' ').trim() + (more ? `: ${more}` : '')); return b; };

// ---------------------------------------------------------------- drawing

// 1. The chain rule: one factor button per step.
function drawFormula(d, k, act) {
  const formula = h('div', 'l08x-formula', null, { role: 'group', 'aria-label': 'the chain rule, from the loss back to the input' });
  d.steps.forEach((s, i) => {
    if (i) formula.append(h('span', 'l08x-times', '×', { 'aria-hidden': 'true' }));
    const f = h('button', 'l08x-factor' + (i === k ? ' l08x-selected' : ''), null,
      { type: 'button', 'aria-pressed': String(i === k), title: 'show this factor', 'data-focus': `factor-${i}` });
    f.dataset.step = i;
    const fr = h('span', 'l08x-frac');
    fr.append(h('span', 'l08x-num', '∂'), h('span', 'l08x-den', '∂' + s.wrt));
    const fn = h('span', 'l08x-fn', s.fn);
    if (s.sub) fn.append(h('sub', null, s.sub));
    f.append(fr, ' ', fn, h('span', 'l08x-args', '(' + s.args + ')'));
    labelled(f, `factor ${i + 1} of ${d.steps.length}, ${s.label}`);
    f.addEventListener('click', () => act.pick(i, true));
    formula.append(f);
  });
  return formula;
}

// ◀ ▷ ▶ and one button per factor.
function drawControls(d, k, act, playing) {
  const nav = h('div', 'l08x-nav', null, { role: 'toolbar', 'aria-label': 'steps of the backward pass' });
  const button = (cls, text, label, focus, onClick, disabled = false) => {
    const b = h('button', cls, text, { type: 'button', 'aria-label': label, title: label, 'data-focus': focus });
    b.disabled = disabled;
    b.addEventListener('click', onClick);
    return b;
  };
  nav.append(
    button('l08x-prev', '◀', 'previous factor, towards the loss (←)', 'prev', () => act.pick(k - 1, true), k === 0),
    button('l08x-play', playing ? '❚❚ pause' : '▷ play',
      playing ? '❚❚ pause the backward pass' : '▷ play the backward pass, from the loss to the input (Enter)', 'play', () => act.toggle()),
    button('l08x-next', '▶', 'next factor, towards the input (→)', 'next', () => act.pick(k + 1, true), k === d.steps.length - 1));
  d.steps.forEach((s, i) => {
    const b = h('button', 'l08x-btn' + (i === k ? ' l08x-selected' : ''), s.label,
      { type: 'button', 'aria-pressed': String(i === k), 'data-focus': `btn-${i}` });
    labelled(b, `step ${i + 1}`);
    b.dataset.step = i;
    b.addEventListener('click', () => act.pick(i, true));
    nav.append(b);
  });
  return nav;
}

// 2. The code that computes the factor, and its operations with their shapes.
function drawCode(d, k) {
  const s = d.steps[k];
  const code = h('div', 'l08x-code');
  code.append(h('div', 'l08x-src', `step ${k + 1} of ${d.steps.length}: ${s.label}, computed by ${s.source}`));
  const pre = h('pre', 'l08x-pre', null, { tabindex: '0', 'aria-label': `the code of ${s.source}` });
  s.code.forEach((ln, i) => {
    const cls = i === s.main_line ? ' l08x-current' : (s.param_lines.includes(i) ? ' l08x-param' : '');
    pre.append(h('div', 'l08x-line' + cls, ln || ' '));
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

// 3. The network from input to loss, wrapping onto rows; gradients not computed yet at step k are grey.
function drawDiagram(d, k, act) {
  const diag = h('div', 'l08x-diagram', null, { role: 'group', 'aria-label': 'the network, from the input to the loss' });
  const gradCls = (step) => 'l08x-grad' + (step == null || step > k ? ' l08x-pending' : '') + (step === k ? ' l08x-fresh' : '');
  d.nodes.forEach((nd, i) => {
    if (i) diag.append(h('span', 'l08x-arrow', '→', { 'aria-hidden': 'true' }));
    if (nd.kind === 'act') {
      const a = h('div', 'l08x-node l08x-act');
      a.dataset.name = nd.name;
      a.append(h('div', 'l08x-fwd', '→ ' + nd.name + ' ' + nd.shape),
        h('div', gradCls(nd.grad_step), '← ' + nd.grad + ' ' + (nd.grad_step == null ? 'not computed' : nd.grad_shape)));
      diag.append(a);
    } else {
      const f = h('button', 'l08x-node l08x-fnbox' + (nd.step === k ? ' l08x-active' : ''), null,
        { type: 'button', 'aria-pressed': String(nd.step === k), 'data-focus': `node-${nd.name}` });
      f.dataset.name = nd.name;
      f.append(h('span', 'l08x-fnlabel', nd.label));
      nd.params.forEach((p) => {
        const row = h('span', 'l08x-paramrow');
        row.append(h('span', 'l08x-pname', p.name + ' ' + p.shape), ' ', h('span', gradCls(p.grad_step), p.grad + ' ' + p.grad_shape));
        f.append(' ', row);
      });
      labelled(f, 'show its factor');
      f.addEventListener('click', () => act.pick(nd.step, true));
      diag.append(f);
    }
  });
  return diag;
}

// 4. The numbers: one picture per gradient the step computes, clickable, and with a keyboard cursor.
function paintPanel(canvas, p, chosenAt, cursorAt) {
  const cw = Number(canvas.dataset.cw), ch = Number(canvas.dataset.ch);
  const ctx = canvas.getContext && canvas.getContext('2d');
  if (!ctx) return;
  p.values.forEach((v, c) => {
    ctx.fillStyle = colour(v, p.vmax);
    ctx.fillRect((c % p.w) * cw, Math.floor(c / p.w) * ch, cw, ch);
  });
  const box = (c, style, dash) => {
    ctx.save(); ctx.strokeStyle = style; ctx.lineWidth = 2; ctx.setLineDash(dash);
    ctx.strokeRect((c % p.w) * cw + 1, Math.floor(c / p.w) * ch + 1, cw - 2, ch - 2); ctx.restore();
  };
  if (chosenAt >= 0) box(chosenAt, '#000', []);
  if (cursorAt >= 0) { box(cursorAt, '#fff', []); box(cursorAt, '#000', [3, 2]); }
}

function drawPanel(p, act) {
  const box = h('figure', 'l08x-panel');
  const cw = Math.max(4, Math.min(22, Math.floor(252 / p.w)));      // squares of a 28×28 picture; wider for a short strip
  const ch = Math.max(cw, Math.min(22, Math.floor(60 / p.h)));      // a strip of a few rows gets taller squares, easier to click
  const canvas = h('canvas', 'l08x-canvas', null, { role: 'img', tabindex: '0', 'data-focus': `canvas-${p.grad}` });
  canvas.width = p.w * cw; canvas.height = p.h * ch;
  Object.assign(canvas.dataset, { grad: p.grad, cw, ch });
  box.style.width = `${canvas.width + 2}px`;                       // the caption wraps to the picture's width
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect();
    const col = Math.floor((e.clientX - r.left) / (r.width / p.w)), row = Math.floor((e.clientY - r.top) / (r.height / p.h));
    act.choose(p, Math.min(p.h - 1, Math.max(0, row)) * p.w + Math.min(p.w - 1, Math.max(0, col)));
  });
  canvas.addEventListener('focus', () => { if (canvas.matches(':focus-visible')) act.cursor(p, 0, 0); });
  canvas.addEventListener('blur', () => act.cursorOff(p));
  box.append(h('figcaption', 'l08x-ptitle', p.title), canvas,
    line('div', 'l08x-legend', 'blue < 0 < red; darkest ±', p.vmax));
  return box;
}

function drawPanels(s, act) {
  const wrap = h('div', 'l08x-panels');
  s.panels.forEach((p) => wrap.append(drawPanel(p, act)));
  return wrap;
}

// The pictures' marks, in place (a focused picture keeps its focus): the square explained, and the keyboard cursor.
function markPanels(slot, s, state) {
  slot.querySelectorAll('canvas').forEach((canvas) => {
    const p = s.panels.find((q) => q.grad === canvas.dataset.grad);
    if (!p) return;
    const chosen = state.chosen;
    const chosenAt = chosen && chosen.grad === p.grad ? p.idx.findIndex((ix) => ix.join(',') === chosen.index.join(',')) : -1;
    const cursorAt = state.cursorOn === p.grad ? state.cursor[p.grad] : -1;
    const marks = `${chosenAt} ${cursorAt}`;
    if (canvas.dataset.marks === marks) return;
    canvas.dataset.marks = marks;
    if (cursorAt >= 0) Object.assign(canvas.dataset, { cursor: cursorAt, cursorName: keyOf(p.grad, p.idx[cursorAt]) });
    else { delete canvas.dataset.cursor; delete canvas.dataset.cursorName; }
    canvas.setAttribute('aria-label', `${p.title}. Click a square, or use the arrow keys and Enter, to see how its number is made` +
      (cursorAt >= 0 ? `; cursor on ${squareText(p, cursorAt)}` : ''));
    paintPanel(canvas, p, chosenAt, cursorAt);
  });
}

// How one number is made: its formula, the largest terms (factors with their values, then the product), the rest summed.
function drawExplanation(x) {
  const box = h('div', 'l08x-xbody');
  if (!x) { box.append(h('div', 'l08x-hint', 'Click a square of a picture (or focus it and press Enter) to see how its number is made.')); return box; }
  box.append(x.entry ? line('div', 'l08x-xhead', `${x.shown} = `, x.entry.v) : h('div', 'l08x-xhead', `${x.key} = …`));
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
    bar.style.width = `${Math.round(60 * Math.abs(product) / biggest) || 0}px`;
    const tdBar = h('td', 'l08x-tbar', null, { 'aria-hidden': 'true' }); tdBar.append(bar);
    tr.append(label, line('td', 'l08x-tprod', '= ', product), tdBar);
    table.append(tr);
  };
  e.t.forEach((t) => {
    const td = h('td', 'l08x-tlabel');
    t.slice(0, -1).forEach(([name, v], i) => {
      if (i) td.append(h('span', 'l08x-times', ' × '));
      td.append(h('span', 'l08x-fname', name), ' ', line('span', 'l08x-fval', '(', v, ')'));
    });
    row(td, t[t.length - 1]);
  });
  if (e.r) row(h('td', 'l08x-tlabel', `the other ${e.r[0].toLocaleString('en')} terms` + (e.r[1] ? ` (${e.r[1].toLocaleString('en')} of them exactly 0)` : '')), e.r[2]);
  const total = e.t.reduce((a, t) => a + t[t.length - 1], 0) + (e.r ? e.r[2] : 0);
  const tot = totalText(total, e.v).split(/(\S*\d\S*)/);      // the same words, with each number unbreakable
  box.append(table, line('div', 'l08x-total', ...tot.map((s, i) => (i % 2 ? h('span', 'l08x-n', s) : s))));
  return box;
}

// 5. One step of learning: the batch's loss before and after p -= lr * p.g.
function drawRates(d, state, act) {
  const rates = h('div', 'l08x-ratebtns');
  d.learn.forEach(([lr]) => {
    const b = h('button', 'l08x-rate' + (state.lr === lr ? ' l08x-selected' : ''), String(lr),
      { type: 'button', 'aria-pressed': String(state.lr === lr), 'data-focus': `rate-${lr}` });
    labelled(b, 'learning rate');
    b.addEventListener('click', () => act.rate(lr));
    rates.append(b);
  });
  return rates;
}

function learningText(d, state, learned) {
  const pre = d.learn.find(([lr]) => lr === state.lr);
  if (pre) return lossChangeText(state.lr, d.loss, pre[1]);
  if (learned && learned.lr === state.lr) {
    if (learned.error) return learned.error;
    return lossChangeText(state.lr, d.loss, learned.overflow || typeof learned.loss !== 'number' ? null : learned.loss);
  }
  return state.noKernel ? `lr ${state.lr}: ${NO_ANSWER} (the rates above were precomputed)` : `lr ${state.lr}: asking the kernel…`;
}

// ---------------------------------------------------------------- the widget

// The parts drawn once: slots that redraws fill, the live regions, the rate box.
function buildSkeleton(root, act) {
  const slot = (cls) => h('div', cls);
  const s = {
    formula: slot('l08x-slot'), nav: slot('l08x-slot'), code: slot('l08x-slot'), diagram: slot('l08x-slot'),
    panels: slot('l08x-slot'), explain: h('div', 'l08x-explain', null, { 'aria-live': 'polite' }),
    rates: slot('l08x-slot'), result: h('div', 'l08x-result', null, { 'aria-live': 'polite' }),
    status: h('div', 'l08x-status', null, { role: 'status' }),        // visually hidden: the picture cursor, the step
  };
  const left = h('div', 'l08x-left'), right = h('div', 'l08x-right'), body = h('div', 'l08x-body');
  left.append(s.code, h('div', 'l08x-title', 'Shapes: forward →, gradients ← (grey: not computed yet)'), s.diagram);
  right.append(h('div', 'l08x-title', 'The numbers: click a square, or Tab to a picture and use the arrow keys'), s.panels);
  body.append(left, right);
  const learn = h('div', 'l08x-learn');
  const rates = h('div', 'l08x-rates', null, { role: 'group', 'aria-label': 'learning rate' });
  const input = h('input', 'l08x-lr', null, { type: 'number', min: '0', step: 'any', 'aria-label': 'other lr: another learning rate (asks the kernel)',
    placeholder: 'other lr', 'data-focus': 'lr' });
  const submit = () => { const lr = Number(input.value); if (input.value !== '' && lr >= 0 && Number.isFinite(lr)) act.askLr(lr); };
  input.addEventListener('change', submit);
  input.l08xSubmit = submit;                        // Enter, through the key handler
  rates.append(s.rates, input);
  learn.append(h('div', 'l08x-title', 'One step of learning: p −= lr · p.g for every weight and bias'), rates, s.result);
  root.append(h('div', 'l08x-title', 'The chain rule, from the loss back to the input'), s.formula, s.nav, body, s.explain, learn, s.status);
  return s;
}

// Put `node` into `slot` unless it shows the same thing already; keep the keyboard focus on the same control.
// (Compared as first built: marks painted later, like the pictures' cursors, do not count.)
function swap(slot, node) {
  const sig = node.outerHTML;
  if (slot.l08xSig === sig) return;
  slot.l08xSig = sig;
  const active = slot.getRootNode().activeElement;
  const focus = active && slot.contains(active) ? active.dataset.focus : null;
  slot.replaceChildren(node);
  if (focus) {
    const again = slot.querySelector(`[data-focus="${CSS.escape(focus)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

const setText = (e, text) => { if (e.textContent !== text) e.textContent = text; };

// The state that lives in the front end only: the square explained, the pictures' cursors, the learning rate.
function createState(d) {
  return { chosen: null, answered: {}, cursor: {}, cursorOn: null, lr: d && d.learn ? (d.learn[2] || d.learn[0])[0] : null, asked: null, noKernel: false, nonce: 0 };
}

// The kernel: ask for what was not precomputed, and take its answers (matched by nonce, else by key).
function connectKernel(model, state, draw, announce) {
  const WAIT = 1500;
  const ask = (chosen) => {
    chosen.nonce = ++state.nonce;
    model.set('query', { key: chosen.pending, name: chosen.grad, index: chosen.index, nonce: chosen.nonce });
    model.save_changes();
    setTimeout(() => {
      if (state.chosen !== chosen || chosen.pending === null) return;
      chosen.note = `${NO_ANSWER} (${chosen.pending} was not precomputed)` + (chosen.entry ? '; meanwhile, the nearest precomputed entry' : '');
      draw();
    }, WAIT);
  };
  const askLr = (lr) => {
    state.lr = lr; state.noKernel = false;
    if ((model.get('learned') || {}).lr === lr) { state.asked = null; draw(); return; }   // answered already: asking again changes nothing
    state.asked = lr;
    const nonce = ++state.nonce; state.lrNonce = nonce;
    model.set('lr', lr); model.save_changes();
    draw();
    setTimeout(() => { if (state.lrNonce === nonce && state.asked === lr) { state.noKernel = true; draw(); } }, WAIT);
  };
  const onAnswer = () => {
    const a = model.get('answer'), c = state.chosen;
    if (!c || !a || c.pending === null) return;
    if (a.nonce != null ? a.nonce !== c.nonce : a.key !== c.pending) return;
    Object.assign(c, { pending: null, note: null });
    if (a.error) c.error = a.error;
    else { Object.assign(c, { entry: a, shown: a.key || c.key }); state.answered[c.shown] = a; }
    draw();
    announce(c.entry ? `${c.shown} = ${formatNumber(c.entry.v)}` : c.error);
  };
  const onLearned = () => {
    const l = model.get('learned') || {};
    if (l.lr === state.asked) state.asked = null;
    state.noKernel = false;
    draw();
  };
  model.on('change:answer', onAnswer);
  model.on('change:learned', onLearned);
  return { ask, askLr, off: () => { model.off('change:answer', onAnswer); model.off('change:learned', onLearned); } };
}

// ▷ play: step from the loss to the input. With prefers-reduced-motion, no animation: jump to the last step.
function createPlayer(model, pick, draw) {
  let timer = null;
  const reduced = () => typeof window !== 'undefined' && window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const player = {
    playing: () => timer !== null,
    stop: () => { if (timer !== null) { clearInterval(timer); timer = null; draw(); } },
    toggle: () => {
      if (timer !== null) return player.stop();
      const last = model.get('data').steps.length - 1;
      if (reduced()) return pick(model.get('selected') >= last ? 0 : last);
      if (model.get('selected') >= last) pick(0);
      timer = setInterval(() => {
        const k = model.get('selected');
        if (k >= last) player.stop(); else pick(k + 1);
      }, 900);
      draw();
    },
  };
  return player;
}

// The keyboard. On the widget: ← → step, Enter plays. On a picture: arrows move its cursor, Enter or Space explains
// the square. On a button: Enter and Space press it. In the rate box: Enter submits. Listening on window in the
// capture phase sees the key before a notebook's own shortcuts (Enter: edit the cell) do; only these keys stop there.
function bindKeys(root, model, act) {
  const arrows = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
  const onKey = (e) => {
    const t = e.composedPath()[0];                  // the real target, also inside a shadow root (marimo)
    if (!(t instanceof Node) || !root.contains(t) || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = model.get('selected');
    if (t.tagName === 'INPUT') { if (e.key !== 'Enter') return; t.l08xSubmit(); }
    else if (t.tagName === 'CANVAS' && !e.shiftKey) {
      if (arrows[e.key]) act.cursor(act.panelOf(t), ...arrows[e.key]);
      else if (e.key === 'Enter' || e.key === ' ') act.explainCursor(act.panelOf(t));
      else return;
    } else if (t.tagName === 'BUTTON' && (e.key === 'Enter' || e.key === ' ')) { e.stopPropagation(); return; }   // the button's own click
    else if (e.shiftKey) return;
    else if (e.key === 'ArrowLeft') act.pick(k - 1, true);
    else if (e.key === 'ArrowRight') act.pick(k + 1, true);
    else if (e.key === 'Enter' && t.tagName !== 'PRE') act.toggle();
    else return;
    e.preventDefault(); e.stopPropagation();
  };
  window.addEventListener('keydown', onKey, true);
  return () => window.removeEventListener('keydown', onKey, true);
}

let explorers = 0;                                  // each explorer on a page gets its own name (axe: landmark-unique)

function render({ model, el }) {
  const root = h('div', 'l08x', null, { tabindex: '0', role: 'region', 'aria-label': `chain-rule explorer ${++explorers}: ← and → step, Enter plays` });
  el.appendChild(root);
  const state = createState(model.get('data'));
  const announce = (text) => setText(slots.status, text || '');      // the status region, made once, says it
  const data = () => model.get('data');
  const pick = (i) => { model.set('selected', Math.max(0, Math.min(data().steps.length - 1, i))); model.save_changes(); };
  let drawing = false, again = false;
  const draw = () => {                              // a redraw asked for during a redraw (a blur) runs right after it
    if (drawing) { again = true; return; }
    drawing = true;
    try { do { again = false; drawAll(slots, model, state, act); } while (again); } finally { drawing = false; }
  };
  const player = createPlayer(model, pick, () => draw());
  const kernel = connectKernel(model, state, () => draw(), announce);
  const act = actions(model, state, player, kernel, draw, announce);
  const slots = buildSkeleton(root, act);
  const unbind = bindKeys(root, model, act);
  const onSelected = () => draw();
  const onData = () => { Object.assign(state, createState(data()), { nonce: state.nonce }); draw(); };
  model.on('change:selected', onSelected);
  model.on('change:data', onData);
  draw();
  return () => { player.stop(); unbind(); kernel.off(); model.off('change:selected', onSelected); model.off('change:data', onData); };
}

// What the controls do: pick a step, play, pick a learning rate, explain a square, move a picture's cursor.
function actions(model, state, player, kernel, draw, announce) {
  const data = () => model.get('data');
  const pick = (i) => { model.set('selected', Math.max(0, Math.min(data().steps.length - 1, i))); model.save_changes(); };
  const chosenAt = (p) => (state.chosen && state.chosen.grad === p.grad ? p.idx.findIndex((ix) => ix.join(',') === state.chosen.index.join(',')) : -1);
  const act = {
    pick: (i, stop) => { if (stop) player.stop(); pick(i); },
    toggle: () => player.toggle(),
    playing: () => player.playing(),
    rate: (lr) => { state.lr = lr; draw(); },
    askLr: (lr) => kernel.askLr(lr),
    panelOf: (canvas) => data().steps[model.get('selected')].panels.find((p) => p.grad === canvas.dataset.grad),
    choose: (p, c) => { state.cursor[p.grad] = c; choose(data(), state, p, c, kernel); draw(); },
    cursor: (p, dr, dc) => {                        // move (or show) the keyboard cursor of picture p, and say where it is
      if (!p) return;
      const c = state.cursor[p.grad] ?? Math.max(0, chosenAt(p));
      state.cursor[p.grad] = moveCursor(p, c, dr, dc); state.cursorOn = p.grad;
      draw();
      announce(squareText(p, state.cursor[p.grad]));
    },
    cursorOff: (p) => { if (state.cursorOn === p.grad) { state.cursorOn = null; draw(); } },
    explainCursor: (p) => { if (p) act.choose(p, state.cursor[p.grad] ?? 0); },
  };
  return act;
}

// A click on square `c` of picture `p`: its precomputed explanation, or the nearest one while the kernel is asked.
function choose(d, state, p, c, kernel) {
  const ix = p.idx[c], key = keyOf(p.grad, ix);
  const known = d.explained[key] || state.answered[key] || null;     // precomputed, or answered by the kernel before
  state.chosen = { grad: p.grad, index: ix, key, shown: key, entry: known, note: null, error: null, pending: null };
  if (state.chosen.entry) return;
  const best = nearestEntry(p, c, d.explained);
  Object.assign(state.chosen, { shown: best, entry: best ? d.explained[best] : null, pending: key,
    note: `${key} was not precomputed: asking the kernel` + (best ? '; meanwhile, the nearest precomputed entry' : '') });
  kernel.ask(state.chosen);
}

// Every part, from the model and the front end's state; parts that show the same thing stay as they are.
function drawAll(slots, model, state, act) {
  const d = model.get('data'), k = model.get('selected'), s = d && d.steps && d.steps[k];
  if (!s) { slots.formula.replaceChildren('no data'); slots.formula.l08xSig = null; return; }
  if (state.lr === null) state.lr = (d.learn[2] || d.learn[0])[0];
  if (state.chosen && !s.panels.some((p) => p.grad === state.chosen.grad)) state.chosen = null;
  if (state.cursorOn && !s.panels.some((p) => p.grad === state.cursorOn)) state.cursorOn = null;
  swap(slots.formula, drawFormula(d, k, act));
  swap(slots.nav, drawControls(d, k, act, act.playing()));
  swap(slots.code, drawCode(d, k));
  swap(slots.diagram, drawDiagram(d, k, act));
  swap(slots.panels, drawPanels(s, act));
  markPanels(slots.panels, s, state);
  swap(slots.explain, drawExplanation(state.chosen));
  swap(slots.rates, drawRates(d, state, act));
  setText(slots.result, learningText(d, state, model.get('learned')));
}

export default { render };

// Unit tests of the explorer's pure helpers (lesson08/explorer.js), with no DOM: `node --test tests/js/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import explorer, {
  formatNumber, describeChange, lossChangeText, keyOf, colour, nearestEntry, moveCursor, squareText, termParts, termText, totalText, NO_ANSWER,
} from '../../lesson08/explorer.js';

test('the module imports without a DOM and keeps its anywidget default export', () => {
  assert.equal(typeof explorer.render, 'function');
});

const shown = (pairs) => () => { for (const [v, text] of pairs) assert.equal(formatNumber(v), text, `formatNumber(${v})`); };

test('whole numbers keep their zeros', shown([[1000, '1000'], [1260, '1260'], [1500, '1500'], [9990, '9990'], [10, '10'], [100, '100'], [-2000, '-2000']]));

test('fractions drop trailing zeros only after the point', shown([
  [0.5, '0.5'], [30.1, '30.1'], [17.39, '17.39'], [0.2180, '0.218'], [1.5, '1.5'], [0.001, '0.001'], [0.5083, '0.5083'],
  [-0.004049, '-0.004049'],
  [2.00049, '2'],              // 4 significant digits: 2.000
  [9.99951, '10'],             // rounds up to 10.00, shown as 10
]));

test('zero and negative zero show 0', () => {
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatNumber(-0.00001, 1), '-1e-5');
  assert.equal(formatNumber(-0.0001), '-1e-4');
});

test('small and large numbers use exponents that keep their significant digits', () => {
  assert.equal(formatNumber(3.766e-5), '3.766e-5');
  assert.equal(formatNumber(-7.129e-6), '-7.129e-6');
  assert.equal(formatNumber(1e-7), '1e-7');
  assert.equal(formatNumber(1.2e-4), '1.2e-4');
  assert.equal(formatNumber(1.0e20), '1e+20');
  assert.equal(formatNumber(3.465e18), '3.465e+18');
  assert.equal(formatNumber(1.26e6), '1.26e+6');
  assert.equal(formatNumber(12345), '12345');          // below 1e5 a whole number is written out
  assert.equal(formatNumber(99999.7), '1e+5');
  for (const v of [1.234e-9, 5.678e12, 1.001e7, 9.999e-4, 123.4, 1260, 30.1]) assert.equal(Number(formatNumber(v)), v, String(v));
});

test('significant digits can be asked for', () => {
  assert.equal(formatNumber(41.86, 2), '42');
  assert.equal(formatNumber(1.16e18, 2), '1.2e+18');
  assert.equal(formatNumber(Math.PI, 6), '3.14159');
});

test('NaN, infinities and null (an overflow in JSON) show words, never throw', () => {
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(Infinity), '∞');
  assert.equal(formatNumber(-Infinity), '-∞');
  assert.equal(formatNumber(null), 'overflow');
  assert.equal(formatNumber(undefined), 'overflow');
  assert.equal(formatNumber('inf'), 'NaN');
  assert.equal(formatNumber('1260'), '1260');
});

test('a change in loss reads sensibly at every scale', () => {
  assert.equal(describeChange(30.1, 1260), '×42');
  assert.equal(describeChange(30.1, 3.5e19), '×1.2e+18');
  assert.equal(describeChange(30.1, 60.2), '×2');
  assert.equal(describeChange(30.1, 45.15), '+50.0%');
  assert.equal(describeChange(30.1, 17.39), '-42.2%');
  assert.equal(describeChange(30.1, 30.1), 'unchanged');
  assert.equal(describeChange(30.1, 30.0999), '-3.3e-4%');
  assert.equal(describeChange(30.1, Infinity), 'overflow');
  assert.equal(describeChange(30.1, NaN), 'overflow');
  for (const [a, b] of [[30.1, 30.1], [30.1, 30.10000001], [1, 1 - 1e-12], [30.1, 29.99]]) {
    const t = describeChange(a, b);
    assert.ok(!/^-0\.0%|^\+?0\.0%/.test(t), t);
  }
  for (let p = 0; p < 300; p += 7) assert.ok(describeChange(1, 10 ** p).length <= 10, describeChange(1, 10 ** p));
});

test('the learning result: percent, factor, unchanged, overflow', () => {
  assert.equal(lossChangeText(0.01, 30.1, 17.39), 'lr 0.01: loss 30.1 → 17.39 (-42.2%)');
  assert.equal(lossChangeText(0.3, 30.1, 1260), 'lr 0.3: loss 30.1 → 1260 (×42): the step overshoots, and the loss goes up');
  assert.equal(lossChangeText(0, 30.1, 30.1), 'lr 0: loss 30.1 → 30.1 (unchanged)');
  assert.match(lossChangeText(10, 30.1, null), /^lr 10: loss 30\.1 → overflow/);
  assert.match(lossChangeText(10, 30.1, 'inf'), /overflow/);
  assert.doesNotMatch(lossChangeText(3, 30.1, 1.04e20), /%/);
});

test('keys are spelt as explorer_data spells them', () => {
  assert.equal(keyOf('w1.g', [3, 7]), 'w1.g[3,7]');
  assert.equal(keyOf('b1.g', [12]), 'b1.g[12]');
});

test('colours: white at 0, red above, blue below, clipped at vmax', () => {
  assert.equal(colour(0, 1), 'rgb(255,255,255)');
  assert.equal(colour(1, 1), 'rgb(202,0,32)');
  assert.equal(colour(-2, 1), 'rgb(5,113,176)');
  assert.equal(colour(0.5, 0), 'rgb(255,255,255)');
  assert.equal(colour(NaN, 1), 'rgb(255,255,255)');
  assert.equal(colour(0.5, 1), 'rgb(229,128,144)');
});

const picture = { grad: 'w1.g', w: 4, h: 3, idx: [...Array(12).keys()].map((c) => [c, 7]), values: [...Array(12).keys()].map((c) => c / 10 - 0.5) };

test('the nearest precomputed entry', () => {
  const explained = { 'w1.g[0,7]': {}, 'w1.g[10,7]': {} };
  assert.equal(nearestEntry(picture, 0, explained), 'w1.g[0,7]');
  assert.equal(nearestEntry(picture, 11, explained), 'w1.g[10,7]');
  assert.equal(nearestEntry(picture, 5, {}), null);
});

test('the picture cursor moves inside the picture', () => {
  assert.equal(moveCursor(picture, 0, 0, 1), 1);
  assert.equal(moveCursor(picture, 0, 1, 0), 4);
  assert.equal(moveCursor(picture, 0, -1, -1), 0);
  assert.equal(moveCursor(picture, 3, 0, 1), 3);           // no wrapping onto the next row
  assert.equal(moveCursor(picture, 11, 1, 0), 11);
  assert.equal(squareText(picture, 5), 'w1.g[5,7] = 0, row 2 of 3, column 2 of 4');
  assert.equal(squareText(picture, 11), 'w1.g[11,7] = 0.6, row 3 of 3, column 4 of 4');
});

test('a term shows each factor with its value, then the product after "="', () => {
  const t = [['v[3244, 15]', 0.5083], ['u.g[3244, 0]', -0.004049], -0.002058];
  assert.equal(termText(t), 'v[3244, 15] (0.5083) × u.g[3244, 0] (-0.004049) = -0.002058');
  assert.deepEqual(termParts(t), { factors: [{ name: 'v[3244, 15]', value: '0.5083' }, { name: 'u.g[3244, 0]', value: '-0.004049' }], product: '-0.002058' });
});

test('rounded numbers are never joined by "="', () => {
  const differ = totalText(3.7654e-5, 3.766e-5);
  assert.match(differ, /^sum of the terms 3\.765e-5 ≈ the gradient's value 3\.766e-5 \(they differ by 6e-9/);
  assert.doesNotMatch(differ, / = /);
  assert.equal(totalText(0.25, 0.25), "sum of the terms 0.25 ≈ the gradient's value 0.25");
  assert.equal(totalText(1000.01, 1000), "sum of the terms 1000 ≈ the gradient's value 1000");
});

test('the no-answer message says what to do', () => {
  assert.match(NO_ANSWER, /run the notebook cell again to reconnect/);
});

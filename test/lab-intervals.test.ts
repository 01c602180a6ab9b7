// The lab's 95 % intervals (src/lab/intervals.ts) against values computed here another way and
// against published tables: Wilson's interval as the roots of its quadratic, checked on the table's
// cases 0/10, 5/10 and 40/40; the order-statistic ranks for a median against the classic table
// (n = 10: x(2)..x(9); n = 100: x(40)..x(61)), and their coverage summed from the binomial pmf.
import assert from 'node:assert/strict';
import { Z95, binomialCdf, insideOrOutside, percentileInterval, percentileRanks, wilson } from '../src/lab/intervals.js';

/** Wilson's bounds as the roots of (n + z²)p² − (2x + z²)p + x²/n = 0 (the quadratic |p̂ − p| = z·√(p(1−p)/n) squares to). */
function wilsonByQuadratic(x: number, n: number, z = Z95): [number, number] {
  const a = n + z * z;
  const b = -(2 * x + z * z);
  const c = (x * x) / n;
  const disc = Math.sqrt(b * b - 4 * a * c);
  return [(-b - disc) / (2 * a), (-b + disc) / (2 * a)];
}

/** P(B = k) for B ~ Bin(n, p) from the binomial coefficient, by products. */
function pmf(k: number, n: number, p: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c * p ** k * (1 - p) ** (n - k);
}

describe('lab: 95 % intervals', () => {
  it("Wilson's interval: 0/10, 5/10, 40/40 as tabulated, and equal to the quadratic's roots", () => {
    const four = (i: { lo: number; hi: number }) => [i.lo.toFixed(4), i.hi.toFixed(4)];
    // Textbook values (z = 1.96): 0/10 → [0, 0.2775]; 5/10 → [0.2366, 0.7634]; 40/40 → [0.9124, 1].
    assert.deepEqual(four(wilson(0, 10)), ['0.0000', '0.2775']);
    assert.deepEqual(four(wilson(5, 10)), ['0.2366', '0.7634']);
    assert.deepEqual(four(wilson(40, 40)), ['0.9124', '1.0000']);
    for (const [x, n] of [
      [0, 10],
      [5, 10],
      [40, 40],
      [14, 23],
      [1, 3],
      [213, 500],
    ] as const) {
      const [lo, hi] = wilsonByQuadratic(x, n);
      const w = wilson(x, n);
      assert.ok(Math.abs(w.lo - lo) < 1e-12 && Math.abs(w.hi - hi) < 1e-12, `${x}/${n}: ${JSON.stringify(w)} vs ${lo}, ${hi}`);
    }
    assert.deepEqual(wilson(0, 0), { lo: 0, hi: 1 });
    assert.equal(insideOrOutside(0.5, wilson(5, 10)), 'inside');
    assert.equal(insideOrOutside(0.2, wilson(5, 10)), 'outside');
  });

  it('the binomial CDF equals the pmf summed directly', () => {
    for (const [n, p] of [
      [10, 0.5],
      [100, 0.5],
      [37, 0.9],
    ] as const) {
      let s = 0;
      for (let k = 0; k <= n; k++) {
        s += pmf(k, n, p);
        assert.ok(Math.abs(binomialCdf(k, n, p) - s) < 1e-9, `n ${n} p ${p} k ${k}`);
      }
    }
  });

  it('order-statistic interval of a median: n = 10 → x(2)..x(9), n = 100 → x(40)..x(61), covering ≥ 95 %', () => {
    assert.deepEqual(percentileRanks(10, 0.5), { j: 2, k: 9 });
    assert.deepEqual(percentileRanks(100, 0.5), { j: 40, k: 61 });
    for (const [n, p] of [
      [10, 0.5],
      [100, 0.5],
      [200, 0.9],
      [1000, 0.99],
    ] as const) {
      const { j, k } = percentileRanks(n, p);
      // Coverage P(j ≤ B ≤ k − 1) summed from the pmf, at least 95 %; one rank narrower on either side would not be.
      let cover = 0;
      for (let b = j; b <= k - 1; b++) cover += pmf(b, n, p);
      assert.ok(cover >= 0.95, `n ${n} p ${p}: coverage ${cover}`);
      let below = 0;
      for (let b = 0; b <= j; b++) below += pmf(b, n, p);
      assert.ok(below > 0.025, `n ${n} p ${p}: rank j + 1 would also do`);
    }
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1, unsorted on purpose
    assert.deepEqual(percentileInterval(xs, 0.5), { value: 50, lo: 40, hi: 61 });
    // Five samples cannot bound a 90th percentile from above.
    assert.equal(percentileInterval([1, 2, 3, 4, 5], 0.9).hi, null);
  });
});

// The lab's charts (src/lab/charts.ts) as a projector needs them, checked on the SVG text of every
// chart kind: tick labels are round 1-2-5 steps from 0, a rate's axis ends at 100 %, both axes are
// labelled with a unit, and the legend's box overlaps no data mark.
import assert from 'node:assert/strict';
import { CHART, doubleSpendChart, niceTicks, selfishChart, staleChart } from '../src/lab/charts.js';
import { NAKAMOTO_TABLE, nakamotoCatchUp } from '../src/lab/models.js';

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const attr = (tag: string, name: string) => Number(new RegExp(`\\s${name}="([-0-9.]+)"`).exec(tag)?.[1] ?? NaN);

/** Bounding boxes of every element of class "mark" (circles, lines, polylines, polygons). */
function markBoxes(svg: string): Box[] {
  const out: Box[] = [];
  for (const tag of svg.match(/<(circle|line|polyline|polygon) class="mark"[^>]*>/g) ?? []) {
    if (tag.startsWith('<circle')) {
      const [cx, cy, r] = [attr(tag, 'cx'), attr(tag, 'cy'), attr(tag, 'r')];
      out.push({ x0: cx - r, y0: cy - r, x1: cx + r, y1: cy + r });
    } else if (tag.startsWith('<line')) {
      const [a, b, c, d] = [attr(tag, 'x1'), attr(tag, 'y1'), attr(tag, 'x2'), attr(tag, 'y2')];
      out.push({ x0: Math.min(a, c), y0: Math.min(b, d), x1: Math.max(a, c), y1: Math.max(b, d) });
    } else {
      for (const pair of /points="([^"]+)"/.exec(tag)![1]!.trim().split(/\s+/)) {
        const [x, y] = pair.split(',').map(Number) as [number, number];
        out.push({ x0: x, y0: y, x1: x, y1: y });
      }
    }
  }
  return out;
}

function legendBox(svg: string): Box {
  const tag = /<rect class="legend"[^>]*>/.exec(svg)![0];
  const [x, y, w, h] = [attr(tag, 'x'), attr(tag, 'y'), attr(tag, 'width'), attr(tag, 'height')];
  return { x0: x, y0: y, x1: x + w, y1: y + h };
}

const overlaps = (a: Box, b: Box) => a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;

/** A step of 1, 2 or 5 × 10^k. */
function isRoundStep(step: number): boolean {
  const power = 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5, 10].some((m) => Math.abs(step / power - m) < 1e-9);
}

function checkChart(name: string, svg: string, rateAxis: 'y' | 'both') {
  for (const axis of ['x', 'y'] as const) {
    const ticks = [...svg.matchAll(new RegExp(`class="tick ${axis}" data-value="([^"]+)"[^>]*>([^<]+)<`, 'g'))];
    const values = ticks.map((m) => Number(m[1]));
    assert.ok(values.length >= 3, `${name}: ${axis} has ${values.length} ticks`);
    assert.equal(values[0], 0, `${name}: ${axis} starts at 0`);
    const step = values[1]! - values[0]!;
    assert.ok(isRoundStep(step), `${name}: ${axis} step ${step} is not 1, 2 or 5 × 10^k`);
    values.forEach((v, i) => assert.ok(Math.abs(v - i * step) < 1e-9, `${name}: ${axis} tick ${v}`));
    for (const [, , text] of ticks) assert.match(text!, /^\d+(\.\d+)?( %)?$/, `${name}: tick label "${text}"`);
    const isRate = axis === 'y' || rateAxis === 'both';
    if (isRate && axis === 'y') {
      assert.equal(values.at(-1), 1, `${name}: a rate axis ends at 100 %`);
      assert.equal(ticks.at(-1)![2], '100 %');
    }
    const label = new RegExp(`class="axis-label ${axis}"[^>]*>([^<]+)<`).exec(svg)?.[1] ?? '';
    assert.match(label, /\(.+\)$/, `${name}: the ${axis} axis label "${label}" names its unit`);
  }
  const legend = legendBox(svg);
  assert.ok(legend.x0 > CHART.right, `${name}: the legend is outside the plot`);
  const marks = markBoxes(svg);
  assert.ok(marks.length > 0, `${name}: no data marks`);
  for (const m of marks) assert.ok(!overlaps(m, legend), `${name}: a mark at ${JSON.stringify(m)} is under the legend`);
}

describe('lab: charts for a projector', () => {
  it('round ticks: 1-2-5 steps from 0, the last at or above the maximum', () => {
    assert.deepEqual(niceTicks(1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.62), [0, 0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(niceTicks(6.16), [0, 2, 4, 6, 8]);
    assert.deepEqual(niceTicks(1971), [0, 500, 1000, 1500, 2000]);
  });

  it('every chart: round ticks, a rate axis to 100 %, axis labels with units, the legend clear of the data', () => {
    const stale = staleChart('stale-rate-sweep: stale rate against d/T', [
      { dOverT: 2.23, rate: 0.6244, lo: 0.557, hi: 0.687 },
      { dOverT: 0.98, rate: 0.5702, lo: 0.478, hi: 0.657 },
      { dOverT: 0.57, rate: 0.4038, lo: 0.28, hi: 0.54 },
      { dOverT: 0.49, rate: 0.3143, lo: 0.186, hi: 0.478 },
      { dOverT: 0.31, rate: 0.25, lo: 0.102, hi: 0.495 },
    ]);
    checkChart('stale', stale, 'y');
    assert.match(stale, /Bitcoin 2013/, 'Decker & Wattenhofer 2013 is marked');
    const groups = [0.1, 0.2, 0.3, 0.4].map((q) => ({
      q,
      rows: [0, 1, 2, 4, 6].map((z) => ({
        z,
        rate: nakamotoCatchUp(q, z) / 2,
        lo: 0,
        hi: Math.min(1, nakamotoCatchUp(q, z)),
        model: 0.4,
        nakamoto: nakamotoCatchUp(q, z),
      })),
    }));
    checkChart('double spend', doubleSpendChart('confirmations: double spends against z', groups), 'y');
    checkChart('selfish', selfishChart('selfish-mining, α = 0.45', 0.45, 0.415, 0.29, 0.55), 'both');
    assert.equal(NAKAMOTO_TABLE.q01.length, 6);
  });
});

// The lab's charts, drawn by hand as SVG (lines, dots, error bars and text need no library) and
// meant for a projector: round 1-2-5 ticks, axes that end on a round value (a rate ends at 100 %),
// axis labels with their units, and the legend in its own column right of the plot, so it covers
// no data. One chart per experiment kind: stale rate against d/T (with Bitcoin 2013 marked),
// double-spend success against confirmations, selfish revenue against the pool's share.
import { DECKER_WATTENHOFER_2013, eyalSirerRevenue, nakamotoCatchUp, staleModel } from './models.js';

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  /** An error bar from lo to hi (a 95 % interval), if any. */
  readonly lo?: number;
  readonly hi?: number;
}

export interface ChartSeries {
  readonly label: string;
  readonly colour: string;
  /** line: a polyline; dashed: a dashed polyline; dots: circles (with error bars where given); diamond: one marked point. */
  readonly kind: 'line' | 'dashed' | 'dots' | 'diamond';
  readonly points: readonly ChartPoint[];
}

export interface ChartAxis {
  /** The label, with its unit in parentheses: "confirmations z (blocks)". */
  readonly label: string;
  /** Tick labels as percentages of 1 (the values are fractions). */
  readonly percent?: boolean;
  /** The axis ends at least here (a rate's axis at 1). */
  readonly max?: number;
  /** The axis ends exactly at the round tick at or above this, whatever the points (they sit within `pad` of it). */
  readonly end?: number;
  /** Room beyond the first and last tick, in axis units (for marks drawn a little apart). */
  readonly pad?: number;
}

export interface ChartSpec {
  readonly title: string;
  readonly x: ChartAxis;
  readonly y: ChartAxis;
  readonly series: readonly ChartSeries[];
}

/** Round ticks from 0: a step of 1, 2 or 5 × 10^k giving at most `most` steps, the last tick ≥ max. */
export function niceTicks(max: number, most = 6): number[] {
  const top = max > 0 ? max : 1;
  const raw = top / most;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => top / s <= most + 1e-9)!;
  const n = Math.ceil(top / step - 1e-9);
  // Multiply, never add, so 0.1 · 3 prints as 0.3, not 0.30000000000000004.
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** A tick's label: as few decimals as the step needs ("0.05", "20 %", "1000"). */
export function tickLabel(v: number, step: number, percent: boolean): string {
  const value = percent ? v * 100 : v;
  const s = percent ? step * 100 : step;
  const decimals = Math.max(0, -Math.floor(Math.log10(s) + 1e-9));
  return `${value.toFixed(decimals)}${percent ? ' %' : ''}`;
}

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** Canvas and plot area (px). The legend column starts at PLOT_RIGHT + 24. */
export const CHART = { width: 900, height: 500, left: 90, right: 620, top: 56, bottom: 420 } as const;

function axisTicks(axis: ChartAxis, values: number[]): number[] {
  return niceTicks(axis.end ?? Math.max(axis.max ?? 0, ...values, 1e-9));
}

/** Axes, round ticks, grid lines and the two labels. */
function drawAxes(spec: ChartSpec, xt: number[], yt: number[], X: (x: number) => number, Y: (y: number) => number): string[] {
  const { left, right, top, bottom } = CHART;
  const out = [
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="black" stroke-width="1.5"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="black" stroke-width="1.5"/>`,
  ];
  const xs = xt[1]! - xt[0]!;
  const ys = yt[1]! - yt[0]!;
  for (const v of xt)
    out.push(
      `<line x1="${X(v)}" y1="${bottom}" x2="${X(v)}" y2="${bottom + 6}" stroke="black"/>`,
      `<text class="tick x" data-value="${v}" x="${X(v)}" y="${bottom + 24}" text-anchor="middle">${tickLabel(v, xs, spec.x.percent ?? false)}</text>`,
    );
  for (const v of yt)
    out.push(
      `<line x1="${left}" y1="${Y(v)}" x2="${right}" y2="${Y(v)}" stroke="#ddd"/>`,
      `<text class="tick y" data-value="${v}" x="${left - 10}" y="${Y(v) + 5}" text-anchor="end">${tickLabel(v, ys, spec.y.percent ?? false)}</text>`,
    );
  const midY = (top + bottom) / 2;
  out.push(
    `<text class="axis-label x" x="${(left + right) / 2}" y="${bottom + 56}" text-anchor="middle" font-size="17">${esc(spec.x.label)}</text>`,
    `<text class="axis-label y" x="24" y="${midY}" text-anchor="middle" font-size="17" transform="rotate(-90 24 ${midY})">${esc(spec.y.label)}</text>`,
  );
  return out;
}

/** One series' marks (class "mark"): polylines, dots with error bars, or a diamond. */
function drawSeries(s: ChartSeries, X: (x: number) => number, Y: (y: number) => number): string[] {
  const f = (v: number) => v.toFixed(1);
  if ((s.kind === 'line' || s.kind === 'dashed') && s.points.length > 1) {
    const dash = s.kind === 'dashed' ? ' stroke-dasharray="8 5"' : '';
    return [
      `<polyline class="mark" fill="none" stroke="${s.colour}" stroke-width="2.5"${dash} points="${s.points.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(' ')}"/>`,
    ];
  }
  const out: string[] = [];
  for (const p of s.points) {
    if (p.lo !== undefined && p.hi !== undefined)
      out.push(
        `<line class="mark" x1="${f(X(p.x))}" y1="${f(Y(p.lo))}" x2="${f(X(p.x))}" y2="${f(Y(p.hi))}" stroke="${s.colour}" stroke-width="2"/>`,
        `<line class="mark" x1="${f(X(p.x) - 5)}" y1="${f(Y(p.lo))}" x2="${f(X(p.x) + 5)}" y2="${f(Y(p.lo))}" stroke="${s.colour}" stroke-width="2"/>`,
        `<line class="mark" x1="${f(X(p.x) - 5)}" y1="${f(Y(p.hi))}" x2="${f(X(p.x) + 5)}" y2="${f(Y(p.hi))}" stroke="${s.colour}" stroke-width="2"/>`,
      );
    if (s.kind === 'diamond') {
      const [cx, cy] = [X(p.x), Y(p.y)];
      out.push(
        `<polygon class="mark" points="${f(cx)},${f(cy - 8)} ${f(cx + 8)},${f(cy)} ${f(cx)},${f(cy + 8)} ${f(cx - 8)},${f(cy)}" fill="${s.colour}" stroke="black"/>`,
      );
    } else out.push(`<circle class="mark" cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="5" fill="${s.colour}"/>`);
  }
  return out;
}

/** The legend in its own column right of the plot: a sample of each series' mark and its label. */
function drawLegend(series: readonly ChartSeries[]): string[] {
  const x0 = CHART.right + 24;
  const rowH = 22;
  const h = series.length * rowH + 12;
  const out = [
    `<rect class="legend" x="${x0}" y="${CHART.top}" width="${CHART.width - x0 - 8}" height="${h}" fill="white" stroke="#999"/>`,
  ];
  series.forEach((s, i) => {
    const y = CHART.top + 18 + i * rowH;
    if (s.kind === 'line' || s.kind === 'dashed')
      out.push(
        `<line x1="${x0 + 8}" y1="${y - 4}" x2="${x0 + 34}" y2="${y - 4}" stroke="${s.colour}" stroke-width="2.5"${s.kind === 'dashed' ? ' stroke-dasharray="8 5"' : ''}/>`,
      );
    else if (s.kind === 'diamond')
      out.push(
        `<polygon points="${x0 + 21},${y - 12} ${x0 + 29},${y - 4} ${x0 + 21},${y + 4} ${x0 + 13},${y - 4}" fill="${s.colour}" stroke="black"/>`,
      );
    else out.push(`<circle cx="${x0 + 21}" cy="${y - 4}" r="5" fill="${s.colour}"/>`);
    out.push(`<text x="${x0 + 42}" y="${y + 1}" font-size="13">${esc(s.label)}</text>`);
  });
  return out;
}

/** An x/y chart: round ticks from 0, error bars where given, the legend outside the plot. */
export function svgChart(spec: ChartSpec): string {
  const pts = spec.series.flatMap((s) => s.points);
  const xt = axisTicks(
    spec.x,
    pts.map((p) => p.x),
  );
  const yt = axisTicks(
    spec.y,
    pts.flatMap((p) => [p.y, p.hi ?? 0]),
  );
  const { left, right, top, bottom, width, height } = CHART;
  const pad = spec.x.pad ?? 0;
  const X = (x: number) => left + ((x + pad) / (xt[xt.length - 1]! + 2 * pad)) * (right - left);
  const Y = (y: number) => bottom - (y / yt[yt.length - 1]!) * (bottom - top);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="15">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="30" text-anchor="middle" font-size="19">${esc(spec.title)}</text>`,
    ...drawAxes(spec, xt, yt, X, Y),
    ...spec.series.flatMap((s) => drawSeries(s, X, Y)),
    ...drawLegend(spec.series),
    '</svg>',
  ].join('\n');
}

export interface StalePoint {
  readonly dOverT: number;
  readonly rate: number;
  readonly lo: number;
  readonly hi: number;
}

/** Stale rate against d/T: the measured runs with their intervals, the model curve, Bitcoin 2013. */
export function staleChart(title: string, runs: readonly StalePoint[]): string {
  const dw = DECKER_WATTENHOFER_2013;
  const xMax = niceTicks(Math.max(0.1, ...runs.map((r) => r.dOverT))).at(-1)!;
  const curve = Array.from({ length: 61 }, (_, i) => ({ x: (xMax * i) / 60, y: staleModel((xMax * i) / 60, 1) }));
  return svgChart({
    title,
    x: { label: 'd/T: propagation p50 ÷ mean block interval (ratio)' },
    y: { label: 'stale blocks (% of decided blocks)', percent: true, max: 1 },
    series: [
      {
        label: 'measured, 95 % interval',
        colour: '#1f77b4',
        kind: 'dots',
        points: runs.map((r) => ({ x: r.dOverT, y: r.rate, lo: r.lo, hi: r.hi })),
      },
      { label: 'model 1 − e^(−d/T)', colour: '#ff7f0e', kind: 'line', points: curve },
      {
        label: `Bitcoin 2013: d/T ${(dw.medianPropagationSeconds / dw.blockIntervalSeconds).toFixed(3)}, ${(dw.forkRate * 100).toFixed(2)} %`,
        colour: '#2ca02c',
        kind: 'diamond',
        points: [{ x: dw.medianPropagationSeconds / dw.blockIntervalSeconds, y: dw.forkRate }],
      },
    ],
  });
}

export interface DoubleSpendGroup {
  readonly q: number;
  readonly rows: readonly { z: number; rate: number; lo: number; hi: number; model: number }[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'];

/** Nakamoto's P(q, z) at every whole z from 0 to zMax. */
const nakamotoCurve = (q: number, zMax: number) => Array.from({ length: zMax + 1 }, (_, z) => ({ x: z, y: nakamotoCatchUp(q, z) }));

/** Double-spend success against z, per attacker share q: measured (error bars), the give-up model, Nakamoto's P. */
export function doubleSpendChart(title: string, groups: readonly DoubleSpendGroup[]): string {
  const series: ChartSeries[] = [];
  groups.forEach((g, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    // Each q's bars a little apart so that they do not hide one another.
    const dx = (i - (groups.length - 1) / 2) * 0.08;
    series.push(
      {
        label: `q = ${g.q}: measured, 95 % interval`,
        colour,
        kind: 'dots',
        points: g.rows.map((r) => ({ x: r.z + dx, y: r.rate, lo: r.lo, hi: r.hi })),
      },
      { label: `q = ${g.q}: model, this give-up rule`, colour, kind: 'dashed', points: g.rows.map((r) => ({ x: r.z, y: r.model })) },
      { label: `q = ${g.q}: Nakamoto P(q, z)`, colour, kind: 'line', points: nakamotoCurve(g.q, Math.max(...g.rows.map((r) => r.z))) },
    );
  });
  return svgChart({
    title,
    x: {
      label: 'confirmations the merchant waits for, z (blocks)',
      end: Math.max(1, ...groups.flatMap((g) => g.rows.map((r) => r.z))),
      pad: 0.3,
    },
    y: { label: 'double spends that succeeded (% of trials)', percent: true, max: 1 },
    series,
  });
}

/** The selfish pool's share of the best chain against its hash power, with Eyal & Sirer's curves. */
export function selfishChart(title: string, alpha: number, share: number, lo: number, hi: number): string {
  const curve = (gamma: number) => Array.from({ length: 50 }, (_, i) => ({ x: i / 100, y: Math.max(0, eyalSirerRevenue(i / 100, gamma)) }));
  return svgChart({
    title,
    x: { label: "selfish pool's hash power α (% of the total)", percent: true, max: 0.5 },
    y: { label: 'its share of the best chain (% of blocks)', percent: true, max: 1 },
    series: [
      {
        label: 'honest mining: share = α',
        colour: '#7f7f7f',
        kind: 'line',
        points: [
          { x: 0, y: 0 },
          { x: 0.5, y: 0.5 },
        ],
      },
      { label: 'Eyal & Sirer eq. 8, γ = 0', colour: '#ff7f0e', kind: 'line', points: curve(0) },
      { label: 'Eyal & Sirer eq. 8, γ = 0.5', colour: '#ff7f0e', kind: 'dashed', points: curve(0.5) },
      { label: 'measured, 95 % interval', colour: '#1f77b4', kind: 'dots', points: [{ x: alpha, y: share, lo, hi }] },
    ],
  });
}

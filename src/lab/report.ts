// What a run reports: the one JSON object of `--json`, a table, and an SVG chart (written by hand:
// a few lines, points and labels need no library).
import Table from 'cli-table3';
import type { RunResult } from './run.js';
import { percentiles } from './analyse.js';
import { DECKER_WATTENHOFER_2013, staleModel } from './models.js';

/** The machine-readable summary of one run (`--json` prints this, or a list of them for a sweep). */
export function summary(r: RunResult, name: string) {
  const a = r.analysis;
  const d = a.propagationMs.p50 / 1000;
  const T = a.measuredIntervalSeconds || r.blockIntervalSeconds;
  return {
    experiment: name,
    nodes: r.nodes,
    linkDelayMs: r.linkDelayMs,
    blockIntervalSeconds: r.blockIntervalSeconds,
    measuredIntervalSeconds: a.measuredIntervalSeconds,
    durationSeconds: r.durationSeconds,
    blocks: a.blocks,
    decidedBlocks: a.decided,
    staleBlocks: a.stale,
    staleRate: round(a.staleRate, 4),
    propagationMs: { p50: a.propagationMs.p50, p90: a.propagationMs.p90, p99: a.propagationMs.p99, samples: a.propagationMs.count },
    heardMs: { p50: a.heardMs.p50, p90: a.heardMs.p90, p99: a.heardMs.p99 },
    model: round(staleModel(d, T), 4),
    bestHeight: a.bestHeight,
    reorgDepths: a.reorgDepths,
    chainShares: a.chainShares.map((s) => round(s, 3)),
    payments: r.payments,
    paymentsLost: r.payments.filter((p) => p.txid !== null && p.minedAt.length !== 1).length,
    txPropagationMs: r.txPropagationMs,
    doubleSpend: r.doubleSpend,
    selfish: r.selfish ? { ...r.selfish, chainShare: round(a.chainShares[r.selfish.miner] ?? 0, 3) } : undefined,
    usage: r.usage,
    published: { deckerWattenhofer2013: DECKER_WATTENHOFER_2013 },
  };
}

export type Summary = ReturnType<typeof summary>;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function table(s: Summary, shares: readonly number[]): string {
  const t = new Table({ head: ['measure', 'value'], style: { head: [], border: [] } });
  t.push(
    ['nodes', String(s.nodes)],
    ['median link delay (one way)', `${s.linkDelayMs} ms`],
    ['block interval: target / measured', `${s.blockIntervalSeconds} s / ${s.measuredIntervalSeconds} s`],
    ['blocks mined (decided)', `${s.blocks} (${s.decidedBlocks})`],
    ['stale blocks', `${s.staleBlocks} = ${pct(s.staleRate)}`],
    ['model 1 − e^(−d/T), d = p50', pct(s.model)],
    [
      'propagation to connected p50 / p90 / p99',
      `${s.propagationMs.p50} / ${s.propagationMs.p90} / ${s.propagationMs.p99} ms (${s.propagationMs.samples} samples)`,
    ],
    ['status heard p50 / p90 / p99', `${s.heardMs.p50} / ${s.heardMs.p90} / ${s.heardMs.p99} ms`],
    [
      'reorganisations by depth',
      Object.entries(s.reorgDepths)
        .map(([d, n]) => `${d}: ${n}`)
        .join(', ') || 'none',
    ],
    ['share of best chain vs hash power (%)', shareCell(s.chainShares, shares)],
    ['Bitcoin 2013 (Decker & Wattenhofer)', `propagation p50 6.5 s, T 600 s, fork rate 1.69 % (model ${pct(staleModel(6.5, 600))})`],
    ['processes, CPU, memory', `${s.usage.processes}, ${s.usage.cpuSeconds.toFixed(1)} CPU s, ${s.usage.rssMB} MB`],
  );
  if (s.payments.length) {
    t.push([
      'payments sent / mined once / lost',
      `${s.payments.filter((p) => p.txid).length} / ${s.payments.filter((p) => p.minedAt.length === 1).length} / ${s.paymentsLost}`,
    ]);
    const tp = percentiles(s.txPropagationMs);
    if (tp.count) t.push(['payment propagation (send -> a mempool) p50 / p90', `${tp.p50} / ${tp.p90} ms (${tp.count} samples)`]);
    const back = s.payments.filter((p) => p.returnedByReorg);
    t.push([
      'returned to a mempool by a reorganisation',
      `${back.length}: ${back.map((p) => `${p.from}->${p.to} mined again at ${p.minedAt.join(', ') || 'nowhere'}`).join('; ') || 'none'}`,
    ]);
  }
  if (s.doubleSpend) {
    for (const r of s.doubleSpend.rows)
      t.push([
        `double spend, q = ${s.doubleSpend.attackerShare}, z = ${r.confirmations}`,
        `${r.successes}/${r.trials} succeeded; Nakamoto P = ${r.nakamoto}`,
      ]);
  }
  if (s.selfish)
    t.push([
      `selfish miner, α = ${s.selfish.alpha}`,
      `share of best chain ${(s.selfish.chainShare * 100).toFixed(1)} %; Eyal & Sirer R(α, γ=0) = ${(s.selfish.eyalSirerGamma0 * 100).toFixed(1)} %, γ=0.5: ${(s.selfish.eyalSirerGamma05 * 100).toFixed(1)} %; ${s.selfish.publications} publications`,
    ]);
  return t.toString();
}

/** "h1 40/45 h2 ..." (best chain % / hash power %); past 10 hosts only those with blocks in the best chain. */
function shareCell(chain: readonly number[], power: readonly number[]): string {
  const cells = chain.map((c, i) => ({ i, c, text: `h${i + 1} ${(c * 100).toFixed(0)}/${(power[i]! * 100).toFixed(0)}` }));
  if (cells.length <= 10) return cells.map((x) => x.text).join(' ');
  const some = cells.filter((x) => x.c > 0);
  return `${some.map((x) => x.text).join(' ')} (the other ${cells.length - some.length}: none)`;
}

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly [number, number][];
  readonly line: boolean;
}

/** A small x/y chart: axes with ticks, one polyline or set of dots per series, a legend. */
export function svgChart(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const W = 640;
  const H = 400;
  const L = 70;
  const R = 20;
  const T = 40;
  const B = 60;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]));
  const yMax = Math.max(1e-9, ...all.map((p) => p[1])) * 1.1;
  const X = (x: number) => L + (x / xMax) * (W - L - R);
  const Y = (y: number) => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  out.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  );
  for (let k = 0; k <= 5; k++) {
    const xv = (xMax * k) / 5;
    const yv = (yMax * k) / 5;
    out.push(
      `<text x="${X(xv)}" y="${H - B + 18}" text-anchor="middle">${fmt(xv)}</text>`,
      `<text x="${L - 8}" y="${Y(yv) + 4}" text-anchor="end">${fmt(yv)}</text>`,
    );
    out.push(`<line x1="${L}" y1="${Y(yv)}" x2="${W - R}" y2="${Y(yv)}" stroke="#ddd"/>`);
  }
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="18" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(T + H - B) / 2})">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    if (s.line && s.points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${s.points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    else for (const p of s.points) out.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="4" fill="${s.colour}"/>`);
    out.push(
      `<rect x="${L + 12}" y="${T + 8 + i * 18}" width="12" height="12" fill="${s.colour}"/>`,
      `<text x="${L + 30}" y="${T + 18 + i * 18}">${esc(s.label)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(1);
  return v.toFixed(3);
}

/** One run: the CDF of propagation delays (block mined -> connected at each other node). */
export function runChart(r: RunResult, name: string): string {
  const xs = r.analysis.propagationSamples;
  const pts = xs.map((x, i): [number, number] => [x, (i + 1) / xs.length]);
  return svgChart(
    `${name}: block propagation, ${r.nodes} nodes, ${r.linkDelayMs} ms links`,
    'ms from mined to connected at another node',
    'fraction of (block, node) pairs',
    [
      { label: 'measured CDF', colour: '#1f77b4', points: pts, line: true },
      {
        label: `configured one-way link delay ${r.linkDelayMs} ms`,
        colour: '#d62728',
        points: [
          [r.linkDelayMs, 0],
          [r.linkDelayMs, 1],
        ],
        line: true,
      },
    ],
  );
}

/** A sweep: stale rate against the swept value, measured and the model for each run's d and T. */
export function sweepChart(rows: readonly Summary[], key: string, name: string): string {
  const xOf = (s: Summary) => (key === 'linkDelayMs' ? s.linkDelayMs : s.blockIntervalSeconds);
  return svgChart(`${name}: stale rate`, key === 'linkDelayMs' ? 'link delay (ms)' : 'target block interval T (s)', 'stale rate', [
    { label: 'measured stale rate', colour: '#1f77b4', points: rows.map((s) => [xOf(s), s.staleRate]), line: false },
    { label: 'model 1 − e^(−d/T) (measured d, T)', colour: '#ff7f0e', points: rows.map((s) => [xOf(s), s.model]), line: true },
  ]);
}

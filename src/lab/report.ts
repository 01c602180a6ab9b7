// What a run reports: the one JSON object of `--json`, a table, and an SVG chart (charts.ts). Every
// rate carries its 95 % Wilson interval and every percentile its order-statistic interval
// (intervals.ts); a model is printed only where it applies, with whether it is inside the interval.
import Table from 'cli-table3';
import type { RunResult } from './run.js';
import { percentiles } from './analyse.js';
import { type DoubleSpendGroup, type StalePoint, doubleSpendChart, selfishChart, staleChart } from './charts.js';
import { DECKER_WATTENHOFER_2013, staleModel } from './models.js';
import { formatRateInterval, insideOrOutside, percentileInterval, wilson } from './intervals.js';

/** The machine-readable summary of one run (`--json` prints this, or a list of them for a sweep). */
export function summary(r: RunResult, name: string) {
  const a = r.analysis;
  const d = a.propagationMs.p50 / 1000;
  const T = a.measuredIntervalSeconds || r.blockIntervalSeconds;
  const staleInterval = wilson(a.stale, a.decided);
  // The stale-rate model describes honest miners only: an attack run has no model row.
  const attack = r.doubleSpend !== undefined || r.selfish !== undefined;
  const model = attack ? undefined : round(staleModel(d, T), 4);
  const p = (x: number) => {
    const i = percentileInterval(a.propagationSamples, x);
    return { lo: i.lo, hi: i.hi };
  };
  return {
    experiment: name,
    nodes: r.nodes,
    linkDelayMs: r.linkDelayMs,
    meanHops: r.meanHops,
    blockIntervalSeconds: r.blockIntervalSeconds,
    measuredIntervalSeconds: a.measuredIntervalSeconds,
    durationSeconds: r.durationSeconds,
    blocks: a.blocks,
    decidedBlocks: a.decided,
    staleBlocks: a.stale,
    staleRate: round(a.staleRate, 4),
    staleRateInterval: { lo: round(staleInterval.lo, 4), hi: round(staleInterval.hi, 4) },
    dOverT: T > 0 ? round(d / T, 4) : 0,
    propagationMs: {
      p50: a.propagationMs.p50,
      p90: a.propagationMs.p90,
      p99: a.propagationMs.p99,
      samples: a.propagationMs.count,
      /** The percentiles as multiples of the configured median one-way link delay (null without delay). */
      inLinkDelays:
        r.linkDelayMs > 0
          ? {
              p50: round(a.propagationMs.p50 / r.linkDelayMs, 2),
              p90: round(a.propagationMs.p90 / r.linkDelayMs, 2),
              p99: round(a.propagationMs.p99 / r.linkDelayMs, 2),
            }
          : null,
      /** ... and of link delay × mean hops: the time a block takes over the graph's paths at one link delay per hop. */
      inPathDelays:
        r.linkDelayMs > 0 && r.meanHops > 0
          ? {
              p50: round(a.propagationMs.p50 / (r.linkDelayMs * r.meanHops), 2),
              p90: round(a.propagationMs.p90 / (r.linkDelayMs * r.meanHops), 2),
              p99: round(a.propagationMs.p99 / (r.linkDelayMs * r.meanHops), 2),
            }
          : null,
      p50Interval: p(0.5),
      p90Interval: p(0.9),
      p99Interval: p(0.99),
    },
    heardMs: { p50: a.heardMs.p50, p90: a.heardMs.p90, p99: a.heardMs.p99 },
    model,
    modelInsideInterval: model === undefined ? undefined : insideOrOutside(model, staleInterval) === 'inside',
    bestHeight: a.bestHeight,
    reorgDepths: a.reorgDepths,
    chainShares: a.chainShares.map((s) => round(s, 3)),
    payments: r.payments,
    paymentsLost: r.payments.filter((p) => p.txid !== null && p.minedAt.length !== 1).length,
    txPropagationMs: r.txPropagationMs,
    doubleSpend: r.doubleSpend,
    selfish: r.selfish ? selfishSummary(r) : undefined,
    usage: r.usage,
    published: { deckerWattenhofer2013: DECKER_WATTENHOFER_2013 },
  };
}

/** The selfish pool's blocks in the decided best chain, with the 95 % interval of its share. */
function selfishSummary(r: RunResult) {
  const a = r.analysis;
  const s = r.selfish!;
  const best = a.decided - a.stale;
  const own = Math.round((a.chainShares[s.miner] ?? 0) * best);
  const i = wilson(own, best);
  return {
    ...s,
    chainShare: round(best ? own / best : 0, 3),
    chainBlocks: own,
    bestBlocks: best,
    chainShareInterval: { lo: round(i.lo, 4), hi: round(i.hi, 4) },
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
    [
      'stale blocks (95 % interval)',
      `${s.staleBlocks}/${s.decidedBlocks} = ${pct(s.staleRate)} (${formatRateInterval(s.staleRateInterval)})`,
    ],
  );
  if (s.model !== undefined)
    t.push([
      `model 1 − e^(−d/T), d = p50, d/T = ${s.dOverT}`,
      `${pct(s.model)}: ${s.modelInsideInterval ? 'inside' : 'outside'} the interval`,
    ]);
  t.push(
    ['propagation to connected p50 / p90 / p99', `${propagationCell(s)} ms (${s.propagationMs.samples} samples; 95 % intervals)`],
    ...(s.linkDelayMs > 0 ? [['propagation in link delays p50 / p90 / p99', inLinkDelays(s)]] : []),
    ...(s.propagationMs.inPathDelays && s.meanHops > 1
      ? [
          [
            'propagation in path delays p50 / p90 / p99',
            `${s.propagationMs.inPathDelays.p50}× / ${s.propagationMs.inPathDelays.p90}× / ${s.propagationMs.inPathDelays.p99}× (link delay × ${s.meanHops} mean hops)`,
          ],
        ]
      : []),
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
        `${r.successes}/${r.trials} = ${pct(r.successRate)} (${formatRateInterval(r.interval)}); model (${s.doubleSpend.giveUp}) ${pct(r.model)}, ${insideOrOutside(r.model, r.interval)}; Nakamoto P = ${r.nakamoto}`,
      ]);
  }
  if (s.selfish) {
    const e = s.selfish;
    const i = e.chainShareInterval;
    t.push([
      `selfish miner, α = ${e.alpha}`,
      `share of best chain ${e.chainBlocks}/${e.bestBlocks} = ${pct(e.chainShare)} (${formatRateInterval(i)}); Eyal & Sirer R(α, γ=0) = ${pct(e.eyalSirerGamma0)} (${insideOrOutside(e.eyalSirerGamma0, i)}), γ=0.5: ${pct(e.eyalSirerGamma05)} (${insideOrOutside(e.eyalSirerGamma05, i)}); honest share α ${insideOrOutside(e.alpha, i)}; ${e.publications} publications`,
    ]);
  }
  return t.toString();
}

/** "1971 (1500–2500) / ..." : each percentile with its order-statistic interval ("…" where too few samples bound it). */
function propagationCell(s: Summary): string {
  const m = s.propagationMs;
  const one = (v: number, i: { lo: number | null; hi: number | null }) => `${v} (${i.lo ?? '…'}–${i.hi ?? '…'})`;
  return `${one(m.p50, m.p50Interval)} / ${one(m.p90, m.p90Interval)} / ${one(m.p99, m.p99Interval)}`;
}

/** "h1 40/45 h2 ..." (best chain % / hash power %); past 10 hosts only those with blocks in the best chain. */
function shareCell(chain: readonly number[], power: readonly number[]): string {
  const cells = chain.map((c, i) => ({ i, c, text: `h${i + 1} ${(c * 100).toFixed(0)}/${(power[i]! * 100).toFixed(0)}` }));
  if (cells.length <= 10) return cells.map((x) => x.text).join(' ');
  const some = cells.filter((x) => x.c > 0);
  return `${some.map((x) => x.text).join(' ')} (the other ${cells.length - some.length}: none)`;
}

/** The run's chart: its experiment's own result (double-spend success, selfish share, or stale rate against d/T). */
export function runChart(r: RunResult, name: string): string {
  const s = summary(r, name);
  if (s.doubleSpend) return doubleSpendChart(`${name}: double spends against confirmations`, [doubleSpendGroup(s)]);
  if (s.selfish) {
    const e = s.selfish;
    return selfishChart(`${name}: selfish mining, α = ${e.alpha}`, e.alpha, e.chainShare, e.chainShareInterval.lo, e.chainShareInterval.hi);
  }
  return staleChart(`${name}: stale rate, ${r.nodes} nodes, ${r.linkDelayMs} ms links`, [stalePoint(s)]);
}

const stalePoint = (s: Summary): StalePoint => ({
  dOverT: s.dOverT,
  rate: s.staleRate,
  lo: s.staleRateInterval.lo,
  hi: s.staleRateInterval.hi,
});

function doubleSpendGroup(s: Summary): DoubleSpendGroup {
  const d = s.doubleSpend!;
  return {
    q: d.attackerShare,
    rows: d.rows.map((r) => ({ z: r.confirmations, rate: r.successRate, lo: r.interval.lo, hi: r.interval.hi, model: r.model })),
  };
}

/** One group per attacker share: the rows of every run with that share (runs split by confirmation count, jobs.ts), by z. */
function groupsByShare(rows: readonly Summary[]): DoubleSpendGroup[] {
  const byShare = new Map<number, DoubleSpendGroup['rows'][number][]>();
  for (const g of rows.filter((s) => s.doubleSpend).map(doubleSpendGroup)) byShare.set(g.q, [...(byShare.get(g.q) ?? []), ...g.rows]);
  return [...byShare].map(([q, rs]) => ({ q, rows: [...rs].sort((a, b) => a.z - b.z) }));
}

/** The propagation percentiles as multiples of the configured one-way link delay ("2.1× / 3.4× / 9.0× 200 ms"). */
function inLinkDelays(s: Summary): string {
  const m = (ms: number) => `${(ms / s.linkDelayMs).toFixed(1)}×`;
  return `${m(s.propagationMs.p50)} / ${m(s.propagationMs.p90)} / ${m(s.propagationMs.p99)} the ${s.linkDelayMs} ms link delay`;
}

/** A sweep's chart: stale rate against d/T for every run, or double-spend success against z for every attacker share. */
export function sweepChart(rows: readonly Summary[], key: string, name: string): string {
  if (key === 'attackerShare') return doubleSpendChart(`${name}: double spends against confirmations`, groupsByShare(rows));
  return staleChart(`${name}: stale rate against d/T (one dot per run)`, rows.map(stalePoint));
}

/** The sweep's table: one line per run (stale rate sweeps) or per (q, z) (attacker-share sweeps). */
export function sweepTable(rows: readonly Summary[], sweep: { key: string }): string[] {
  if (sweep.key === 'attackerShare') return confirmationsTable(rows);
  const out = [`${sweep.key.padEnd(22)} stale rate (95 % interval)     model            propagation p50  in link delays  measured T`];
  for (const s of rows) {
    const v = sweep.key === 'linkDelayMs' ? s.linkDelayMs : s.blockIntervalSeconds;
    const verdict = s.modelInsideInterval ? 'inside ' : 'outside';
    out.push(
      `${String(v).padEnd(22)} ${pct(s.staleRate).padStart(8)} (${formatRateInterval(s.staleRateInterval).padStart(13)})  ${pct(s.model ?? 0).padStart(8)} ${verdict}  ${String(s.propagationMs.p50).padStart(9)} ms  ${(s.linkDelayMs > 0 ? `${(s.propagationMs.p50 / s.linkDelayMs).toFixed(1)}×` : '-').padStart(14)}  ${s.measuredIntervalSeconds} s`,
    );
  }
  return out;
}

/** q, z, successes/trials, the rate with its 95 % interval, the model for the give-up rule, Nakamoto's P. */
export function confirmationsTable(rows: readonly Summary[]): string[] {
  const t = new Table({
    head: [
      'q',
      'z',
      'released',
      'succeeded',
      'rate (95 % interval)',
      'model, this give-up rule',
      'model inside?',
      'lag (blocks)',
      'no lag',
      'Nakamoto P(q, z)',
      's per trial',
    ],
    style: { head: [], border: [] },
  });
  for (const s of rows) {
    const d = s.doubleSpend;
    if (!d) continue;
    for (const r of d.rows) {
      const ts = d.trials.filter((x) => x.confirmations === r.confirmations);
      const secs = ts.length ? ts.reduce((a, x) => a + x.seconds, 0) / ts.length : 0;
      t.push([
        String(d.attackerShare),
        String(r.confirmations),
        `${r.released}/${r.trials}`,
        `${r.successes}/${r.trials}`,
        `${pct(r.successRate)} (${formatRateInterval(r.interval)})`,
        pct(r.model),
        insideOrOutside(r.model, r.interval),
        r.meanLag.toFixed(2),
        pct(r.modelNoLag),
        `${r.nakamoto.toFixed(4)} ${insideOrOutside(r.nakamoto, r.interval)}`,
        secs.toFixed(1),
      ]);
    }
  }
  const rule = rows.find((s) => s.doubleSpend)?.doubleSpend?.giveUp ?? '';
  return [
    t.toString(),
    `the attacker ${rule}; it wins when its branch is longer than the merchant's chain. Lag: honest blocks mined after the fork before the payment's block (z = 0: before the merchant accepted it), counted by the model; "no lag" is the model without them.`,
  ];
}

// `mvb bench mempool`: a full pool of one-input transactions (the shape a flood of cheap payments
// has). Admission while there is room and once full (the eviction queue), a template, and the
// pool's update after a block: one that extends the tip (Core's removeForBlock, the common case)
// against a one-block reorganisation (every entry checked again, as after any reorganisation).
import { Chain, MemoryChainStore, type Tx, ValidationError } from '../../../shared/core/index.js';
import { Mempool } from '../../../shared/node/mempool/pool.js';
import { SignatureCache } from '../../../shared/node/verify/sigcache.js';
import { numberOption } from '../../../shared/node/cli/command.js';
import { type BenchReport, benchCommand, figure, ratio, runsOption } from './report.js';
import { BENCH_NOW, fanOutWorkload, respend, spendBlock } from './workload.js';

export interface MempoolBenchOptions {
  readonly txs: number;
  readonly runs: number;
}

/** Bytes of one of the workload's one-input, one-output payments. */
const PAYMENT_BYTES = 192;
/** Transactions admitted once the pool is full, each paying enough to evict one (at most the pool's size). */
const WHEN_FULL = 200;
/** Pool transactions the extending block mines. */
const MINED = 1000;
/** Bytes of a block template. */
const TEMPLATE_BYTES = 1_000_000 - 2000;

interface Run {
  /** Accepted transactions per second (refusals of a full pool not counted). */
  admitPerSecond: number;
  accepted: number;
  fullMsPerTx: number;
  /** Richer newcomers admitted into the full pool. */
  richer: number;
  /** Entries the richer newcomers evicted. */
  evicted: number;
  selectMs: number;
  extendMs: number;
  reorgMs: number;
  entries: number;
}

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

/**
 * Offers each transaction to the pool; returns how many it accepted. A full pool's refusal
 * ("mempool full") is expected only where `fullRefusals` says so; any other error is the bench
 * failing, thrown with the transaction's position and the pool's reason.
 */
export function admitAll(pool: Mempool, list: readonly Tx[], fullRefusals: boolean): number {
  let accepted = 0;
  list.forEach((tx, i) => {
    try {
      if (pool.accept(tx).status === 'accepted') accepted++;
    } catch (e) {
      if (fullRefusals && e instanceof ValidationError && e.code === 'mempool full') return;
      const why = e instanceof ValidationError ? `${e.code} ${e.detail}`.trim() : e instanceof Error ? e.message : String(e);
      throw new Error(`transaction ${i + 1} of ${list.length} was refused: ${why}`);
    }
  });
  return accepted;
}

function oneRun(txs: number): Run {
  const w = fanOutWorkload(txs + WHEN_FULL);
  const cache = new SignatureCache();
  const chain = new Chain(w.params, new MemoryChainStore(), { verifier: cache.verifier });
  for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
  // Room for all but a tenth: the last admissions already evict (or are refused at the same fee rate).
  const pool = new Mempool(chain, { minRelayFeeRate: 1, maxBytes: Math.floor(txs * PAYMENT_BYTES * 0.9), verifier: cache.verifier });
  const admit = timed(() => admitAll(pool, w.spends.slice(0, txs), true));
  // Newcomers paying three times the others' fee rate: each evicts one of the lowest descendant
  // score, so no more of them than the pool holds of the others.
  const richer = Array.from({ length: Math.min(WHEN_FULL, pool.size) }, (_, k) => respend(w, txs + k, 970_000n));
  const evictedBefore = pool.stats.evicted;
  const full = timed(() => admitAll(pool, richer, false));
  // Every one was accepted (admitAll refuses none silently); the first may fit in what room the
  // first phase left, so evictions are reported, not required one for one.
  const evicted = pool.stats.evicted - evictedBefore;
  const select = timed(() => pool.select(TEMPLATE_BYTES));
  const entries = pool.size;
  // A block extending the tip with MINED of the pool's payments, then a heavier rival branch
  // replacing it (they come back, and every entry is checked again).
  const b2 = w.blocks[1]!;
  const extendBlock = spendBlock(b2, 3, w.spends.slice(0, Math.min(MINED, txs >> 1)));
  const extend = chain.processBlock(extendBlock, BENCH_NOW);
  const extendMs = timed(() => extend.status === 'accepted' && pool.update(extend)).ms;
  const rival3 = spendBlock(b2, 3, []);
  chain.processBlock(rival3, BENCH_NOW);
  const reorg = chain.processBlock(spendBlock(rival3, 4, []), BENCH_NOW);
  if (reorg.status !== 'accepted' || !reorg.disconnected.length) throw new Error('the rival branch did not replace the tip');
  const reorgMs = timed(() => pool.update(reorg)).ms;
  return {
    admitPerSecond: admit.value / (admit.ms / 1000),
    accepted: admit.value,
    fullMsPerTx: full.ms / full.value,
    richer: full.value,
    evicted,
    selectMs: select.ms,
    extendMs,
    reorgMs,
    entries,
  };
}

export async function benchMempool(o: MempoolBenchOptions): Promise<BenchReport> {
  const runs: Run[] = [];
  for (let r = 0; r < o.runs; r++) {
    runs.push(oneRun(o.txs));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const col = (k: keyof Run): number[] => runs.map((r) => r[k]);
  return {
    bench: 'mempool',
    figures: [
      figure(`admit one-input payments, ${o.txs} offered (accepted only, signatures on this thread)`, 'tx/s', col('admitPerSecond')),
      figure(
        `admit ${runs[0]?.richer ?? 0} paying 3x the fee rate into the full pool (evicting ${runs[0]?.evicted ?? 0})`,
        'ms/tx',
        col('fullMsPerTx'),
      ),
      figure(`select a ${TEMPLATE_BYTES}-byte template from the full pool`, 'ms', col('selectMs')),
      figure(`update after a block that extends the tip, mining ${Math.min(MINED, o.txs >> 1)} of its transactions`, 'ms', col('extendMs')),
      figure('update after a one-block reorganisation (every entry checked again)', 'ms', col('reorgMs')),
    ],
    ratios: [ratio('update: reorganisation / extending block', col('reorgMs'), col('extendMs'))],
    notes: [
      `${runs[0]?.accepted ?? 0} of ${o.txs} accepted (the rest refused by the full pool); ${runs[0]?.entries ?? 0} entries in the full pool; ${o.runs} run(s)`,
    ],
  };
}

export const benchMempoolCommand = benchCommand(
  {
    name: 'mempool',
    describe: 'a full pool: admission with room and when full, a template, the update after a block vs after a reorganisation',
    options: {
      txs: numberOption(
        '--txs <n>',
        'payments offered to the pool (the workload makes at most 4500, 200 of them for the newcomers)',
        100,
        4300,
        4000,
      ),
      runs: runsOption(),
    },
    quick: { txs: 500, runs: 1 },
  },
  (opts) => ({ txs: opts.txs, runs: opts.runs }),
  benchMempool,
);

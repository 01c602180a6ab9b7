// `mvb bench mempool`: a full pool of one-input transactions (the shape a flood of cheap payments
// has). Admission while there is room and once full (the eviction queue), a template, and the
// pool's update after a block: one that extends the tip (Core's removeForBlock, the common case)
// against a one-block reorganisation (every entry checked again, as after any reorganisation).
import { Chain, MemoryChainStore, type Tx } from '../../../shared/core/index.js';
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
/** Transactions admitted once the pool is full, each paying enough to evict one. */
const WHEN_FULL = 200;
/** Pool transactions the extending block mines. */
const MINED = 1000;
/** Bytes of a block template. */
const TEMPLATE_BYTES = 1_000_000 - 2000;

interface Run {
  admitPerSecond: number;
  fullMsPerTx: number;
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

function oneRun(txs: number): Run {
  const w = fanOutWorkload(txs + WHEN_FULL);
  const cache = new SignatureCache();
  const chain = new Chain(w.params, new MemoryChainStore(), { verifier: cache.verifier });
  for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
  // Room for all but a tenth: the last admissions already evict.
  const pool = new Mempool(chain, { minRelayFeeRate: 1, maxBytes: Math.floor(txs * PAYMENT_BYTES * 0.9), verifier: cache.verifier });
  const admitAll = (list: readonly Tx[]): void => {
    for (const tx of list) {
      try {
        pool.accept(tx);
      } catch {
        // 'mempool full': refused, as it should be once the pool holds better
      }
    }
  };
  const admit = timed(() => admitAll(w.spends.slice(0, txs)));
  // Newcomers paying three times the others' fee rate: each evicts the lowest descendant score.
  const richer = Array.from({ length: WHEN_FULL }, (_, k) => respend(w, txs + k, 970_000n));
  const full = timed(() => admitAll(richer));
  if (pool.stats.evicted < WHEN_FULL) throw new Error(`only ${pool.stats.evicted} evicted: the richer newcomers were refused`);
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
  return { admitPerSecond: txs / (admit.ms / 1000), fullMsPerTx: full.ms / WHEN_FULL, selectMs: select.ms, extendMs, reorgMs, entries };
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
      figure(`admit ${o.txs} one-input payments (signatures on this thread)`, 'tx/s', col('admitPerSecond')),
      figure(`admit ${WHEN_FULL} paying 3x the fee rate into the full pool (each evicts one)`, 'ms/tx', col('fullMsPerTx')),
      figure(`select a ${TEMPLATE_BYTES}-byte template from the full pool`, 'ms', col('selectMs')),
      figure(`update after a block that extends the tip, mining ${Math.min(MINED, o.txs >> 1)} of its transactions`, 'ms', col('extendMs')),
      figure('update after a one-block reorganisation (every entry checked again)', 'ms', col('reorgMs')),
    ],
    ratios: [ratio('update: reorganisation / extending block', col('reorgMs'), col('extendMs'))],
    notes: [`${runs[0]?.entries ?? 0} entries in the full pool; ${o.runs} run(s)`],
  };
}

export const benchMempoolCommand = benchCommand(
  {
    name: 'mempool',
    describe: 'a full pool: admission with room and when full, a template, the update after a block vs after a reorganisation',
    options: {
      txs: numberOption('--txs <n>', 'payments offered to the pool (the workload makes at most 4500)', 100, 4500, 4000),
      runs: runsOption(),
    },
  },
  (opts) => ({ txs: opts.txs, runs: opts.runs }),
  benchMempool,
);

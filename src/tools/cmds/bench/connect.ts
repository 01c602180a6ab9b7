// `mvb bench connect`: connecting N blocks that carry signed transactions to an LMDB chain store,
// one commit per block (the old path) against catch-up batches (one commit per batch, signatures
// verified ahead in worker threads), with the per-block cost of the first and last 1 000 blocks
// of each (flat in N means last / first near 1). In memory, one block at a time, for reference.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Block, Chain, type ChainStore, MemoryChainStore } from '../../../shared/core/index.js';
import { BlockSignatureVerifier } from '../../../shared/node/verify/block-verifier.js';
import { LmdbChainStore } from '../../../shared/node/store/lmdb-store.js';
import { opensslVerifier } from '../../../shared/node/verify/verifier.js';
import { numberOption } from '../../../shared/node/cli/command.js';
import { type BenchReport, atLeast, atMost, benchCommand, figure, ratio, runsOption } from './report.js';
import { BENCH_NOW, type Workload, chainWorkload } from './workload.js';

export interface ConnectOptions {
  readonly blocks: number;
  readonly inputs: number;
  readonly batch: number;
  readonly threads: number;
  readonly runs: number;
}

/** Milliseconds since start after each block (index i: blocks 0..i connected). */
export type Timeline = number[];

/** Per-block milliseconds over the first and the last `window` blocks of a timeline. */
export function firstLast(t: Timeline, window: number): { first: number; last: number; total: number } {
  const n = t.length;
  const w = Math.min(window, Math.floor(n / 2));
  return { first: t[w - 1]! / w, last: (t[n - 1]! - t[n - 1 - w]!) / w, total: t[n - 1]! };
}

/** Fills a timeline for a batch that ends at block `end` (exclusive), started at `from`. */
function mark(t: Timeline, from: number, end: number, ms: number): void {
  const start = from > 0 ? t[from - 1]! : 0;
  for (let i = from; i < end; i++) t[i] = start + ((ms - start) * (i - from + 1)) / (end - from);
}

export function withTempStore<T>(f: (store: LmdbChainStore) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mvb-bench-'));
  const store = new LmdbChainStore(dir, 'mvb bench');
  return f(store).finally(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

function perBlock(w: Workload, chain: Chain): Timeline {
  const t: Timeline = [];
  const t0 = performance.now();
  w.blocks.forEach((b, i) => {
    chain.processBlock(b, BENCH_NOW);
    t[i] = performance.now() - t0;
  });
  if (chain.height !== w.blocks.length) throw new Error(`connected ${chain.height} of ${w.blocks.length} blocks`);
  return t;
}

/** The workload connected in batches of o.batch (one store commit each), signatures checked ahead in o.threads threads. */
export async function batched(w: Workload, o: Pick<ConnectOptions, 'batch' | 'threads'>, store: ChainStore): Promise<Timeline> {
  const sigs = BlockSignatureVerifier.create(o.threads);
  try {
    const chain = new Chain(w.params, store, { verifier: sigs.cache.verifier });
    const t: Timeline = [];
    const t0 = performance.now();
    for (let i = 0; i < w.blocks.length; i += o.batch) {
      const part: Block[] = w.blocks.slice(i, i + o.batch);
      await sigs.preverify(part, chain.coins);
      chain.processBlocks(part, BENCH_NOW);
      mark(t, i, i + part.length, performance.now() - t0);
    }
    if (chain.height !== w.blocks.length) throw new Error(`connected ${chain.height} of ${w.blocks.length} blocks`);
    return t;
  } finally {
    await sigs.close();
  }
}

export async function benchConnect(o: ConnectOptions, w = chainWorkload(o.blocks, o.inputs)): Promise<BenchReport> {
  const window = Math.min(1000, Math.floor(o.blocks / 2));
  const m = {
    one: [] as ReturnType<typeof firstLast>[],
    batch: [] as ReturnType<typeof firstLast>[],
    mem: [] as ReturnType<typeof firstLast>[],
  };
  for (let r = 0; r < o.runs; r++) {
    m.mem.push(firstLast(perBlock(w, new Chain(w.params, new MemoryChainStore(), { verifier: opensslVerifier })), window));
    m.one.push(firstLast(await withTempStore(async (s) => perBlock(w, new Chain(w.params, s, { verifier: opensslVerifier }))), window));
    m.batch.push(firstLast(await withTempStore((s) => batched(w, o, s)), window));
  }
  const col = (xs: ReturnType<typeof firstLast>[], k: 'first' | 'last' | 'total') => xs.map((x) => x[k]);
  return {
    bench: 'connect',
    figures: [
      figure(
        'in memory, per block (all blocks)',
        'ms',
        m.mem.map((x) => x.total / o.blocks),
      ),
      figure('LMDB, one commit per block: total', 'ms', col(m.one, 'total')),
      figure(`LMDB, one commit per block: first ${window}, per block`, 'ms', col(m.one, 'first')),
      figure(`LMDB, one commit per block: last ${window}, per block`, 'ms', col(m.one, 'last')),
      figure(`LMDB, batches of ${o.batch} + ${o.threads} threads: total`, 'ms', col(m.batch, 'total')),
      figure(`LMDB, batches: first ${window}, per block`, 'ms', col(m.batch, 'first')),
      figure(`LMDB, batches: last ${window}, per block`, 'ms', col(m.batch, 'last')),
    ],
    ratios: [
      ratio('batches vs one commit per block (speed-up)', col(m.one, 'total'), col(m.batch, 'total'), atLeast(5, 1.5)),
      ratio(`batches: last ${window} / first ${window}`, col(m.batch, 'last'), col(m.batch, 'first'), atMost(1.2, 2)),
      ratio(`one commit per block: last / first`, col(m.one, 'last'), col(m.one, 'first')),
    ],
    notes: [`${o.blocks} blocks, ${o.inputs} signed input(s) each from block 2 on; ${o.runs} run(s)`],
  };
}

export const connectOptions = {
  blocks: numberOption('--blocks <n>', 'blocks in the chain', 100, 200_000, 10_000),
  inputs: numberOption('--inputs <n>', 'signed inputs per block', 1, 100, 1),
  batch: numberOption('--batch <n>', 'blocks per store commit when batched', 1, 10_000, 500),
  threads: numberOption('--threads <n>', 'signature-checking threads', 1, 64, 2),
  runs: runsOption(1),
};

/** --quick: a chain of 300 blocks. */
export const connectQuick = { blocks: 300 };

/** The connect and sync benches' options, as parsed. */
export const connectOptionsOf = (opts: ConnectOptions): ConnectOptions => opts;

export const benchConnectCommand = benchCommand(
  {
    name: 'connect',
    describe: 'connecting N blocks with transactions to LMDB: one commit per block vs catch-up batches',
    options: connectOptions,
    quick: connectQuick,
  },
  connectOptionsOf,
  benchConnect,
);

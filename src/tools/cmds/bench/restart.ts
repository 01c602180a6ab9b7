// `mvb bench restart`: opening a node's chain store holding N blocks (the LMDB store, then the
// Chain over it: the header tree loaded from the stored entries in one pass, nothing replayed).
// The store is built directly from N solved headers marked valid (no block data is needed to
// open), so the figure is the open itself, against the absolute target (under 1 s).
import {
  type EntryRecord,
  Chain,
  assembleBlock,
  blockWork,
  headerHash,
  makeCoinbase,
  p2pkhOutput,
  solveHeader,
} from '../../../shared/core/index.js';
import { spawnSync } from 'node:child_process';
import type { LmdbChainStore } from '../../../shared/node/store/lmdb-store.js';
import { withTempStore } from './connect.js';
import { numberOption } from '../../../shared/node/cli/command.js';
import { type BenchReport, atMost, benchCommand, figure, runsOption } from './report.js';
import { BENCH_GENESIS_TIME, benchParams } from './workload.js';

export interface RestartOptions {
  readonly blocks: number;
  readonly runs: number;
}

/** Writes n valid entries on top of genesis (10 000 per commit) and the tip. */
export function fillStore(store: LmdbChainStore, n: number, params = benchParams()): void {
  new Chain(params, store); // writes genesis
  let prev: EntryRecord = {
    hash: params.genesisHash,
    header: params.genesis.header,
    height: 0,
    chainWork: blockWork(params.genesis.header.bits),
    status: 'valid',
    seq: 0,
  };
  const cb = makeCoinbase(1, [p2pkhOutput(0n, new Uint8Array(20))]);
  for (let done = 0; done < n;) {
    const entries: EntryRecord[] = [];
    for (const end = Math.min(n, done + 10_000); done < end; done++) {
      const b = assembleBlock(prev.hash, [cb], BENCH_GENESIS_TIME + done + 1, params.genesis.header.bits);
      const header = solveHeader(b.header, 1_000_000)!;
      prev = {
        hash: headerHash(header),
        header,
        height: prev.height + 1,
        chainWork: prev.chainWork + blockWork(header.bits),
        status: 'valid',
        seq: done + 1,
      };
      entries.push(prev);
    }
    store.commit({ entries, blocks: [], undo: [], coins: [], tip: prev.hash });
  }
}

/**
 * A restart is a fresh process: one is started per run, opens the store and the Chain over it
 * (timed from before the store opens to the Chain being ready), checks the height, prints seconds.
 */
function openInFreshProcess(dir: string, height: number): number {
  const store = new URL('../../../shared/node/store/lmdb-store.js', import.meta.url).href;
  const chain = new URL('../../../shared/core/chain.js', import.meta.url).href;
  const workload = new URL('./workload.js', import.meta.url).href;
  const code = [
    `const { LmdbChainStore } = await import(${JSON.stringify(store)});`,
    `const { Chain } = await import(${JSON.stringify(chain)});`,
    `const { benchParams } = await import(${JSON.stringify(workload)});`,
    `const params = benchParams();`,
    `const t0 = performance.now();`,
    `const s = new LmdbChainStore(${JSON.stringify(dir)}, 'mvb bench');`,
    `const c = new Chain(params, s);`,
    `const t = (performance.now() - t0) / 1000;`,
    `s.close();`,
    `process.stdout.write(JSON.stringify({ seconds: t, height: c.height }));`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000 });
  const out = JSON.parse(r.stdout || '{}') as { seconds?: number; height?: number };
  if (out.height !== height || typeof out.seconds !== 'number')
    throw new Error(`restart run failed: ${r.stderr.trim().split('\n')[0] ?? r.status}`);
  return out.seconds;
}

export async function benchRestart(o: RestartOptions): Promise<BenchReport> {
  const params = benchParams();
  const seconds: number[] = [];
  await withTempStore(async (store) => {
    fillStore(store, o.blocks, params);
    const dir = store.dir;
    store.close();
    for (let r = 0; r < o.runs; r++) seconds.push(openInFreshProcess(dir, o.blocks));
  });
  return {
    bench: 'restart',
    // No reference to measure in the same run: the 1 s (for 100 000 blocks) is absolute.
    figures: [figure(`open a store of ${o.blocks} blocks (store + header tree)`, 's', seconds, atMost(1, 1))],
    ratios: [],
    notes: [`${o.runs} run(s), each a fresh process; the store is built from solved headers before the runs`],
  };
}

export const benchRestartCommand = benchCommand(
  {
    name: 'restart',
    describe: 'opening a chain store of N blocks (default 100 000)',
    options: { blocks: numberOption('--blocks <n>', 'blocks in the store', 100, 1_000_000, 100_000), runs: runsOption() },
    quick: { blocks: 5000, runs: 1 },
  },
  (opts) => ({ blocks: opts.blocks, runs: opts.runs }),
  benchRestart,
);

// `mvb bench verify`: signature checks on the inputs of one block of N one-input transactions.
// Cold: through the validator's path (the signature cache's verifier, empty: strict-DER and key
// checks, then OpenSSL) against raw node:crypto verify of the same (key, hash, signature).
// Threads: the block's checks in 2 worker threads against 1. Cached: connecting the block after
// a mempool accepted its transactions (every signature in the cache) against connecting it cold.
// Admission: the event loop's busy time and longest delay while the mempool admits one
// 390-input transaction, its curve math on the event loop or in checking threads.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Chain, MemoryChainStore, type SignatureCheck, signatureChecks } from '../../../shared/core/index.js';
import { BlockSignatureVerifier } from '../../../shared/node/verify/block-verifier.js';
import { Mempool } from '../../../shared/node/mempool/pool.js';
import { SignatureCache } from '../../../shared/node/verify/sigcache.js';
import { VerifyPool } from '../../../shared/node/verify/pool.js';
import type { PackedCheck } from '../../../shared/node/verify/protocol.js';
import { numberOption } from '../../../shared/node/cli/command.js';
import { type BenchReport, atLeast, benchCommand, figure, ratio, runsOption } from './report.js';
import { BENCH_NOW, consolidation, fanOutWorkload, spendBlock } from './workload.js';

export interface VerifyOptions {
  readonly inputs: number;
  readonly runs: number;
}

const SPKI_33 = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');

function perSecond(n: number, f: () => void): number {
  const t0 = performance.now();
  f();
  return n / ((performance.now() - t0) / 1000);
}

async function perSecondAsync(n: number, f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return n / ((performance.now() - t0) / 1000);
}

function rawNodeCrypto(checks: readonly PackedCheck[]): void {
  for (const c of checks) {
    const key = createPublicKey({ key: Buffer.concat([SPKI_33, c.pubkey]), format: 'der', type: 'spki' });
    if (!nodeVerify('sha256', c.firstHash, { key, dsaEncoding: 'der' }, c.der)) throw new Error('raw verify failed');
  }
}

function cold(checks: readonly PackedCheck[]): void {
  const cache = new SignatureCache();
  for (const c of checks) if (!cache.verifier(c.der, c.firstHash, c.pubkey)) throw new Error('verify failed');
}

/** Seconds to connect the block on a chain whose cache is warm (mempool accepted its txs) or cold. */
function connectSeconds(w: ReturnType<typeof fanOutWorkload>, block: ReturnType<typeof spendBlock>, warm: boolean): number {
  const cache = new SignatureCache();
  const chain = new Chain(w.params, new MemoryChainStore(), { verifier: cache.verifier });
  for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
  if (warm) {
    const pool = new Mempool(chain, { minRelayFeeRate: 0, maxBytes: 100_000_000, verifier: cache.verifier });
    for (const tx of w.spends) pool.accept(tx);
  }
  const t0 = performance.now();
  chain.processBlock(block, BENCH_NOW);
  return (performance.now() - t0) / 1000;
}

/** Inputs of the transaction whose admission is timed (issue 8's replayed shape). */
const ADMISSION_INPUTS = 390;

/**
 * The event loop while the mempool admits one ADMISSION_INPUTS-input transaction with
 * acceptAsync (empty signature cache): its busy milliseconds and longest delay, with the curve
 * math on the event loop in slices, or (threads given) in those checking threads.
 */
async function admissionLoad(threads: VerifyPool | undefined): Promise<{ busyMs: number; longestDelayMs: number }> {
  const w = fanOutWorkload(ADMISSION_INPUTS);
  const sigs = new BlockSignatureVerifier(new SignatureCache(), threads);
  const chain = new Chain(w.params, new MemoryChainStore(), { verifier: sigs.cache.verifier });
  for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
  const pool = new Mempool(chain, {
    minRelayFeeRate: 0,
    maxBytes: 100_000_000,
    verifier: sigs.cache.verifier,
    preverify: threads && ((c) => sigs.preverifyChecks(c, 1)),
  });
  const tx = consolidation(w.blocks[1]!.txs[1]!);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const before = performance.eventLoopUtilization();
  const r = await pool.acceptAsync(tx);
  const busyMs = performance.eventLoopUtilization(before).active;
  delay.disable();
  if (r.status !== 'accepted') throw new Error('the timed transaction was not accepted');
  return { busyMs, longestDelayMs: delay.max / 1e6 };
}

export async function benchVerify(o: VerifyOptions): Promise<BenchReport> {
  const w = fanOutWorkload(o.inputs);
  const block = spendBlock(w.blocks[1]!, 3, w.spends);
  const view = new Chain(w.params, new MemoryChainStore());
  for (const b of w.blocks) view.processBlock(b, BENCH_NOW);
  const checks = signatureChecks(block.txs, view.coins).map((c: SignatureCheck) => ({
    der: c.der,
    pubkey: c.pubkey,
    firstHash: c.firstHash!,
  }));
  const m = {
    raw: [] as number[],
    cold: [] as number[],
    one: [] as number[],
    two: [] as number[],
    coldConnect: [] as number[],
    warmConnect: [] as number[],
    busyLoop: [] as number[],
    busyThreads: [] as number[],
    delayLoop: [] as number[],
    delayThreads: [] as number[],
  };
  const one = new VerifyPool(1);
  const two = new VerifyPool(2);
  try {
    await one.verify(checks.slice(0, 32));
    await two.verify(checks.slice(0, 32));
    for (let r = 0; r < o.runs; r++) {
      m.raw.push(perSecond(checks.length, () => rawNodeCrypto(checks)));
      m.cold.push(perSecond(checks.length, () => cold(checks)));
      m.one.push(await perSecondAsync(checks.length, () => one.verify(checks)));
      m.two.push(await perSecondAsync(checks.length, () => two.verify(checks)));
      m.coldConnect.push(connectSeconds(w, block, false) * 1000);
      m.warmConnect.push(connectSeconds(w, block, true) * 1000);
      for (const [threads, busy, delay] of [
        [undefined, m.busyLoop, m.delayLoop],
        [two, m.busyThreads, m.delayThreads],
      ] as const) {
        const load = await admissionLoad(threads);
        busy.push(load.busyMs);
        delay.push(load.longestDelayMs);
      }
    }
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
  return {
    bench: 'verify',
    figures: [
      figure('raw node:crypto verify, main thread', 'checks/s', m.raw),
      figure('cold: validator path (cache miss), main thread', 'checks/s', m.cold),
      figure('worker threads: 1', 'checks/s', m.one),
      figure('worker threads: 2', 'checks/s', m.two),
      figure(`connect a block of ${o.inputs} inputs, cold`, 'ms', m.coldConnect),
      figure(`connect it after the mempool accepted its txs`, 'ms', m.warmConnect),
      figure(`mempool admits a ${ADMISSION_INPUTS}-input tx, curve math on the event loop: event loop busy`, 'ms', m.busyLoop),
      figure('... its longest delay', 'ms', m.delayLoop),
      figure(`... curve math in 2 checking threads (as the miner does): event loop busy`, 'ms', m.busyThreads),
      figure('... its longest delay', 'ms', m.delayThreads),
    ],
    ratios: [
      ratio('cold / raw node:crypto', m.cold, m.raw, atLeast(0.9, 0.6)),
      ratio('2 threads / 1 thread', m.two, m.one, atLeast(1.8, 0.8)),
      ratio('connect: cold / cached (speed-up)', m.coldConnect, m.warmConnect, atLeast(10, 3)),
      ratio('admission, event loop busy: threads / on the loop', m.busyThreads, m.busyLoop),
    ],
    notes: [`${checks.length} signature checks (one block of ${o.inputs} one-input transactions); ${o.runs} run(s)`],
  };
}

export const benchVerifyCommand = benchCommand(
  {
    name: 'verify',
    describe:
      'signature checks: validator path vs raw node:crypto, 2 threads vs 1, a cached block vs cold, mempool admission with the curve math in threads vs on the event loop',
    options: { inputs: numberOption('--inputs <n>', 'inputs in the block', 16, 5000, 2000), runs: runsOption() },
    quick: { inputs: 200, runs: 3 },
  },
  (opts) => ({ inputs: opts.inputs, runs: opts.runs }),
  benchVerify,
);

// Fee estimates, a simplified Core estimator (policy/fees.cpp) beside the pool's projection. For
// every transaction this explorer saw enter its pool and then saw mined, it keeps the fee rate
// and how many blocks it waited (mined at height C, first seen at tip H: C - H), over the last
// FEE_HISTORY_BLOCKS blocks. The estimate for a target of t blocks is the lowest fee rate r such
// that, of the transactions paying r or more, at least SUCCESS_RATIO were mined within t blocks;
// then it is raised to what the projected pool blocks need now (the rate to be in projected block
// t, when the blocks before it are full). No sample and an empty pool: no estimate, said so
// (Esplora's /fee-estimates omits the target, as electrs does without Core's estimates).
import { hashToHex } from '../shared/core/bytes.js';
import type { ChainUpdate } from '../shared/core/chain.js';
import { isCoinbase, txid } from '../shared/core/tx.js';

/** What the estimate needs of a projected pool block (projected.ts): its lowest fee rate, and whether more waits behind it. */
export interface ProjectedRoom {
  readonly minFeeRate: number;
  readonly full: boolean;
}

/** Esplora's confirmation targets. */
export const FEE_TARGETS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008];
/** Recent blocks whose mined transactions are remembered. */
export const FEE_HISTORY_BLOCKS = 100;
/** Samples kept per block at most (a block's transactions may be thousands). */
const MAX_SAMPLES_PER_BLOCK = 2000;
/** Core's SUCCESS_PCT for its medium horizon. */
export const SUCCESS_RATIO = 0.85;
/** Projected pool blocks consulted (one beyond the largest short target, so the 25th knows whether more wait). */
export const PROJECTED_FOR_FEES = 26;

interface Sample {
  readonly feeRate: number;
  readonly waited: number;
}

export interface FeeEstimate {
  readonly target: number;
  /** Base units per byte; undefined: no data. */
  readonly feeRate?: number;
  /** From recent blocks (undefined: no sample qualifies). */
  readonly history?: number;
  /** What the projected pool blocks need (undefined: the pool is empty). */
  readonly mempool?: number;
  readonly basis: 'history' | 'mempool' | 'history+mempool' | 'none';
}

export class FeeHistory {
  /** Pool key -> the tip height when the transaction was first seen. */
  private readonly seenAt = new Map<string, number>();
  private readonly blocks: { hash: string; samples: Sample[] }[] = [];
  /** Every sample, highest fee rate first: sorted once per chain update, read by every target. */
  private sorted?: Sample[];
  /** Each target's answer until the next chain update (a flood of requests computes each once per block). */
  private readonly answers = new Map<number, number | undefined>();

  /** A transaction entered the pool while the tip was at `height`. */
  seen(key: string, height: number): void {
    if (!this.seenAt.has(key)) this.seenAt.set(key, height);
  }

  forget(key: string): void {
    this.seenAt.delete(key);
  }

  /** Before the pool takes the update: samples from each connected block's transactions we saw waiting, fee rates from the pool. */
  update(u: ChainUpdate, poolRate: (key: string) => number | undefined): void {
    this.sorted = undefined;
    this.answers.clear();
    for (const d of u.disconnected) {
      const i = this.blocks.findIndex((b) => b.hash === hashToHex(d.entry.hash));
      if (i >= 0) this.blocks.splice(i, 1);
    }
    for (const c of u.connected) {
      const samples: Sample[] = [];
      for (const tx of c.block.txs) {
        if (isCoinbase(tx) || samples.length >= MAX_SAMPLES_PER_BLOCK) continue;
        const key = Buffer.from(txid(tx)).toString('hex');
        const from = this.seenAt.get(key);
        const rate = poolRate(key);
        if (from !== undefined && rate !== undefined && c.entry.height > from)
          samples.push({ feeRate: rate, waited: c.entry.height - from });
      }
      this.blocks.push({ hash: hashToHex(c.entry.hash), samples });
      if (this.blocks.length > FEE_HISTORY_BLOCKS) this.blocks.shift();
    }
  }

  get sampleCount(): number {
    return this.blocks.reduce((a, b) => a + b.samples.length, 0);
  }

  /** The lowest fee rate whose payers (at it or above) were mined within `target` blocks often enough; undefined without data. */
  fromHistory(target: number): number | undefined {
    if (this.answers.has(target)) return this.answers.get(target);
    const r = this.lowestInTime(target);
    if (this.answers.size < 10_000) this.answers.set(target, r);
    return r;
  }

  private lowestInTime(target: number): number | undefined {
    const all = (this.sorted ??= this.blocks.flatMap((b) => b.samples).sort((x, y) => y.feeRate - x.feeRate));
    let count = 0;
    let inTime = 0;
    let lowest: number | undefined;
    for (let i = 0; i < all.length; i++) {
      count++;
      if (all[i]!.waited <= target) inTime++;
      const last = i === all.length - 1 || all[i + 1]!.feeRate !== all[i]!.feeRate;
      if (last && inTime / count >= SUCCESS_RATIO) lowest = all[i]!.feeRate;
    }
    return lowest;
  }
}

/** The fee rate to be in projected block `target` (1-based; past the last projected, the last's): the floor while there is room. */
export function fromProjection(blocks: readonly ProjectedRoom[], target: number, floor: number): number | undefined {
  if (blocks.length === 0) return undefined;
  const b = blocks[Math.min(target, blocks.length) - 1]!;
  return b.full ? Math.max(floor, b.minFeeRate) : floor;
}

/** Each target's estimate (Esplora's targets unless told), ascending, history and projection combined (the higher), never below the floor, never rising with the target. */
export function estimateFees(
  history: FeeHistory,
  blocks: readonly ProjectedRoom[],
  floor: number,
  targets: readonly number[] = FEE_TARGETS,
): FeeEstimate[] {
  let cap = Infinity;
  return [...targets]
    .sort((a, b) => a - b)
    .map((target) => {
      const h = history.fromHistory(target);
      const m = fromProjection(blocks, target, floor);
      const basis =
        h !== undefined && m !== undefined ? 'history+mempool' : h !== undefined ? 'history' : m !== undefined ? 'mempool' : 'none';
      if (basis === 'none') return { target, basis };
      const rate = Math.min(cap, Math.max(floor, h ?? 0, m ?? 0));
      cap = rate;
      return { target, feeRate: rate, history: h, mempool: m, basis };
    });
}

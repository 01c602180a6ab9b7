// The mempool as the next blocks a miner would build (mempool.space's projected blocks), for the
// page's mempool view (/api/mvb/mempool/blocks).
import { hashToHex } from '../shared/core/bytes.js';
import type { MempoolEntry } from '../shared/node/mempool/pool.js';
import type { Explorer } from './explorer.js';

export interface ProjectedBlock {
  readonly txs: { txid: string; fee: number; size: number; feeRate: number }[];
  readonly txCount: number;
  readonly bytes: number;
  readonly fees: number;
  readonly minFeeRate: number;
  readonly maxFeeRate: number;
  /** Fee rates at the 0th, 10th, 25th, 50th, 75th, 90th and 100th percentiles of its transactions (mempool.space's feeRange). */
  readonly feeRange: number[];
  readonly medianFeeRate: number;
  /** More waits behind it: a fee rate below minFeeRate waits for a later block. */
  readonly full: boolean;
}

/** The pool's entries as the next blocks a miner would build: the first by the miner's own selection, later ones by fee rate. */
export function projectedGroups(ex: Explorer): MempoolEntry[][] {
  const cap = ex.settings.params.maxBlockBytes - 2000;
  const first = ex.mempool.select(cap).txs;
  const chosen = new Set(first.map((e) => e.key));
  const rest = ex.mempool
    .all()
    .filter((e) => !chosen.has(e.key))
    .sort((a, b) => b.feeRate - a.feeRate || a.seq - b.seq);
  const groups = [first];
  let cur: typeof first = [];
  let bytes = 0;
  for (const e of rest) {
    if (bytes + e.size > cap && cur.length) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += e.size;
  }
  if (cur.length) groups.push(cur);
  return groups.filter((g) => g.length);
}

/** The pool as the next blocks a miner would build (projectedGroups), summarised. */
export function projectedBlocks(ex: Explorer, max: number): ProjectedBlock[] {
  const groups = projectedGroups(ex);
  return groups.slice(0, max).map((g, i, all) => {
    const rates = g.map((e) => e.feeRate);
    const sorted = rates.slice().sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return {
      txs: g.slice(0, 200).map((e) => ({ txid: hashToHex(e.txid), fee: Number(e.fee), size: e.size, feeRate: e.feeRate })),
      txCount: g.length,
      bytes: g.reduce((a, e) => a + e.size, 0),
      fees: g.reduce((a, e) => a + Number(e.fee), 0),
      minFeeRate: sorted[0]!,
      maxFeeRate: sorted[sorted.length - 1]!,
      feeRange: [0, 0.1, 0.25, 0.5, 0.75, 0.9].map(at).concat(sorted[sorted.length - 1]!),
      medianFeeRate: at(0.5),
      full: i < all.length - 1,
    };
  });
}

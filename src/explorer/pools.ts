// Mining pools as mempool.space names them, from coinbase tags (core/coinbase-tag.ts): a named miner's
// name, else the printable text of the first push after the BIP34 height in the coinbase scriptSig (mvb's miner pushes its tag alone, then its
// extra nonce). A coinbase with no printable tag is "Unknown". Pools are grouped by tag over the
// blocks of a trailing interval, bounded by MAX_POOL_BLOCKS.
import { coinbaseMinerName, coinbaseText } from '../shared/core/coinbase-tag.js';
import type { Tx } from '../shared/core/tx.js';
import { sha256 } from '../shared/core/hash.js';

/** mempool.space's intervals, in seconds ('all': the whole chain, within the bound). */
export const POOL_INTERVALS = {
  '24h': 86_400,
  '3d': 3 * 86_400,
  '1w': 7 * 86_400,
  '1m': 30 * 86_400,
  '3m': 91 * 86_400,
  '6m': 182 * 86_400,
  '1y': 365 * 86_400,
  '2y': 730 * 86_400,
  '3y': 1095 * 86_400,
  all: Infinity,
} as const;
export type PoolInterval = keyof typeof POOL_INTERVALS;
/** Blocks walked back at most for one answer. */
export const MAX_POOL_BLOCKS = 10_000;
export const UNKNOWN_POOL = 'Unknown';
/** Tag characters kept at most. */
const MAX_TAG_CHARS = 64;

/**
 * The pool a coinbase names: a named miner's name ("/alice/", core/coinbase-tag.ts), else the printable
 * text after the height, trimmed of spaces and '/', else "Unknown". The same reader as the leaderboard's.
 */
export function coinbaseTag(coinbase: Tx): string {
  const name = coinbaseMinerName(coinbase);
  if (name !== undefined) return name;
  const text = coinbaseText(coinbase)
    .slice(0, MAX_TAG_CHARS)
    .replace(/^[\s/]+|[\s/]+$/g, '');
  return text.length ? text : UNKNOWN_POOL;
}

/** A pool's slug (mempool.space's: lowercase, letters and digits) and a stable id from its name. */
export function poolIdentity(name: string): { id: number; slug: string } {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '') || 'unknown';
  const h = sha256(new TextEncoder().encode(name));
  return { id: name === UNKNOWN_POOL ? 0 : ((h[0]! << 16) | (h[1]! << 8) | h[2]!) + 1, slug };
}

export interface PoolBlock {
  readonly tag: string;
  /** Transactions, the coinbase included (1: an empty block). */
  readonly txCount: number;
}

/** mempool.space's /api/v1/mining/pools/:interval pools list, ranked by blocks (then name). */
export function rankPools(blocks: readonly PoolBlock[]): Record<string, unknown>[] {
  const by = new Map<string, { count: number; empty: number }>();
  for (const b of blocks) {
    const p = by.get(b.tag) ?? { count: 0, empty: 0 };
    p.count++;
    if (b.txCount <= 1) p.empty++;
    by.set(b.tag, p);
  }
  return [...by.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
    .map(([name, p], i) => {
      const { id, slug } = poolIdentity(name);
      return {
        poolId: id,
        name,
        link: '',
        blockCount: p.count,
        rank: i + 1,
        emptyBlocks: p.empty,
        slug,
        avgMatchRate: null,
        avgFeeDelta: null,
        poolUniqueId: id,
      };
    });
}

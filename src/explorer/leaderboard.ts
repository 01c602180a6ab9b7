// Who mined the class's chain: a leaderboard over the last blocks, each miner known by the name its
// coinbase tag carries ("/alice/", core/coinbase-tag.ts) or else by the address its reward pays, with
// its blocks on the best chain, its share of them, and its stale blocks (valid blocks that lost a race
// or a reorganisation). Bounded: at most MAX_LEADERBOARD_BLOCKS heights, and stale blocks at those
// heights as the tree view lists them; each block's miner comes from the summary cache (the coinbase
// only is decoded).
import type { ChainEntry } from '../shared/core/chain.js';
import type { Lookups } from './lookups.js';

/** Heights the leaderboard may span (a school day of 10 s blocks is about 2 000). */
export const MAX_LEADERBOARD_BLOCKS = 5000;
/** Stale blocks looked at, at most. */
const MAX_STALE = 5000;
/** Rows returned, at most (the rest are summed into one "others" row). */
const MAX_ROWS = 100;

export interface LeaderRow {
  /** The name from the coinbase tag, else the reward address, else "unknown". */
  readonly miner: string;
  readonly name: string | null;
  readonly address: string | null;
  readonly blocks: number;
  /** Share of the best chain's blocks in the window, 0..1. */
  readonly share: number;
  readonly stale: number;
  readonly lastHeight: number;
}

interface Tally {
  name: string | null;
  address: string | null;
  blocks: number;
  stale: number;
  lastHeight: number;
}

/** The leaderboard over the best chain's last `last` blocks (genesis excluded), most blocks first. */
export function leaderboard(api: Lookups, last: number): { from: number; to: number; blocks: number; rows: LeaderRow[] } {
  const chain = api.ex.chain;
  const from = Math.max(1, chain.height - last + 1);
  const tallies = new Map<string, Tally>();
  const count = (e: ChainEntry, stale: boolean) => {
    const s = api.view.summary(e.hash);
    const key = s?.minerName ?? s?.miner ?? 'unknown';
    const t = tallies.get(key) ?? { name: s?.minerName ?? null, address: s?.miner ?? null, blocks: 0, stale: 0, lastHeight: 0 };
    if (stale) t.stale++;
    else t.blocks++;
    t.lastHeight = Math.max(t.lastHeight, e.height);
    tallies.set(key, t);
  };
  for (let h = from; h <= chain.height; h++) count(chain.atHeight(h)!, false);
  const stale = api.ex.offChainEntries(MAX_STALE).filter((e) => e.height >= from && (e.status === 'valid' || e.status === 'data'));
  for (const e of stale) count(e, true);
  const total = Math.max(0, chain.height - from + 1);
  const rows = [...tallies.entries()]
    .map(([miner, t]) => ({
      miner,
      name: t.name,
      address: t.address,
      blocks: t.blocks,
      share: total ? t.blocks / total : 0,
      stale: t.stale,
      lastHeight: t.lastHeight,
    }))
    .sort((a, b) => b.blocks - a.blocks || b.stale - a.stale || a.miner.localeCompare(b.miner));
  return { from, to: chain.height, blocks: total, rows: foldRest(rows) };
}

/** At most MAX_ROWS rows: the tail summed into one "others" row. */
function foldRest(rows: LeaderRow[]): LeaderRow[] {
  if (rows.length <= MAX_ROWS) return rows;
  const rest = rows.slice(MAX_ROWS - 1);
  const sum = (f: (r: LeaderRow) => number) => rest.reduce((a, r) => a + f(r), 0);
  const others: LeaderRow = {
    miner: `${rest.length} others`,
    name: null,
    address: null,
    blocks: sum((r) => r.blocks),
    share: sum((r) => r.share),
    stale: sum((r) => r.stale),
    lastHeight: Math.max(...rest.map((r) => r.lastHeight)),
  };
  return [...rows.slice(0, MAX_ROWS - 1), others];
}

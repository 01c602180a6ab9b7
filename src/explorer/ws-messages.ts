// What /api/v1/ws sends, in mempool.space's shapes (its backend's websocket handler): the parts of
// the initial state (`blocks`, `mempoolInfo`, `vBytesPerSecond`, `transactions`, `fees`,
// `mempool-blocks`, `da`), each encoded once per change and shared by every client, and the
// response a client gets: a JSON object whose members are those encoded parts, joined without
// decoding them again.
import { hashToHex } from '../shared/core/bytes.js';
import type { ChainEntry } from '../shared/core/chain.js';
import { blockExtended, difficultyAdjustment, mempoolBlocks, recommendedFees } from './api-v1.js';
import type { Lookups } from './lookups.js';
import { projectedGroups } from './projected.js';

/** mempool.space's INITIAL_BLOCKS_AMOUNT: the recent blocks a new `blocks` subscriber is sent, oldest first. */
export const INITIAL_BLOCKS = 8;
/** Block extras kept for the websocket's block messages (each a few hundred bytes). */
const MAX_EXTRAS_CACHED = 64;
/** Pool arrivals kept for vBytesPerSecond (mempool.space: the pool's inflow over the last minute). */
const INFLOW_WINDOW_MS = 60_000;
const MAX_INFLOW_SAMPLES = 20_000;
/** mempool.space's latest-transactions list: the newest few pool arrivals. */
const LATEST_TXS = 6;

/** A response's members, each already JSON-encoded (mempool.space's serializeResponse). */
export type Encoded = Record<string, string>;

export function joinResponse(parts: Encoded): string {
  return (
    '{' +
    Object.entries(parts)
      .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
      .join(',') +
    '}'
  );
}

/** The pool's inflow in vbytes per second over the last minute (every byte is a vbyte here: no witnesses). */
export class Inflow {
  private readonly samples: { at: number; size: number }[] = [];
  private bytes = 0;

  add(size: number, now = Date.now()): void {
    this.samples.push({ at: now, size });
    this.bytes += size;
    this.trim(now);
  }

  perSecond(now = Date.now()): number {
    this.trim(now);
    return Math.round(this.bytes / (INFLOW_WINDOW_MS / 1000));
  }

  private trim(now: number): void {
    while (this.samples.length && (now - this.samples[0]!.at > INFLOW_WINDOW_MS || this.samples.length > MAX_INFLOW_SAMPLES))
      this.bytes -= this.samples.shift()!.size;
  }
}

/** The state parts, each encoded at most once until the chain or the pool changes. */
export class WsState {
  private readonly extras = new Map<string, Record<string, unknown>>();
  private cache: Encoded = {};
  private positions?: Map<string, { block: number; vsize: number }>;
  readonly inflow = new Inflow();

  constructor(private readonly api: Lookups) {}

  /** The chain or the pool changed: every part is encoded afresh when next asked for. */
  invalidate(): void {
    this.cache = {};
    this.positions = undefined;
  }

  /**
   * mempool.space's `txPosition` for a pool transaction: the projected block it is in and the
   * vbytes before its middle in that block; undefined when it is not in the pool.
   */
  txPosition(id: string): string | undefined {
    if (!this.positions) {
      this.positions = new Map();
      projectedGroups(this.api.ex).forEach((g, block) => {
        let before = 0;
        for (const e of g) {
          this.positions!.set(hashToHex(e.txid), { block, vsize: before + e.size / 2 });
          before += e.size;
        }
      });
    }
    const position = this.positions.get(id);
    return position && JSON.stringify({ txid: id, position });
  }

  part(name: StatePart): string {
    return (this.cache[name] ??= JSON.stringify(this.compute(name)));
  }

  parts(names: readonly StatePart[]): Encoded {
    const out: Encoded = {};
    for (const n of names) out[n] = this.part(n);
    return out;
  }

  /** One block in the v1 shape (GET /api/v1/block/:hash's body). */
  block(e: ChainEntry): Record<string, unknown> | undefined {
    const b = this.api.view.block(e.hash);
    if (!b) return undefined;
    if (this.extras.size > MAX_EXTRAS_CACHED) this.extras.delete(this.extras.keys().next().value!);
    return blockExtended(this.api, this.extras, e, b);
  }

  private compute(name: StatePart): unknown {
    const ex = this.api.ex;
    switch (name) {
      case 'blocks':
        return this.recentBlocks();
      case 'mempoolInfo':
        return mempoolInfo(this.api);
      case 'vBytesPerSecond':
        return this.inflow.perSecond();
      case 'transactions':
        return ex.mempool
          .all()
          .sort((a, b) => b.seq - a.seq)
          .slice(0, LATEST_TXS)
          .map((e) => ({
            txid: hashToHex(e.txid),
            fee: Number(e.fee),
            vsize: e.size,
            value: e.tx.outputs.reduce((a, o) => a + Number(o.value), 0),
            rate: e.feeRate,
          }));
      case 'fees':
        return recommendedFees(this.api);
      case 'mempool-blocks':
        return mempoolBlocks(this.api);
      case 'da':
        return difficultyAdjustment(this.api);
    }
  }

  /** The last INITIAL_BLOCKS blocks of the active chain, oldest first (mempool.space's order). */
  private recentBlocks(): unknown[] {
    const c = this.api.ex.chain;
    const out: unknown[] = [];
    for (let h = Math.max(0, c.height - INITIAL_BLOCKS + 1); h <= c.height; h++) {
      const j = this.block(c.atHeight(h)!);
      if (j) out.push(j);
    }
    return out;
  }
}

export type StatePart = 'blocks' | 'mempoolInfo' | 'vBytesPerSecond' | 'transactions' | 'fees' | 'mempool-blocks' | 'da';
/** What `want: stats` adds (mempool.space's stats subscription). */
export const STATS_PARTS: readonly StatePart[] = ['mempoolInfo', 'vBytesPerSecond', 'transactions', 'fees', 'da'];
/** `action: init`: every part at once. */
export const INIT_PARTS: readonly StatePart[] = [
  'mempoolInfo',
  'vBytesPerSecond',
  'blocks',
  'mempool-blocks',
  'transactions',
  'da',
  'fees',
];

/** Core's getmempoolinfo, as mempool.space relays it (fees in coins per kvB, total_fee in coins). */
function mempoolInfo(api: Lookups): Record<string, unknown> {
  const ex = api.ex;
  const s = ex.poolSummary();
  const floor = (ex.settings.minRelayFeeRate * 1000) / 1e8;
  return {
    loaded: true,
    size: s.count,
    bytes: s.bytes,
    usage: s.bytes,
    total_fee: s.fees / 1e8,
    maxmempool: ex.settings.mempoolMaxBytes,
    mempoolminfee: floor,
    minrelaytxfee: floor,
    unbroadcastcount: 0,
  };
}

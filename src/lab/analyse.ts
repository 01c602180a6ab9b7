// From the nodes' event logs (src/shared/node/events.ts) to measurements: which blocks each node
// connected and when, the best chain at the end, stale blocks, propagation delays, reorganisation
// depths, each miner's share of the best chain, and where payments ended up. Logs are read bounded.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** One log is read up to this size. */
const MAX_LOG_BYTES = 256 * 1024 * 1024;

export interface NodeEvent {
  readonly t: number;
  readonly ev: string;
  readonly hash?: string;
  readonly height?: number;
  readonly txids?: string[];
  readonly txid?: string;
  readonly depth?: number;
  readonly source?: string;
}

/** The events of one log, in order; lines that do not parse are skipped and counted. */
export function readEvents(path: string): { events: NodeEvent[]; bad: number } {
  if (!existsSync(path)) return { events: [], bad: 0 };
  const size = Math.min(statSync(path).size, MAX_LOG_BYTES);
  const buf = Buffer.alloc(size);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, size, 0);
  } finally {
    closeSync(fd);
  }
  const events: NodeEvent[] = [];
  let bad = 0;
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as NodeEvent;
      if (typeof e.t === 'number' && typeof e.ev === 'string') events.push(e);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { events, bad };
}

/** A node's active chain as its events last left it: height -> hash, and the txids of each block. */
export class ReplayedChain {
  readonly byHeight = new Map<number, string>();
  readonly txids = new Map<string, string[]>();
  tipHeight = 0;

  constructor(events: readonly NodeEvent[]) {
    for (const e of events) {
      if (e.ev === 'disconnected' && e.height !== undefined) {
        this.byHeight.delete(e.height);
        this.tipHeight = e.height - 1;
      } else if (e.ev === 'connected' && e.height !== undefined && e.hash) {
        this.byHeight.set(e.height, e.hash);
        this.txids.set(e.hash, e.txids ?? []);
        this.tipHeight = e.height;
      }
    }
    for (const h of [...this.byHeight.keys()]) if (h > this.tipHeight) this.byHeight.delete(h);
  }

  get tip(): string | undefined {
    return this.byHeight.get(this.tipHeight);
  }

  has(hash: string): boolean {
    return this.byHeight.get(this.heightOf(hash) ?? -1) === hash;
  }

  heightOf(hash: string): number | undefined {
    for (const [h, x] of this.byHeight) if (x === hash) return h;
    return undefined;
  }

  /** Heights whose block holds the txid. */
  txHeights(txid: string): number[] {
    const out: number[] = [];
    for (const [h, x] of this.byHeight) if (this.txids.get(x)?.includes(txid)) out.push(h);
    return out;
  }
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly count: number;
}

export function percentiles(xs: readonly number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! : 0);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), count: s.length };
}

export interface Mined {
  readonly hash: string;
  readonly height: number;
  readonly t: number;
  readonly host: number;
}

export interface Analysis {
  readonly blocks: number;
  readonly decided: number;
  readonly stale: number;
  readonly staleRate: number;
  readonly bestHeight: number;
  readonly bestHost: number;
  readonly propagationMs: Percentiles;
  /** Every propagation delay measured, sorted (ms). */
  readonly propagationSamples: number[];
  readonly heardMs: Percentiles;
  readonly measuredIntervalSeconds: number;
  readonly reorgDepths: Record<string, number>;
  /** Per host: blocks in the best chain mined by it / best chain length (decided part). */
  readonly chainShares: number[];
  readonly bestChain: ReplayedChain;
  readonly chains: ReplayedChain[];
  readonly mined: Mined[];
}

/** Blocks this close to the best tip at the end (or mined in the last seconds) are not yet decided. */
const SETTLE_BLOCKS = 2;

/** Measures a run from each host's events (index = host). endT: the monotonic time the run ended. */
export function analyse(logs: readonly (readonly NodeEvent[])[], endT: number, settleMs: number): Analysis {
  const chains = logs.map((l) => new ReplayedChain(l));
  let bestHost = 0;
  chains.forEach((c, i) => {
    if (c.tipHeight > chains[bestHost]!.tipHeight) bestHost = i;
  });
  const best = chains[bestHost]!;
  const mined: Mined[] = logs.flatMap((l, host) =>
    l.filter((e) => e.ev === 'mined' && e.hash).map((e) => ({ hash: e.hash!, height: e.height ?? 0, t: e.t, host })),
  );
  const decided = mined.filter((m) => m.height <= best.tipHeight - SETTLE_BLOCKS && m.t <= endT - settleMs);
  const inBest = decided.filter((m) => best.byHeight.get(m.height) === m.hash);
  const stale = decided.length - inBest.length;
  const firstConnect = logs.map((l) => {
    const m = new Map<string, number>();
    for (const e of l)
      if ((e.ev === 'connected' || e.ev === 'heard') && e.hash) if (!m.has(`${e.ev}:${e.hash}`)) m.set(`${e.ev}:${e.hash}`, e.t);
    return m;
  });
  const prop: number[] = [];
  const heard: number[] = [];
  for (const b of inBest) {
    firstConnect.forEach((m, host) => {
      if (host === b.host) return;
      const c = m.get(`connected:${b.hash}`);
      if (c !== undefined) prop.push(c - b.t);
      const h = m.get(`heard:${b.hash}`);
      if (h !== undefined) heard.push(h - b.t);
    });
  }
  const reorgDepths: Record<string, number> = {};
  for (const l of logs) for (const e of l) if (e.ev === 'reorg' && e.depth) reorgDepths[e.depth] = (reorgDepths[e.depth] ?? 0) + 1;
  const times = inBest.map((m) => m.t).sort((a, b) => a - b);
  const interval = times.length > 1 ? (times[times.length - 1]! - times[0]!) / (times.length - 1) / 1000 : 0;
  const chainShares = logs.map((_, host) => (inBest.length ? inBest.filter((m) => m.host === host).length / inBest.length : 0));
  return {
    blocks: mined.length,
    decided: decided.length,
    stale,
    staleRate: decided.length ? stale / decided.length : 0,
    bestHeight: best.tipHeight,
    bestHost,
    propagationMs: percentiles(prop),
    propagationSamples: [...prop].sort((a, b) => a - b).map((x) => Math.round(x * 10) / 10),
    heardMs: percentiles(heard),
    measuredIntervalSeconds: Math.round(interval * 1000) / 1000,
    reorgDepths,
    chainShares,
    bestChain: best,
    chains,
    mined,
  };
}

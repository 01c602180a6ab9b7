// The one way into a node's mempool, for every app: the miner, the explorer and a wallet's sync
// hand it what they hear on the transaction port (the explorer also what is posted to it). As in
// bcoin's Mempool.addTX and Core's handling of a TX message (AlreadyHaveTx, m_recent_rejects,
// then AcceptToMemoryPool), it is a pipeline with the cheapest step first:
//
//   1. decode                 the bytes the listener read (bounded by the datagram or body size)
//   2. txid                   one double SHA-256
//   3. the app's screen       e.g. the wallet: does it pay one of our keys, do we have it already
//   4. known                  in the pool, or waiting below: a replay costs one lookup
//   5. recently rejected      refused at this tip already (the mempool's one rolling filter)
//   6. PreChecks              standalone rules, already mined, conflicts, inputs and fee, package
//                             limits, a full pool: lookups and arithmetic, no signature
//   7. queue                  one line per source, served in turn, capped in total (fair-queue.ts);
//                             a child of a transaction waiting here waits too (its inputs are missing
//                             only until its parent is checked)
//   8. signature budget       a source whose budget is spent waits until it is paid off
//   9. signatures             Mempool.acceptAsync (it repeats 4-6 first: the pool may have moved)
//
// Why this order: a source is only what a datagram claims (UDP sources can be forged, and on one
// machine everyone is 127.0.0.1), so nothing that runs before the expensive work depends on it. A
// flood of replays, zero-fee or conflicting transactions costs lookups whatever address it forges
// and never shares a budget or a line with an honest payment; only step 9's signature checks are
// charged to the source (the count of checks, after the work). Each refusal is logged once per
// txid and reason: the mempool's filter keeps the last reason after the tip moves on.
import { EventEmitter } from 'node:events';
import { DecodeError, hashToHex, toHex } from '../../core/bytes.js';
import { type Tx, decodeTx, txid } from '../../core/tx.js';
import { ValidationError } from '../../core/validation.js';
import { packageError } from '../../core/package.js';
import { type RateLimit, SourceRateLimiter } from '../net/rate-limit.js';
import { FairQueue } from './fair-queue.js';
import type { MempoolEntry, Mempool } from './pool.js';

/** Transactions waiting for their signature checks, at most (about 60 MB of the largest ones). */
export const MAX_QUEUED_TXS = 1000;
/**
 * Signature checks a source may have run, per second on average and in a burst: far above any
 * honest sender (a 40-input payment is 40), a ceiling on what one address can make us verify.
 */
export const SIGNATURE_BUDGET: RateLimit = { ratePerSecond: 1000, burst: 2000 };
/** Signature checks between two yields to the event loop (about 4 ms with OpenSSL; cache hits when preverified). */
export const TX_INPUTS_PER_SLICE = 8;

interface Heard {
  readonly source: string;
  readonly txid: string;
}

/** A refusal, with Core's reason in error.code. */
export type RejectedVerdict = Heard & { readonly kind: 'rejected'; readonly tx: Tx; readonly error: ValidationError };

/** What became of one transaction heard (txid in display order, as explorers show it). */
export type TxVerdict =
  | { readonly kind: 'undecodable'; readonly source: string; readonly reason: string }
  | (Heard & { readonly kind: 'ignored' | 'known' | 'dropped' })
  | RejectedVerdict
  | (Heard & { readonly kind: 'accepted'; readonly tx: Tx; readonly entry: MempoolEntry; readonly evicted: readonly string[] })
  /** Our bug, not the sender's doing: the app says so and goes on. */
  | (Heard & { readonly kind: 'failed'; readonly error: Error });

export type VerdictKind = TxVerdict['kind'];

/**
 * What became of a package (Core's submitpackage): one entry undecodable, the package refused whole
 * by Core's package rules, or each transaction's verdict in order (the first refusal ends it;
 * those before it stay in the pool, as in Core).
 */
export type PackageVerdict =
  | { readonly kind: 'undecodable'; readonly index: number; readonly reason: string }
  | { readonly kind: 'package-rejected'; readonly reason: string }
  | { readonly kind: 'checked'; readonly results: readonly TxVerdict[] };

export interface TxIntakeOptions {
  readonly mempool: Mempool;
  /** A refusal, the first time this txid is refused for this reason: "rejected tx <txid>…: <reason>". */
  readonly log?: (line: string, v: RejectedVerdict) => void;
  /** Our own failures (a verdict listener that threw): one line each, and the intake goes on. */
  readonly warn?: (line: string) => void;
  /** Step 3: the app's own cheap question ('ignore': none of its business; 'known': it has it). */
  readonly screen?: (tx: Tx, id: Uint8Array) => 'ignore' | 'known' | undefined;
  readonly signatureBudget?: RateLimit;
  readonly maxQueued?: number;
  readonly inputsPerSlice?: number;
  readonly nowMs?: () => number;
}

interface Waiting extends Heard {
  readonly tx: Tx;
  readonly id: Uint8Array;
  readonly key: string;
  readonly settle: (v: TxVerdict) => void;
}

export class TxIntake extends EventEmitter<{ verdict: [TxVerdict] }> {
  private readonly mempool: Mempool;
  private readonly queue: FairQueue<Waiting>;
  private readonly budget: SourceRateLimiter;
  /** Keys (hex txids) queued or being checked: step 4's "waiting below". */
  private readonly waiting = new Set<string>();
  private running?: Promise<void>;
  private wake?: NodeJS.Timeout;
  private stopped = false;
  /** Verdicts by kind, plus refusals at step 5 and the signature checks charged. */
  readonly stats: Record<VerdictKind, number> & { recentlyRejected: number; signatureChecks: number } = {
    undecodable: 0,
    ignored: 0,
    known: 0,
    dropped: 0,
    rejected: 0,
    accepted: 0,
    failed: 0,
    recentlyRejected: 0,
    signatureChecks: 0,
  };

  constructor(readonly opts: TxIntakeOptions) {
    super();
    this.mempool = opts.mempool;
    this.queue = new FairQueue(opts.maxQueued ?? MAX_QUEUED_TXS);
    this.budget = new SourceRateLimiter(opts.signatureBudget ?? SIGNATURE_BUDGET, opts.nowMs);
  }

  /** Transactions waiting for their signature checks. */
  get queued(): number {
    return this.queue.size;
  }

  /** A transaction heard from `source` (its verdict is emitted as 'verdict'). */
  offer(raw: Uint8Array, source: string): void {
    void this.take(raw, source);
  }

  /** The same, for a caller that waits for the verdict (a posted transaction). */
  submit(raw: Uint8Array, source: string): Promise<TxVerdict> {
    return Promise.resolve(this.take(raw, source));
  }

  /**
   * A package, parents first: decoded, checked against Core's package rules, then each transaction
   * through the same steps as one posted alone, in order, each waiting for its parent's verdict.
   * Fee rates are each transaction's own (no package fee rate: a child does not pay a parent in).
   */
  async submitPackage(raws: readonly Uint8Array[], source: string): Promise<PackageVerdict> {
    const txs: Tx[] = [];
    for (let i = 0; i < raws.length; i++) {
      try {
        txs.push(decodeTx(raws[i]!));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        return { kind: 'undecodable', index: i, reason: e.message };
      }
    }
    const reason = packageError(
      txs,
      raws.map((r) => r.length),
    );
    if (reason) return { kind: 'package-rejected', reason };
    const results: TxVerdict[] = [];
    for (const raw of raws) {
      const v = await this.submit(raw, source);
      results.push(v);
      if (v.kind !== 'accepted' && v.kind !== 'known') break;
    }
    return { kind: 'checked', results };
  }

  /** Steps 1 to 7: a verdict now, or one to come once the signatures are checked. */
  private take(raw: Uint8Array, source: string): TxVerdict | Promise<TxVerdict> {
    let tx: Tx;
    try {
      tx = decodeTx(raw); // 1
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return this.emitVerdict({ kind: 'undecodable', source, reason: e.message });
    }
    const id = txid(tx); // 2
    const heard = { source, txid: hashToHex(id) };
    if (this.stopped) return { ...heard, kind: 'dropped' };
    const screened = this.opts.screen?.(tx, id); // 3
    if (screened) return this.emitVerdict({ ...heard, kind: screened === 'ignore' ? 'ignored' : 'known' });
    const key = toHex(id);
    if (this.waiting.has(key) || this.mempool.has(id)) return this.emitVerdict({ ...heard, kind: 'known' }); // 4
    const before = this.mempool.rejectedAs(id);
    try {
      if (this.mempool.preCheck(tx, id).status === 'known') return this.emitVerdict({ ...heard, kind: 'known' }); // 5, 6
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      // A child of a transaction still waiting below waits behind it (as Core keeps an orphan
      // until its parent arrives): a wallet sends a payment and its child back to back.
      if (!(e.code === 'bad-txns-inputs-missingorspent' && this.hasWaitingParent(tx))) return this.refused(heard, tx, e, before);
    }
    return this.enqueue({ ...heard, tx, id, key }); // 7
  }

  private hasWaitingParent(tx: Tx): boolean {
    return tx.inputs.some((i) => this.waiting.has(toHex(i.prevTxid)));
  }

  private enqueue(w: Omit<Waiting, 'settle'>): TxVerdict | Promise<TxVerdict> {
    let settle!: (v: TxVerdict) => void;
    const verdict = new Promise<TxVerdict>((resolve) => (settle = resolve));
    const item: Waiting = { ...w, settle };
    const dropped = this.queue.push(w.source, item);
    if (dropped === item) return this.emitVerdict({ source: w.source, txid: w.txid, kind: 'dropped' });
    if (dropped) {
      this.waiting.delete(dropped.key);
      dropped.settle(this.emitVerdict({ source: dropped.source, txid: dropped.txid, kind: 'dropped' }));
    }
    this.waiting.add(w.key);
    this.pump();
    return verdict;
  }

  /** One admission at a time: the next source in turn with budget left (8); wakes later if all are in debt. */
  private pump(): void {
    if (this.running || this.stopped) return;
    const next = this.queue.shift((source) => this.budget.hasCredit(source)); // 8
    if (!next) return this.wakeOnCredit();
    this.running = this.checkSignatures(next.item).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  private wakeOnCredit(): void {
    if (this.wake || this.queue.size === 0) return;
    let ms = Infinity;
    for (const s of this.queue.sources()) ms = Math.min(ms, this.budget.msUntilCredit(s));
    this.wake = setTimeout(
      () => {
        this.wake = undefined;
        this.pump();
      },
      Math.max(1, ms),
    );
    this.wake.unref();
  }

  /** Step 9, charged to the source as the checks are run. */
  private async checkSignatures(w: Waiting): Promise<void> {
    const meter = { checks: 0 };
    const before = this.mempool.rejectedAs(w.id);
    let v: TxVerdict;
    try {
      const r = await this.mempool.acceptAsync(w.tx, this.opts.inputsPerSlice ?? TX_INPUTS_PER_SLICE, meter); // 9
      v =
        r.status === 'known'
          ? { source: w.source, txid: w.txid, kind: 'known' }
          : { source: w.source, txid: w.txid, kind: 'accepted', tx: w.tx, entry: r.entry, evicted: r.evicted };
    } catch (e) {
      v =
        e instanceof ValidationError
          ? this.refusal(w, w.tx, e, before)
          : { source: w.source, txid: w.txid, kind: 'failed', error: e instanceof Error ? e : new Error(String(e)) };
    } finally {
      this.waiting.delete(w.key);
      this.budget.spend(w.source, meter.checks);
      this.stats.signatureChecks += meter.checks;
    }
    w.settle(this.emitVerdict(v));
  }

  private refused(heard: Heard, tx: Tx, e: ValidationError, before: string | undefined): TxVerdict {
    return this.emitVerdict(this.refusal(heard, tx, e, before));
  }

  /** A refusal's verdict; its line is logged unless this txid was refused for this same reason before. */
  private refusal(heard: Heard, tx: Tx, e: ValidationError, before: string | undefined): RejectedVerdict {
    const v: RejectedVerdict = { source: heard.source, txid: heard.txid, kind: 'rejected', tx, error: e };
    if (e.code === 'txn-recently-rejected') this.stats.recentlyRejected++;
    else if (before !== e.code) this.opts.log?.(`rejected tx ${heard.txid.slice(0, 16)}…: ${e.message}`, v);
    return v;
  }

  private emitVerdict(v: TxVerdict): TxVerdict {
    this.stats[v.kind]++;
    try {
      this.emit('verdict', v);
    } catch (e) {
      this.opts.warn?.(`transaction ${'txid' in v ? v.txid : `from ${v.source}`}: ${(e as Error)?.stack ?? String(e)}`);
    }
    return v;
  }

  /** Stops taking transactions, waits for the admission under way; what was queued is dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wake);
    await this.running;
    for (const w of this.queue.clear()) w.settle({ source: w.source, txid: w.txid, kind: 'dropped' });
    this.waiting.clear();
  }
}

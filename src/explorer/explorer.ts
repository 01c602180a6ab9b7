// The explorer process: a ChainNode without a block server follows the best chain exactly as a
// wallet's sync does (fully validated, no keys), a Mempool hears the transaction port through the
// same TxIntake as a miner's (every transaction checked against our chain as a miner checks it,
// posted ones too), the status port tells us every
// miner's tip, and our indexes (indexes.ts) are written inside the chain's commits. Everything the
// HTTP side shows is read from here; live changes go out through the event hub.
import { encodeAddress } from '../shared/core/address.js';
import { DecodeError, fromHex, hashToHex } from '../shared/core/bytes.js';
import { Chain, type ChainEntry, type ChainUpdate } from '../shared/core/chain.js';
import { p2pkhHash } from '../shared/core/script.js';
import type { Tx } from '../shared/core/tx.js';
import { ValidationError } from '../shared/core/validation.js';
import { coinbaseMinerName } from '../shared/core/coinbase-tag.js';
import type { Settings } from '../shared/node/cli/config.js';
import { Mempool, type MempoolEntry } from '../shared/node/mempool/pool.js';
import { type PackageVerdict, type TxVerdict, TxIntake } from '../shared/node/mempool/intake.js';
import { ChainNode, type LogLevel } from '../shared/node/net/node.js';
import { LmdbChainStore } from '../shared/node/store/lmdb-store.js';
import { type PersistedMempoolTx, openAppDb } from '../shared/node/store/schema.js';
import { opensslVerifier } from '../shared/node/verify/verifier.js';
import type { Database } from 'lmdb';
import { EventHub } from './events.js';
import { ExplorerIndexes } from './indexes.js';
import { FeeHistory } from './fees.js';

export interface ExplorerOptions {
  readonly settings: Settings;
  /** The chain store's directory (datadir/chain). */
  readonly chainDir: string;
  readonly log?: (level: LogLevel, msg: string) => void;
}

export class Explorer {
  readonly store: LmdbChainStore;
  readonly chain: Chain;
  readonly node: ChainNode;
  readonly mempool: Mempool;
  /** The one way into the pool, as a miner's: cheap checks first, fair queues, signature budgets. */
  readonly intake: TxIntake;
  readonly indexes: ExplorerIndexes;
  readonly events = new EventHub();
  /** What recent blocks took from our pool, for fee estimates (in memory: a restart starts it again). */
  readonly fees = new FeeHistory();
  private readonly poolDb: Database<PersistedMempoolTx, string>;
  /** Arrival time of each pool transaction (ms), for /api/mempool/recent. */
  private readonly seenAt = new Map<string, number>();
  readonly stats = { txHeard: 0, txUndecodable: 0, txRejected: 0, txAccepted: 0, reorgs: 0 };

  constructor(readonly opts: ExplorerOptions) {
    const s = opts.settings;
    this.store = new LmdbChainStore(opts.chainDir, 'mvb explorer');
    try {
      this.indexes = new ExplorerIndexes(this.store, (pkh) => this.addressOf(pkh));
      this.chain = new Chain(s.params, this.store, { verifier: opensslVerifier });
      this.indexes.buildIfEmpty((h) => this.chain.atHeight(h), this.chain.height);
      this.indexes.nameIfUnnamed();
      this.indexes.attach();
      this.indexes.onReorg = (r) => {
        this.stats.reorgs++;
        this.events.publish('reorg', r);
      };
      this.poolDb = openAppDb(this.store, 'explorer-mempool');
      this.mempool = new Mempool(this.chain, { minRelayFeeRate: s.minRelayFeeRate, maxBytes: s.mempoolMaxBytes });
      this.node = new ChainNode({ settings: s, chain: this.chain, serveBlocks: false, log: opts.log });
    } catch (e) {
      this.store.close();
      throw e;
    }
    this.node.on('update', (u) => this.onUpdate(u));
    this.intake = new TxIntake({ mempool: this.mempool, warn: (line) => this.opts.log?.('warn', line) });
    this.intake.on('verdict', (v) => this.onVerdict(v));
    this.node.on('tx', (raw, from) => {
      this.stats.txHeard++;
      this.intake.offer(raw, from.address);
    });
    this.node.on('status', (p) =>
      this.events.publish('status', {
        miner: p.key,
        height: p.status.height,
        tip: hashToHex(p.status.tipHash),
        mempoolSize: p.status.mempoolSize,
      }),
    );
  }

  get settings(): Settings {
    return this.opts.settings;
  }

  async start(): Promise<void> {
    // A fresh start: the pool persisted last time is stale (its transactions were rebroadcast or mined).
    this.poolDb.clearSync();
    await this.node.start(true);
  }

  async stop(): Promise<void> {
    this.events.close();
    await this.intake.stop();
    await this.node.stop();
    this.store.close();
  }

  addressOf(pkh: Uint8Array): string {
    return encodeAddress(pkh, this.settings.params.addressVersion);
  }

  /** Who a block pays: its coinbase's first P2PKH output's address. */
  minerOf(txs: readonly Tx[]): string | null {
    for (const o of txs[0]?.outputs ?? []) {
      const pkh = p2pkhHash(o.scriptPubKey);
      if (pkh) return this.addressOf(pkh);
    }
    return null;
  }

  private onUpdate(u: ChainUpdate): void {
    const before = new Set(this.mempool.all().map((e) => e.key));
    this.fees.update(u, (k) => this.mempool.get(fromHex(k))?.feeRate);
    this.mempool.update(u);
    this.syncPoolDb(before);
    for (const c of u.connected) {
      this.events.publish('block', {
        height: c.entry.height,
        hash: hashToHex(c.entry.hash),
        txCount: c.block.txs.length,
        miner: this.minerOf(c.block.txs),
        minerName: c.block.txs[0] ? (coinbaseMinerName(c.block.txs[0]) ?? null) : null,
      });
    }
    this.events.publish('mempool', { count: this.mempool.size, bytes: this.mempool.totalBytes });
  }

  /** What the intake decided about a transaction heard or posted. */
  private onVerdict(v: TxVerdict): void {
    if (v.kind === 'undecodable') this.stats.txUndecodable++;
    else if (v.kind === 'rejected') this.stats.txRejected++;
    else if (v.kind === 'failed') this.opts.log?.('warn', `transaction ${v.txid}: ${v.error.stack ?? v.error.message}`);
    else if (v.kind === 'accepted') this.onAccepted(v.entry, v.evicted);
  }

  /** A new pool transaction: kept (with its arrival time) for `mvb mempool` and the page, and announced. */
  private onAccepted(e: MempoolEntry, evicted: readonly string[]): void {
    this.stats.txAccepted++;
    this.seenAt.set(e.key, Date.now());
    this.fees.seen(e.key, this.chain.height);
    this.poolDb.putSync(hashToHex(e.txid), {
      raw: Buffer.from(e.raw).toString('hex'),
      fee: e.fee.toString(),
      size: e.size,
      seenAt: Date.now(),
    });
    for (const k of evicted) this.forget(k);
    this.events.publish('tx', { txid: hashToHex(e.txid), fee: Number(e.fee), size: e.size, feeRate: e.feeRate });
    this.events.publish('mempool', { count: this.mempool.size, bytes: this.mempool.totalBytes });
  }

  /**
   * POST /api/tx: validate, keep, broadcast on the transaction port. Returns the txid; throws
   * DecodeError or ValidationError (Core's reason). A transaction already in the pool is not
   * broadcast again: posting one over and over must not turn the explorer into a datagram hose
   * (its wallet rebroadcasts it anyway).
   */
  async submit(raw: Uint8Array, source: string): Promise<string> {
    const v = await this.intake.submit(raw, `http ${source}`);
    if (v.kind === 'undecodable') throw new DecodeError(v.reason);
    if (v.kind === 'rejected') throw v.error;
    if (v.kind === 'dropped') throw new ValidationError('mempool full', false, 'too many transactions waiting to be checked; try again');
    if (v.kind === 'failed') throw v.error;
    if (v.kind === 'accepted') this.node.broadcastTx(v.entry.raw);
    return v.txid;
  }

  /** POST /api/txs/package: the package through the intake; each transaction accepted is broadcast as one posted alone. */
  async submitPackage(raws: readonly Uint8Array[], source: string): Promise<PackageVerdict> {
    const v = await this.intake.submitPackage(raws, `http ${source}`);
    if (v.kind === 'checked') for (const t of v.results) if (t.kind === 'accepted') this.node.broadcastTx(t.entry.raw);
    return v;
  }

  private forget(key: string): void {
    this.seenAt.delete(key);
    this.fees.forget(key);
    this.poolDb.removeSync(hashToHex(fromHex(key)));
  }

  private syncPoolDb(before: Set<string>): void {
    const now = new Set(this.mempool.all().map((e) => e.key));
    for (const k of before) if (!now.has(k)) this.forget(k);
    for (const e of this.mempool.all()) {
      if (!before.has(e.key)) {
        this.seenAt.set(e.key, Date.now());
        this.fees.seen(e.key, this.chain.height);
        this.poolDb.putSync(hashToHex(e.txid), {
          raw: Buffer.from(e.raw).toString('hex'),
          fee: e.fee.toString(),
          size: e.size,
          seenAt: Date.now(),
        });
      }
    }
  }

  seenAtOf(e: MempoolEntry): number {
    return this.seenAt.get(e.key) ?? 0;
  }

  poolSummary(): { count: number; bytes: number; fees: number } {
    let fees = 0;
    for (const e of this.mempool.all()) fees += Number(e.fee);
    return { count: this.mempool.size, bytes: this.mempool.totalBytes, fees };
  }

  private offChainMemo?: { tip: ChainEntry; at: number; limit: number; entries: ChainEntry[] };

  /**
   * Every header-tree entry not on the active chain (stale or not yet connected), walked
   * iteratively; remembered for a second at the same tip, so a flood of requests walks it once.
   */
  offChainEntries(limit: number): ChainEntry[] {
    const m = this.offChainMemo;
    if (m && m.tip === this.chain.tip && m.limit === limit && Date.now() - m.at < 1000) return m.entries;
    const out: ChainEntry[] = [];
    const stack: ChainEntry[] = [this.chain.atHeight(0)!];
    while (stack.length && out.length < limit) {
      const e = stack.pop()!;
      if (!this.chain.isActive(e)) out.push(e);
      stack.push(...e.children);
    }
    this.offChainMemo = { tip: this.chain.tip, at: Date.now(), limit, entries: out };
    return out;
  }
}

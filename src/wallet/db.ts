// The wallet's state beside the chain, in named databases of the chain's own LMDB environment
// (DATADIR/chain), so that it changes in the same transaction as the chain it describes:
//
//   wallet-meta      keyset (pubkey hashes the index is complete for), tip, best height heard
//   wallet-coins     our unspent outputs: outpoint -> value, height, coinbase flag, pubkey hash
//   wallet-payments  payments we made: raw transaction, status (pending/confirmed/failed), ...
//   wallet-reserved  outpoint -> txid of the payment that spends it (pending or settled)
//   wallet-history   every mined transaction that touches our keys, with its block
//   wallet-incoming  payments to our keys from anyone, heard by `sync` on the transaction port and
//                    validated against our own chain, until they are mined (then history has them),
//                    conflicted, or expire (see incoming.ts)
//
// The sync process keeps them current from a commit hook of the chain store (applyBatch: runs
// inside the chain's commit transaction, so a kill at any moment leaves chain and wallet agreeing),
// and stores each incoming payment it hears and validates in a write transaction of its own.
//
// Locking (why short-lived commands work while `sync` runs): only `sync` runs a Chain and takes the
// data directory's lock file. Every other command opens the same LMDB environment without that
// lock (LmdbChainStore lock: false) and only reads the chain. LMDB allows any number of processes
// in one environment and serialises write transactions across them with its own (robust) mutex, so
// `send` selects coins, reserves them and stores the signed payment in ONE write transaction:
// two sends, from any processes, with or without sync running, can never pick the same coin, and
// the payment is durable (fsynced) before it is broadcast. A sync running meanwhile sees the new
// payment at its next rebroadcast round; its own commits cannot interleave with the send's.
// This avoids an outbox of files and the races of checking one against the other.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hashToHex, toHex } from '../shared/core/bytes.js';
import type { ChainBatch } from '../shared/core/chain.js';
import { p2pkhHash } from '../shared/core/script.js';
import { LmdbChainStore } from '../shared/node/store/lmdb-store.js';
import { type Tx, isCoinbase, txid } from '../shared/core/tx.js';
import { displayOutpoint, displayOutpointKey, outpointKey, parseOutpointKey } from '../shared/core/outpoint.js';

export type PaymentStatus = 'pending' | 'confirmed' | 'failed';

/** An input or output of a transaction as the wallet keeps it: pubkey hash (hex) and value (base units, decimal). */
export interface TxoSummary {
  readonly pkh: string | null;
  readonly value: string;
}

export interface BlockRef {
  /** Display order. */
  readonly hash: string;
  readonly height: number;
  /** Header time, seconds. */
  readonly time: number;
}

export interface PaymentRecord {
  /** Display order. */
  readonly txid: string;
  readonly raw: string;
  readonly status: PaymentStatus;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly from: string;
  readonly fromAddress: string;
  readonly fromPkh: string;
  readonly to: string;
  readonly toPkh: string;
  readonly toName?: string;
  readonly amount: string;
  readonly fee: string;
  readonly size: number;
  readonly inputs: readonly { readonly outpoint: string; readonly value: string; readonly pkh: string }[];
  readonly outputs: readonly TxoSummary[];
  readonly block?: BlockRef;
  readonly failure?: {
    readonly kind: 'conflict' | 'missing';
    readonly detail: string;
    readonly conflictTxid?: string;
    readonly at: number;
  };
}

/**
 * A payment to our keys that is not ours and not mined yet: heard on the transaction port by
 * `sync` and valid against our chain's UTXO set at the time (see incoming.ts).
 */
export interface IncomingRecord {
  /** Display order. */
  readonly txid: string;
  readonly raw: string;
  /** Milliseconds since the epoch: when sync first heard it. */
  readonly seenAt: number;
  /** The sender's address: the first input's P2PKH key (its scriptSig pubkey, as checked). */
  readonly fromAddress: string | null;
  /** Our pubkey hashes it pays, and how much in all (base units, decimal). */
  readonly toPkhs: readonly string[];
  readonly amount: string;
  readonly fee: string;
  readonly size: number;
  /** Outpoints as outpointKey (internal order), with what they held. */
  readonly inputs: readonly { readonly outpoint: string; readonly value: string; readonly pkh: string | null }[];
  readonly outputs: readonly TxoSummary[];
}

/** How long an incoming payment may stay unmined before we stop showing it. */
export const INCOMING_TTL_MS = 24 * 3600 * 1000;

export interface HistoryRecord {
  readonly txid: string;
  readonly block: BlockRef;
  readonly coinbase: boolean;
  readonly inputs: readonly TxoSummary[];
  readonly outputs: readonly TxoSummary[];
}

export interface WalletCoin {
  readonly outpoint: string;
  readonly value: string;
  readonly height: number;
  readonly coinbase: boolean;
  readonly pkh: string;
}

export interface TipInfo {
  readonly hash: string;
  readonly height: number;
  readonly time: number;
}

export interface BestHeard {
  readonly height: number;
  readonly chainWork: string;
  readonly tip: string;
  readonly peers: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** What the commit hook noticed, for the sync command to print. */
export type WalletEvent =
  | {
      readonly kind: 'confirmed';
      readonly txid: string;
      readonly block: BlockRef;
      readonly incoming?: { readonly amount: bigint; readonly pkhs: readonly string[] };
    }
  | { readonly kind: 'unconfirmed'; readonly txid: string; readonly height: number }
  | { readonly kind: 'failed'; readonly txid: string; readonly detail: string }
  | { readonly kind: 'revived'; readonly txid: string }
  | {
      readonly kind: 'received';
      readonly txid: string;
      readonly amount: bigint;
      readonly pkhs: string[];
      readonly block: BlockRef;
      readonly coinbase: boolean;
    }
  | {
      readonly kind: 'incoming';
      readonly txid: string;
      readonly amount: bigint;
      readonly pkhs: readonly string[];
      readonly from: string | null;
    }
  | {
      readonly kind: 'incoming-dropped';
      readonly txid: string;
      readonly reason: 'conflict' | 'missing' | 'expired';
      readonly detail: string;
    };

export function pkhOf(scriptPubKey: Uint8Array): string | null {
  const h = p2pkhHash(scriptPubKey);
  return h ? toHex(h) : null;
}

/** A transaction's outputs as the wallet keeps them. */
export function outputSummaries(tx: Tx): TxoSummary[] {
  return tx.outputs.map((o) => ({ pkh: pkhOf(o.scriptPubKey), value: o.value.toString() }));
}

/** Net effect of a transaction on a set of pubkey hashes: outputs to them minus inputs from them. */
export function netFor(
  inputs: readonly TxoSummary[],
  outputs: readonly TxoSummary[],
  pkhs: ReadonlySet<string>,
): { net: bigint; spent: bigint; received: bigint } {
  let spent = 0n;
  let received = 0n;
  for (const i of inputs) if (i.pkh && pkhs.has(i.pkh)) spent += BigInt(i.value);
  for (const o of outputs) if (o.pkh && pkhs.has(o.pkh)) received += BigInt(o.value);
  return { net: received - spent, spent, received };
}

/** The payment journal of a chain store directory (DATADIR/chain -> DATADIR/payments.ndjson). */
export function paymentJournalPath(chainStoreDir: string): string {
  return join(dirname(chainStoreDir), 'payments.ndjson');
}

/**
 * Payments in the journal, the last line for a txid winning; lines that do not parse (a write
 * cut short by a crash) are skipped. Bounded by the file, which only `send` appends to.
 */
export function readPaymentJournal(chainStoreDir: string): PaymentRecord[] {
  let text: string;
  try {
    text = readFileSync(paymentJournalPath(chainStoreDir), 'utf8');
  } catch {
    return [];
  }
  const byId = new Map<string, PaymentRecord>();
  for (const line of text.split('\n')) {
    try {
      const p = JSON.parse(line) as PaymentRecord;
      if (typeof p?.txid === 'string' && typeof p.raw === 'string' && Array.isArray(p.inputs)) byId.set(p.txid, p);
    } catch {
      /* a torn last line */
    }
  }
  return [...byId.values()];
}

/** What the numbered steps of one WalletDb.applyBatch share. */
interface BatchContext {
  readonly keyset: ReadonlySet<string>;
  /** Failed payments that may be pending again once the batch is applied (step 4). */
  readonly revive: Set<string>;
  readonly now: number;
  /** Incoming payments by the outpoints they spend. */
  readonly incomingBySpend: ReadonlyMap<string, string>;
  /** Outpoints spent by the connected blocks (step 2), so step 3 tells a spend from a loss. */
  readonly spentHere: Set<string>;
}

export class WalletDb {
  private readonly meta;
  private readonly coins;
  private readonly payments;
  private readonly reserved;
  private readonly history;
  private readonly incoming;
  /** Filled by applyBatch; drained by whoever prints them. */
  readonly events: WalletEvent[] = [];

  constructor(readonly store: LmdbChainStore) {
    this.meta = store.openJson<unknown>('wallet-meta');
    this.coins = store.openJson<WalletCoin>('wallet-coins');
    this.payments = store.openJson<PaymentRecord>('wallet-payments');
    this.reserved = store.openJson<string>('wallet-reserved');
    this.history = store.openJson<HistoryRecord>('wallet-history');
    this.incoming = store.openJson<IncomingRecord>('wallet-incoming');
  }

  /** Opens the chain directory without its lock, for a short-lived command (see the header). */
  static openShared(chainDir: string): WalletDb {
    return new WalletDb(new LmdbChainStore(chainDir, 'mvb-wallet', { lock: false }));
  }

  /** Keeps the wallet in step with every chain commit from now on. */
  attachHook(): void {
    this.store.commitHooks.push((b) => this.applyBatch(b));
  }

  close(): void {
    this.store.close();
  }

  /** Runs f in one write transaction (serialised with every other writer, in any process). */
  write<T>(f: () => T): T {
    return this.store.root.transactionSync(f);
  }

  // ------------------------------------------------------------ reads

  keyset(): string[] {
    return (this.meta.get('keyset') as string[] | undefined) ?? [];
  }
  tip(): TipInfo | undefined {
    return this.meta.get('tip') as TipInfo | undefined;
  }
  bestHeard(): BestHeard | undefined {
    return this.meta.get('bestHeard') as BestHeard | undefined;
  }
  setBestHeard(b: BestHeard): void {
    this.write(() => this.meta.putSync('bestHeard', b));
  }
  walletCoins(): WalletCoin[] {
    return [...this.coins.getRange()].map((x) => x.value as WalletCoin);
  }
  payment(id: string): PaymentRecord | undefined {
    return this.payments.get(id);
  }
  allPayments(): PaymentRecord[] {
    return [...this.payments.getRange()].map((x) => x.value as PaymentRecord);
  }
  pendingPayments(): PaymentRecord[] {
    return this.allPayments().filter((p) => p.status === 'pending');
  }
  historyRecord(id: string): HistoryRecord | undefined {
    return this.history.get(id);
  }
  allHistory(): HistoryRecord[] {
    return [...this.history.getRange()].map((x) => x.value as HistoryRecord);
  }
  /** The payment (txid) holding an outpoint, if that payment is still pending. */
  pendingSpender(outpoint: string): string | undefined {
    const id = this.reserved.get(outpoint);
    if (id === undefined) return undefined;
    return this.payments.get(id)?.status === 'pending' ? id : undefined;
  }

  /** Every stored incoming payment, live or not (see incomingPending). */
  allIncoming(): IncomingRecord[] {
    return [...this.incoming.getRange()].map((x) => x.value as IncomingRecord);
  }
  incomingRecord(id: string): IncomingRecord | undefined {
    return this.incoming.get(id);
  }

  /**
   * Incoming payments that can still confirm: not mined yet, every input still unspent in the
   * chain's UTXO set, heard less than INCOMING_TTL_MS ago. Checked on reading too, so a stale +
   * never shows even when no sync has run since the chain or the clock moved on.
   */
  incomingPending(now = Date.now()): IncomingRecord[] {
    return this.allIncoming().filter((r) => this.incomingProblem(r, now) === undefined);
  }

  /** Why an incoming payment will not confirm as it is, or undefined while it still can. */
  private incomingProblem(r: IncomingRecord, now: number): { reason: 'mined' | 'missing' | 'expired'; detail: string } | undefined {
    if (this.history.get(r.txid)) return { reason: 'mined', detail: 'it is in a block already' };
    if (now - r.seenAt > INCOMING_TTL_MS)
      return { reason: 'expired', detail: `not mined within ${Math.round(INCOMING_TTL_MS / 3600_000)} h of being heard` };
    for (const i of r.inputs) {
      const o = parseOutpointKey(i.outpoint);
      if (this.store.getCoin(o.txid, o.vout) === undefined) {
        return { reason: 'missing', detail: `its input ${displayOutpointKey(i.outpoint)} is no longer unspent in the local chain` };
      }
    }
    return undefined;
  }

  /**
   * Stores a validated incoming payment (one write transaction), unless it is known already or
   * conflicts with one we know: an input held by a pending payment of ours or by an incoming
   * payment heard first (the first seen wins, as in a miner's mempool). Queues an 'incoming' event.
   */
  putIncoming(r: IncomingRecord): { stored: true } | { stored: false; reason: string } {
    return this.write(() => {
      if (this.incoming.get(r.txid)) return { stored: false, reason: 'known' };
      if (this.payments.get(r.txid)) return { stored: false, reason: 'our own payment' };
      if (this.history.get(r.txid)) return { stored: false, reason: 'mined already' };
      const mine = new Set(r.inputs.map((i) => i.outpoint));
      for (const i of r.inputs) {
        const p = this.pendingSpender(i.outpoint);
        if (p !== undefined) return { stored: false, reason: `conflicts with our pending payment ${p}` };
      }
      for (const other of this.allIncoming()) {
        if (other.inputs.some((i) => mine.has(i.outpoint)))
          return { stored: false, reason: `conflicts with incoming payment ${other.txid} heard first` };
      }
      this.incoming.putSync(r.txid, r);
      this.events.push({ kind: 'incoming', txid: r.txid, amount: BigInt(r.amount), pkhs: r.toPkhs, from: r.fromAddress });
      return { stored: true };
    });
  }

  /** Drops incoming payments that can no longer confirm (expired, inputs gone). Call inside write() or the hook. */
  private pruneIncomingNow(now: number): void {
    for (const r of this.allIncoming()) {
      const why = this.incomingProblem(r, now);
      if (!why) continue;
      this.incoming.removeSync(r.txid);
      if (why.reason === 'mined') {
        // Only after a rescan found it mined (the hook handles blocks as they connect).
        const h = this.history.get(r.txid)!;
        this.events.push({ kind: 'confirmed', txid: r.txid, block: h.block, incoming: { amount: BigInt(r.amount), pkhs: r.toPkhs } });
      } else {
        this.events.push({ kind: 'incoming-dropped', txid: r.txid, reason: why.reason, detail: why.detail });
      }
    }
  }

  /** Drops incoming payments that can no longer confirm; for sync's start and its timer. */
  pruneIncoming(now = Date.now()): void {
    if (this.allIncoming().every((r) => this.incomingProblem(r, now) === undefined)) return;
    this.write(() => this.pruneIncomingNow(now));
  }

  /** Stores a new pending payment and reserves its inputs. Call inside write(). */
  putPayment(p: PaymentRecord): void {
    if (this.payments.get(p.txid)) throw new Error(`payment ${p.txid} already exists`);
    this.payments.putSync(p.txid, p);
    for (const i of p.inputs) this.reserved.putSync(i.outpoint, p.txid);
  }

  /**
   * Appends a stored payment to the payment journal beside the chain store (one JSON line,
   * fsynced), so `resync` can keep payments when the store itself is damaged. Call after the
   * write transaction that stored it committed, before broadcasting.
   */
  journalPayment(p: PaymentRecord): void {
    const fd = openSync(paymentJournalPath(this.store.dir), 'a', 0o600);
    try {
      writeSync(fd, JSON.stringify(p) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  // ------------------------------------------------------------ the commit hook

  /**
   * Mirrors one chain commit into the wallet (inside the commit's transaction): disconnected
   * blocks put their payments back to pending, connected blocks confirm payments, record history
   * and fail pending payments whose inputs another transaction spent; coin changes keep the coin
   * index; a payment whose input vanished in a reorganisation fails, and comes back if it returns.
   */
  applyBatch(b: ChainBatch): void {
    const connected = b.connected ?? [];
    const disconnected = b.disconnected ?? [];
    if (!b.tip && connected.length === 0 && disconnected.length === 0 && b.coins.length === 0) return;
    const ctx = this.batchContext();
    this.applyDisconnected(disconnected, ctx); // 1
    this.applyConnected(b, connected, ctx); // 2
    this.applyCoinChanges(b, ctx); // 3
    this.reviveFailed(ctx); // 4
    // 5. At every tip change: incoming payments that can no longer confirm as they are (too old, or
    // an input no longer unspent for any other reason) are dropped, so a stale + never lingers.
    // Reads here see this transaction's writes: the UTXO set after the batch.
    if (b.tip) this.pruneIncomingNow(ctx.now);
    if (b.tip) this.recordTip(b, b.tip, connected); // 6
  }

  /** What the steps of one applyBatch share. */
  private batchContext(): BatchContext {
    // Incoming payments by the outpoints they spend (few: payments heard and not mined yet).
    const incomingBySpend = new Map<string, string>();
    for (const r of this.allIncoming()) for (const i of r.inputs) incomingBySpend.set(i.outpoint, r.txid);
    return { keyset: new Set(this.keyset()), revive: new Set(), now: Date.now(), incomingBySpend, spentHere: new Set() };
  }

  private dropIncoming(id: string, reason: 'conflict' | 'missing', detail: string): void {
    if (!this.incoming.get(id)) return;
    this.incoming.removeSync(id);
    this.events.push({ kind: 'incoming-dropped', txid: id, reason, detail });
  }

  /** 1. Disconnected blocks, newest first: their payments back to pending, their conflicts may revive. */
  private applyDisconnected(disconnected: NonNullable<ChainBatch['disconnected']>, ctx: BatchContext): void {
    for (const { entry, block } of disconnected) {
      for (const tx of block.txs) {
        const id = hashToHex(txid(tx));
        this.history.removeSync(id);
        const p = this.payments.get(id);
        if (p?.status === 'confirmed') {
          const { block: _gone, ...rest } = p;
          this.payments.putSync(id, { ...rest, status: 'pending' });
          this.events.push({ kind: 'unconfirmed', txid: id, height: entry.height });
        }
        if (isCoinbase(tx)) continue;
        for (const inp of tx.inputs) {
          const r = this.reserved.get(outpointKey(inp.prevTxid, inp.vout));
          if (r === undefined || r === id) continue;
          const q = this.payments.get(r);
          if (q?.status === 'failed' && q.failure?.conflictTxid === id) ctx.revive.add(r);
        }
      }
    }
  }

  /** 2. Connected blocks, oldest first. Undo data says what each input spent. */
  private applyConnected(b: ChainBatch, connected: NonNullable<ChainBatch['connected']>, ctx: BatchContext): void {
    const undoByHash = new Map(b.undo.map((u) => [toHex(u.hash), u.spent]));
    for (const { entry, block } of connected) {
      const undo = undoByHash.get(entry.hashHex) ?? [];
      const cursor = { u: 0 };
      const ref: BlockRef = { hash: hashToHex(entry.hash), height: entry.height, time: entry.header.time };
      block.txs.forEach((tx, i) => {
        const id = hashToHex(txid(tx));
        const inputs = i === 0 ? [] : this.connectInputs(tx, id, entry.height, undo, cursor, ctx);
        this.connectTx(tx, id, i === 0, inputs, ref, ctx);
      });
    }
  }

  /** 2a. A connected transaction's inputs: what they spent, and the payments they conflict with. */
  private connectInputs(
    tx: Tx,
    id: string,
    height: number,
    undo: readonly { value: bigint; scriptPubKey: Uint8Array }[],
    cursor: { u: number },
    ctx: BatchContext,
  ): TxoSummary[] {
    const inputs: TxoSummary[] = [];
    for (const inp of tx.inputs) {
      const k = outpointKey(inp.prevTxid, inp.vout);
      ctx.spentHere.add(k);
      const coin = undo[cursor.u++];
      inputs.push(coin ? { pkh: pkhOf(coin.scriptPubKey), value: coin.value.toString() } : { pkh: null, value: '0' });
      const inc = ctx.incomingBySpend.get(k);
      if (inc !== undefined && inc !== id) {
        // A double spend was mined: the incoming payment can never confirm.
        this.dropIncoming(inc, 'conflict', `its input ${displayOutpoint(inp.prevTxid, inp.vout)} was spent by ${id} in block ${height}`);
      }
      const r = this.reserved.get(k);
      if (r === undefined || r === id) continue;
      const q = this.payments.get(r);
      if (!q || q.status === 'confirmed') continue;
      const detail = `its input ${displayOutpoint(inp.prevTxid, inp.vout)} was spent by ${id} in block ${height}`;
      this.payments.putSync(r, { ...q, status: 'failed', failure: { kind: 'conflict', detail, conflictTxid: id, at: ctx.now } });
      if (q.status === 'pending') this.events.push({ kind: 'failed', txid: r, detail });
      ctx.revive.delete(r);
    }
    return inputs;
  }

  /** 2b. A connected transaction: history, our payment or an incoming one confirmed, coins received. */
  private connectTx(tx: Tx, id: string, coinbase: boolean, inputs: TxoSummary[], ref: BlockRef, ctx: BatchContext): void {
    const { keyset } = ctx;
    const outputs = outputSummaries(tx);
    const p = this.payments.get(id);
    const inc = this.incoming.get(id);
    const touches = inputs.some((x) => x.pkh !== null && keyset.has(x.pkh)) || outputs.some((x) => x.pkh !== null && keyset.has(x.pkh));
    if (touches || p) this.history.putSync(id, { txid: id, block: ref, coinbase, inputs, outputs });
    if (inc) {
      // An incoming payment mined: from now on a confirmed coin and a history entry.
      this.incoming.removeSync(id);
      if (!p) {
        this.events.push({ kind: 'confirmed', txid: id, block: ref, incoming: { amount: BigInt(inc.amount), pkhs: inc.toPkhs } });
        return;
      }
    }
    if (p) {
      if (p.status !== 'confirmed') {
        const { failure: _f, ...rest } = p;
        this.payments.putSync(id, { ...rest, status: 'confirmed', block: ref });
        this.events.push({ kind: 'confirmed', txid: id, block: ref });
      }
      ctx.revive.delete(id);
    } else if (touches) {
      const { net } = netFor(inputs, outputs, keyset);
      if (net > 0n) {
        const pkhs = [...new Set(outputs.filter((o) => o.pkh !== null && keyset.has(o.pkh)).map((o) => o.pkh!))];
        this.events.push({ kind: 'received', txid: id, amount: net, pkhs, block: ref, coinbase });
      }
    }
  }

  /** 3. The coin index follows the chain's UTXO changes. */
  private applyCoinChanges(b: ChainBatch, ctx: BatchContext): void {
    for (const c of b.coins) {
      const k = outpointKey(c.txid, c.vout);
      if (c.coin === null) {
        this.coins.removeSync(k);
        if (ctx.spentHere.has(k)) continue;
        const inc = ctx.incomingBySpend.get(k);
        if (inc !== undefined)
          this.dropIncoming(inc, 'missing', `its input ${displayOutpoint(c.txid, c.vout)} no longer exists (a reorganisation removed it)`);
        // Gone without being spent here: the block that created it was disconnected.
        const r = this.reserved.get(k);
        const q = r === undefined ? undefined : this.payments.get(r);
        if (q?.status === 'pending') {
          const detail = `its input ${displayOutpoint(c.txid, c.vout)} no longer exists (a reorganisation removed it)`;
          this.payments.putSync(q.txid, { ...q, status: 'failed', failure: { kind: 'missing', detail, at: ctx.now } });
          this.events.push({ kind: 'failed', txid: q.txid, detail });
        }
      } else {
        const pkh = pkhOf(c.coin.scriptPubKey);
        if (pkh === null || !ctx.keyset.has(pkh)) continue;
        this.coins.putSync(k, { outpoint: k, value: c.coin.value.toString(), height: c.coin.height, coinbase: c.coin.coinbase, pkh });
        const r = this.reserved.get(k);
        if (r !== undefined && this.payments.get(r)?.status === 'failed') ctx.revive.add(r);
      }
    }
  }

  /** 4. Failed payments whose inputs are all unspent again (the conflict or the loss was undone). */
  private reviveFailed(ctx: BatchContext): void {
    for (const id of ctx.revive) {
      const q = this.payments.get(id);
      if (q?.status !== 'failed') continue;
      const ok = q.inputs.every((i) => this.coins.get(i.outpoint) !== undefined && (this.reserved.get(i.outpoint) ?? id) === id);
      if (!ok) continue;
      const { failure: _f, ...rest } = q;
      this.payments.putSync(id, { ...rest, status: 'pending' });
      this.events.push({ kind: 'revived', txid: id });
    }
  }

  /** 6. The tip, so commands that do not load the chain know its height. */
  private recordTip(b: ChainBatch, tip: Uint8Array, connected: NonNullable<ChainBatch['connected']>): void {
    const tipHex = toHex(tip);
    const last = connected[connected.length - 1]?.entry;
    if (last && last.hashHex === tipHex) {
      this.meta.putSync('tip', { hash: hashToHex(last.hash), height: last.height, time: last.header.time } satisfies TipInfo);
    } else {
      const rec = b.entries.find((e) => toHex(e.hash) === tipHex);
      if (rec) this.meta.putSync('tip', { hash: hashToHex(rec.hash), height: rec.height, time: rec.header.time } satisfies TipInfo);
    }
  }

  // ------------------------------------------------------------ (re)scanning

  /**
   * Makes the index cover exactly these pubkey hashes. Keys added since the last run (an imported
   * key that was paid before, a wallet restored from its key files) are looked up in the chain's
   * UTXO set and their history in the active chain's blocks; removed keys' coins are dropped. If
   * the index does not describe the chain's tip (the chain moved without the wallet), everything is
   * rebuilt. Returns what changed; a no-op costs two reads.
   */
  ensureIndex(pkhs: Iterable<string>): { added: number; removed: number; rebuilt: boolean } {
    const want = [...new Set(pkhs)].sort();
    const quick = this.compare(want);
    if (!quick.stale && quick.added.length === 0 && quick.removed.length === 0) return { added: 0, removed: 0, rebuilt: false };
    return this.write(() => {
      const { added, removed, stale } = this.compare(want);
      const rebuild = stale;
      const addSet = new Set(rebuild ? want : added);
      if (rebuild) {
        for (const { key } of this.coins.getRange()) this.coins.removeSync(key);
        for (const { key } of this.history.getRange()) this.history.removeSync(key);
      } else if (removed.length) {
        const rm = new Set(removed);
        for (const { key, value } of this.coins.getRange()) if (rm.has((value as WalletCoin).pkh)) this.coins.removeSync(key);
      }
      if (addSet.size) {
        for (const { txid: id, vout, coin } of this.store.allCoins()) {
          const pkh = pkhOf(coin.scriptPubKey);
          if (pkh === null || !addSet.has(pkh)) continue;
          const k = outpointKey(id, vout);
          this.coins.putSync(k, { outpoint: k, value: coin.value.toString(), height: coin.height, coinbase: coin.coinbase, pkh });
        }
      }
      const tip = this.scanHistory(addSet, rebuild);
      if (tip) this.meta.putSync('tip', tip);
      if (rebuild) this.reconcilePayments();
      this.meta.putSync('keyset', want);
      return { added: addSet.size, removed: removed.length, rebuilt: rebuild };
    });
  }

  /** A fresh random key: nothing can have paid it yet, so the index covers it as it is. */
  registerFreshKey(pkh: string): void {
    this.write(() => {
      const have = new Set(this.keyset());
      have.add(pkh);
      this.meta.putSync('keyset', [...have].sort());
    });
  }

  private compare(want: string[]): { added: string[]; removed: string[]; stale: boolean } {
    const have = this.keyset();
    const haveSet = new Set(have);
    const wantSet = new Set(want);
    const chainTip = this.store.getTip();
    const tip = this.tip();
    const stale = chainTip !== undefined && tip?.hash !== hashToHex(chainTip);
    return { added: want.filter((k) => !haveSet.has(k)), removed: have.filter((k) => !wantSet.has(k)), stale };
  }

  /** Walks the active chain from genesis; records transactions touching pkhs. Returns the tip. */
  private scanHistory(pkhs: ReadonlySet<string>, all: boolean): TipInfo | undefined {
    const tipHash = this.store.getTip();
    if (!tipHash) return undefined;
    const hashes: Uint8Array[] = [];
    for (let h: Uint8Array | undefined = tipHash; h;) {
      hashes.push(h);
      const blk = this.store.getBlock(h);
      if (!blk) throw new Error(`block ${hashToHex(h)} missing from the chain store`);
      h = blk.header.prevHash.every((x) => x === 0) ? undefined : blk.header.prevHash;
    }
    hashes.reverse();
    let tip: TipInfo | undefined;
    hashes.forEach((hash, height) => {
      const block = this.store.getBlock(hash)!;
      const ref: BlockRef = { hash: hashToHex(hash), height, time: block.header.time };
      tip = ref;
      if (height === 0 || pkhs.size === 0) return;
      const undo = this.store.getUndo(hash) ?? [];
      let u = 0;
      block.txs.forEach((tx, i) => {
        const inputs: TxoSummary[] = [];
        if (i > 0) {
          for (let k = 0; k < tx.inputs.length; k++) {
            const coin = undo[u++];
            inputs.push(coin ? { pkh: pkhOf(coin.scriptPubKey), value: coin.value.toString() } : { pkh: null, value: '0' });
          }
        }
        const outputs = outputSummaries(tx);
        const id = hashToHex(txid(tx));
        const touches = inputs.some((x) => x.pkh !== null && pkhs.has(x.pkh)) || outputs.some((x) => x.pkh !== null && pkhs.has(x.pkh));
        if ((touches || (all && this.payments.get(id))) && (all || !this.history.get(id))) {
          this.history.putSync(id, { txid: id, block: ref, coinbase: i === 0, inputs, outputs });
        }
      });
    });
    return tip;
  }

  /** After a rebuild: payment statuses from the rebuilt history. */
  private reconcilePayments(): void {
    for (const p of this.allPayments()) {
      const h = this.history.get(p.txid);
      if (h && (p.status !== 'confirmed' || p.block?.hash !== h.block.hash)) {
        const { failure: _f, ...rest } = p;
        this.payments.putSync(p.txid, { ...rest, status: 'confirmed', block: h.block });
      } else if (!h && p.status === 'confirmed') {
        const { block: _b, ...rest } = p;
        this.payments.putSync(p.txid, { ...rest, status: 'pending' });
      }
    }
  }
}

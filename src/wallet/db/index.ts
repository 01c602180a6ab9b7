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
//                    conflicted, or expire (see ../incoming.ts)
//
// This module opens them (WalletDb) and is what callers import; the ideas live beside it: the
// record types and their summaries (records.ts; names and shapes in the store schema, shared with
// the tools that read a wallet's datadir), the tables opened together (tables.ts), the payment
// journal (journal.ts), incoming payments as stored (incoming-store.ts), the commit hook that
// keeps the coin index as blocks connect and disconnect (chain-hook.ts), and rescanning
// (rescan.ts). The sync process keeps the tables current from that hook (it runs inside the chain's
// commit transaction, so a kill at any moment leaves chain and wallet agreeing), and stores each
// incoming payment it hears and validates in a write transaction of its own.
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
import type { ChainBatch } from '../../shared/core/chain.js';
import { LmdbChainStore } from '../../shared/node/store/lmdb-store.js';
import { applyBatch } from './chain-hook.js';
import { incomingProblem, pruneIncomingNow, storeIncoming } from './incoming-store.js';
import { appendPaymentJournal } from './journal.js';
import type { BestHeard, HistoryRecord, IncomingRecord, PaymentRecord, TipInfo, WalletCoin, WalletEvent } from './records.js';
import { ensureIndex, registerFreshKey } from './rescan.js';
import type { ReorgNotice } from '../../shared/node/store/schema.js';
import {
  type WalletTables,
  allIncoming,
  allPayments,
  openWalletTables,
  reorgNotices,
  pendingSpender,
  storedKeyset,
  storedTip,
  writeTx,
} from './tables.js';

export * from './records.js';
export { paymentJournalPath, readPaymentJournal } from './journal.js';

export class WalletDb {
  private readonly t: WalletTables;
  /** Filled by applyBatch and putIncoming; drained by whoever prints them. */
  readonly events: WalletEvent[];

  constructor(readonly store: LmdbChainStore) {
    this.t = openWalletTables(store);
    this.events = this.t.events;
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
    return writeTx(this.t, f);
  }

  // ------------------------------------------------------------ reads

  keyset(): string[] {
    return storedKeyset(this.t);
  }
  tip(): TipInfo | undefined {
    return storedTip(this.t);
  }
  bestHeard(): BestHeard | undefined {
    return this.t.meta.get('bestHeard') as BestHeard | undefined;
  }
  setBestHeard(b: BestHeard): void {
    this.write(() => this.t.meta.putSync('bestHeard', b));
  }
  walletCoins(): WalletCoin[] {
    return [...this.t.coins.getRange()].map((x) => x.value as WalletCoin);
  }
  payment(id: string): PaymentRecord | undefined {
    return this.t.payments.get(id);
  }
  allPayments(): PaymentRecord[] {
    return allPayments(this.t);
  }
  /** What the last reorganisations did to this wallet, oldest first (at most MAX_REORG_NOTICES). */
  reorgNotices(): ReorgNotice[] {
    return reorgNotices(this.t);
  }
  pendingPayments(): PaymentRecord[] {
    return this.allPayments().filter((p) => p.status === 'pending');
  }
  historyRecord(id: string): HistoryRecord | undefined {
    return this.t.history.get(id);
  }
  allHistory(): HistoryRecord[] {
    return [...this.t.history.getRange()].map((x) => x.value as HistoryRecord);
  }
  /** The payment (txid) holding an outpoint, if that payment is still pending. */
  pendingSpender(outpoint: string): string | undefined {
    return pendingSpender(this.t, outpoint);
  }

  /** Every stored incoming payment, live or not (see incomingPending). */
  allIncoming(): IncomingRecord[] {
    return allIncoming(this.t);
  }
  incomingRecord(id: string): IncomingRecord | undefined {
    return this.t.incoming.get(id);
  }

  /**
   * Incoming payments that can still confirm: not mined yet, every input still unspent in the
   * chain's UTXO set, heard less than INCOMING_TTL_MS ago. Checked on reading too, so a stale +
   * never shows even when no sync has run since the chain or the clock moved on.
   */
  incomingPending(now = Date.now()): IncomingRecord[] {
    return this.allIncoming().filter((r) => incomingProblem(this.t, r, now) === undefined);
  }

  // ------------------------------------------------------------ writes

  /**
   * Stores a validated incoming payment (one write transaction), unless it is known already or
   * conflicts with one we know: an input held by a pending payment of ours or by an incoming
   * payment heard first (the first seen wins, as in a miner's mempool). Queues an 'incoming' event.
   */
  putIncoming(r: IncomingRecord): { stored: true } | { stored: false; reason: string } {
    return this.write(() => storeIncoming(this.t, r));
  }

  /** Drops incoming payments that can no longer confirm; for sync's start and its timer. */
  pruneIncoming(now = Date.now()): void {
    if (this.allIncoming().every((r) => incomingProblem(this.t, r, now) === undefined)) return;
    this.write(() => pruneIncomingNow(this.t, now));
  }

  /** Stores a new pending payment and reserves its inputs. Call inside write(). */
  putPayment(p: PaymentRecord): void {
    if (this.t.payments.get(p.txid)) throw new Error(`payment ${p.txid} already exists`);
    this.t.payments.putSync(p.txid, p);
    for (const i of p.inputs) this.t.reserved.putSync(i.outpoint, p.txid);
  }

  /**
   * Appends a stored payment to the payment journal beside the chain store (one JSON line,
   * fsynced), so `resync` can keep payments when the store itself is damaged. Call after the
   * write transaction that stored it committed, before broadcasting.
   */
  journalPayment(p: PaymentRecord): void {
    appendPaymentJournal(this.store.dir, p);
  }

  /** Mirrors one chain commit into the wallet, inside the commit's transaction (chain-hook.ts). */
  applyBatch(b: ChainBatch): void {
    applyBatch(this.t, b);
  }

  // ------------------------------------------------------------ (re)scanning (rescan.ts)

  /** Makes the index cover exactly these pubkey hashes (rebuilding it if stale); returns what changed. */
  ensureIndex(pkhs: Iterable<string>): { added: number; removed: number; rebuilt: boolean } {
    return ensureIndex(this.t, pkhs);
  }

  /** A fresh random key: nothing can have paid it yet, so the index covers it as it is. */
  registerFreshKey(pkh: string): void {
    registerFreshKey(this.t, pkh);
  }
}

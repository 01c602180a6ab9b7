// The wallet's named databases in the chain's own LMDB environment, opened together, so that the
// commit hook, the rescan and the incoming store (each a module of its own) work on the same
// handles as WalletDb, plus the few reads they all need. Names and record shapes come from the
// store schema (src/shared/node/store/schema.ts), which the readers in src/tools share.
import type { Database } from 'lmdb';
import type { LmdbChainStore } from '../../shared/node/store/lmdb-store.js';
import { type AppDatabases, type ReorgNotice, openAppDb } from '../../shared/node/store/schema.js';
import type { IncomingRecord, PaymentRecord, TipInfo, WalletEvent } from './records.js';

type Table<N extends keyof AppDatabases> = Database<AppDatabases[N], string>;

export interface WalletTables {
  readonly store: LmdbChainStore;
  /** keyset (pubkey hashes the index is complete for), tip, best height heard. */
  readonly meta: Table<'wallet-meta'>;
  readonly coins: Table<'wallet-coins'>;
  readonly payments: Table<'wallet-payments'>;
  readonly reserved: Table<'wallet-reserved'>;
  readonly history: Table<'wallet-history'>;
  readonly incoming: Table<'wallet-incoming'>;
  readonly reorgs: Table<'wallet-reorgs'>;
  /** Filled by the hook and the incoming store; drained by whoever prints them. */
  readonly events: WalletEvent[];
}

export function openWalletTables(store: LmdbChainStore): WalletTables {
  return {
    store,
    meta: openAppDb(store, 'wallet-meta'),
    coins: openAppDb(store, 'wallet-coins'),
    payments: openAppDb(store, 'wallet-payments'),
    reserved: openAppDb(store, 'wallet-reserved'),
    history: openAppDb(store, 'wallet-history'),
    incoming: openAppDb(store, 'wallet-incoming'),
    reorgs: openAppDb(store, 'wallet-reorgs'),
    events: [],
  };
}

/** The pubkey hashes the coin index is complete for. */
export function storedKeyset(t: WalletTables): string[] {
  return (t.meta.get('keyset') as string[] | undefined) ?? [];
}

/** Every stored incoming payment, live or not. */
export function allIncoming(t: WalletTables): IncomingRecord[] {
  return [...t.incoming.getRange()].map((x) => x.value as IncomingRecord);
}

/** The payment (txid) holding an outpoint, if that payment is still pending. */
export function pendingSpender(t: WalletTables, outpoint: string): string | undefined {
  const id = t.reserved.get(outpoint);
  if (id === undefined) return undefined;
  return t.payments.get(id)?.status === 'pending' ? id : undefined;
}

/** The chain tip the index describes. */
export function storedTip(t: WalletTables): TipInfo | undefined {
  return t.meta.get('tip') as TipInfo | undefined;
}

/** The reorganisation notices kept, oldest first. */
export function reorgNotices(t: WalletTables): ReorgNotice[] {
  return [...t.reorgs.getRange()].map((x) => x.value as ReorgNotice);
}

export function allPayments(t: WalletTables): PaymentRecord[] {
  return [...t.payments.getRange()].map((x) => x.value as PaymentRecord);
}

/** Runs f in one write transaction (serialised with every other writer, in any process). */
export function writeTx<T>(t: WalletTables, f: () => T): T {
  return t.store.root.transactionSync(f);
}

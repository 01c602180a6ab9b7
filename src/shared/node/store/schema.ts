// The named databases that apps keep beside the chain in its LMDB environment (DATADIR/chain),
// and what each record holds. One app writes them (the wallet its wallet-*, the explorer its
// explorer-*) and others read them (`mvb verify`, `mvb inspect`); apps never import each other,
// so the names and record shapes live here, in the node layer, where writer and readers both
// import them and cannot drift apart. A name is typed by its record: openAppDb(store, name)
// gives a database of that record, and a misspelt name does not compile.
//
// Records are JSON (the store's openJson). Amounts are decimal strings of base units (JSON has
// no bigint); hashes and txids are hex in display order unless said otherwise. Readers of another
// app's records treat them as untrusted (the file may be damaged) and check what they use.
import type { Database } from 'lmdb';
import type { LmdbChainStore } from './lmdb-store.js';

// ------------------------------------------------------------ the wallet's (writer: src/wallet/db)

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

/** wallet-payments: a payment we made, keyed by txid. */
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
 * wallet-incoming: a payment to our keys that is not ours and not mined yet, heard on the
 * transaction port by `sync` and valid against our chain's UTXO set at the time; keyed by txid.
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

/** wallet-history: a mined transaction that touches our keys, with its block; keyed by txid. */
/**
 * wallet-reorgs: what a reorganisation did to this wallet, kept to say why a balance changed
 * (list-addresses, history, sync). Amounts are base units as decimal strings.
 */
export interface ReorgNotice {
  /** Milliseconds since 1970 when the wallet saw it. */
  readonly at: number;
  /** The blocks that left the best chain, newest first. */
  readonly left: readonly { readonly hash: string; readonly height: number }[];
  /** The wallet's balance change from transactions of those blocks that are not in the new chain (negative: lost). */
  readonly change: string;
  /** Of that, mined rewards (coinbases) that are gone. */
  readonly rewardsLost: string;
  /** Payments of ours the blocks held that are pending again (they may be mined again). */
  readonly pendingAgain: readonly string[];
  /** Other transactions for us that left with the blocks and did not come back (incoming payments). */
  readonly gone: readonly string[];
}

export interface HistoryRecord {
  readonly txid: string;
  readonly block: BlockRef;
  readonly coinbase: boolean;
  readonly inputs: readonly TxoSummary[];
  readonly outputs: readonly TxoSummary[];
}

/** wallet-coins: one of our unspent outputs, keyed by its outpointKey. */
export interface WalletCoin {
  readonly outpoint: string;
  readonly value: string;
  readonly height: number;
  readonly coinbase: boolean;
  readonly pkh: string;
}

/** wallet-meta 'tip': the chain tip the wallet's index describes. */
export interface TipInfo {
  readonly hash: string;
  readonly height: number;
  readonly time: number;
}

/** wallet-meta 'bestHeard': the best chain peers announced. */
export interface BestHeard {
  readonly height: number;
  readonly chainWork: string;
  readonly tip: string;
  readonly peers: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

// ------------------------------------------------------------ the explorer's (writer: src/explorer)

/** explorer-txs: where a confirmed transaction is, keyed by txid. */
export interface TxLocation {
  readonly block: string;
  readonly height: number;
  readonly pos: number;
}

/** explorer-spends: who spent an output, keyed by `${txid}:${vout}`. */
export interface SpendRecord {
  readonly txid: string;
  readonly vin: number;
  readonly height: number;
  readonly block: string;
  /** The output it spent (from the block's undo data), so prevouts resolve without reading the old block. */
  readonly value: string;
  readonly script: string;
}

/** explorer-addr-stats: an address's totals (Esplora's chain_stats), keyed by pkh. */
export interface AddressStats {
  funded_txo_count: number;
  funded_txo_sum: number;
  spent_txo_count: number;
  spent_txo_sum: number;
  tx_count: number;
}

/** explorer-utxos: a coin of an address, keyed by `${pkh}:${txid}:${vout}`. */
export interface UtxoRecord {
  readonly value: string;
  readonly height: number;
  readonly block: string;
}

/** explorer-reorgs: a reorganisation seen, keyed by its zero-padded sequence number. */
export interface ReorgRecord {
  readonly seq: number;
  readonly at: number;
  readonly forkHeight: number;
  /** Newest first. */
  readonly disconnected: { hash: string; height: number }[];
  /** Oldest first. */
  readonly connected: { hash: string; height: number }[];
}

/** explorer-mempool: the pool as the explorer last saw it, keyed by txid (display order). */
export interface PersistedMempoolTx {
  readonly raw: string;
  readonly fee: string;
  readonly size: number;
  readonly seenAt: number;
}

// ------------------------------------------------------------ the light wallet's (writer: src/wallet/light, in DATADIR/light)

/** light-txs: a transaction the light wallet proved in its best header chain, keyed by txid (display hex). */
export interface LightTxRecord {
  readonly txid: string;
  /** The raw transaction as served and checked against the txid. */
  readonly raw: string;
  readonly height: number;
  /** The header's hash at that height when it was proven (display order). */
  readonly block: string;
  readonly pos: number;
  /** The Merkle branch, display-order hex, leaf level first: rechecked against the headers on every read. */
  readonly merkle: readonly string[];
}

/** light-sent: a payment the light wallet made, until it is proven mined; keyed by txid. */
export interface LightSentRecord {
  readonly txid: string;
  readonly raw: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

// ------------------------------------------------------------ names and their records

/** Every app database by name, with the record it holds (unknown: keyed values of several shapes). */
export interface AppDatabases {
  /** 'keyset' (string[]: the pubkey hashes the index is complete for), 'tip' (TipInfo), 'bestHeard' (BestHeard). */
  'wallet-meta': unknown;
  'wallet-coins': WalletCoin;
  'wallet-payments': PaymentRecord;
  /** outpointKey -> txid of the payment that spends it (pending or settled). */
  'wallet-reserved': string;
  'wallet-history': HistoryRecord;
  'wallet-incoming': IncomingRecord;
  /** Zero-padded sequence -> what a reorganisation changed (the last MAX_REORG_NOTICES). */
  'wallet-reorgs': ReorgNotice;
  'explorer-txs': TxLocation;
  'explorer-spends': SpendRecord;
  /** `${pkh}:${height}:${pos}` -> txid: an address's confirmed transactions in chain order. */
  'explorer-addr-txs': string;
  'explorer-utxos': UtxoRecord;
  'explorer-addr-stats': AddressStats;
  'explorer-reorgs': ReorgRecord;
  /** 'indexedTip' and the like. */
  'explorer-meta': unknown;
  'explorer-mempool': PersistedMempoolTx;
  /** `s:${scripthash}` or `a:${address}` -> pkh: the names an Esplora client asks for a holder by. */
  'explorer-names': string;
  'light-txs': LightTxRecord;
  'light-sent': LightSentRecord;
}

export type AppDbName = keyof AppDatabases;

/** Opens (creating if the store is writable and it is missing) one app database, typed by its name. */
export function openAppDb<N extends AppDbName>(store: LmdbChainStore, name: N): Database<AppDatabases[N], string> {
  return store.openJson<AppDatabases[N]>(name);
}

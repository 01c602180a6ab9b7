// A scripthash's history as the Electrum protocol (1.4, "blockchain.scripthash.get_history" and
// "Status") defines it: its confirmed transactions in blockchain order (height, then position in
// the block), then its pool transactions, each with height 0 when every input is confirmed and -1
// when one spends another pool transaction (ordered 0s first, then by txid, as ElectrumX does).
// The status is SHA-256 of the concatenated "tx_hash:height:" strings, in hex; null with no
// history. The pool side comes from one index of the pool (scripthash -> its pool transactions),
// built once per pool change, so a thousand subscriptions cost one pass over the pool, not a
// thousand.
import { hashToHex, toHex } from '../../shared/core/bytes.js';
import { sha256 } from '../../shared/core/hash.js';
import type { Lookups } from '../lookups.js';
import { scripthashOf } from '../indexes.js';
import { RpcError, SERVER_BUSY } from './rpc.js';

/** Transactions one history may list (ElectrumX refuses longer ones, "history too large"). */
export const MAX_HISTORY = 5000;

export interface HistoryItem {
  readonly tx_hash: string;
  readonly height: number;
  /** Pool transactions only: the fee in base units. */
  readonly fee?: number;
}

/** Each scripthash the pool pays or spends from, with those pool transactions. */
export type PoolIndex = ReadonlyMap<string, readonly HistoryItem[]>;

export function buildPoolIndex(l: Lookups): PoolIndex {
  const out = new Map<string, HistoryItem[]>();
  for (const e of l.ex.mempool.all()) {
    const touched = new Set<string>();
    let unconfirmedParent = false;
    for (const o of e.tx.outputs) touched.add(scripthashOf(o.scriptPubKey));
    for (const i of e.tx.inputs) {
      if (l.ex.mempool.get(i.prevTxid)) unconfirmedParent = true;
      const prev = l.view.prevout(i.prevTxid, i.vout);
      if (prev) touched.add(scripthashOf(prev.scriptPubKey));
    }
    const item = { tx_hash: hashToHex(e.txid), height: unconfirmedParent ? -1 : 0, fee: Number(e.fee) };
    for (const sh of touched) {
      let list = out.get(sh);
      if (!list) out.set(sh, (list = []));
      list.push(item);
    }
  }
  for (const list of out.values()) list.sort((a, b) => b.height - a.height || (a.tx_hash < b.tx_hash ? -1 : 1));
  return out;
}

/** The confirmed part: the address index's keys are `${pkh}:${height}:${pos}`, so a range read is blockchain order. */
function confirmedHistory(l: Lookups, scripthash: string): HistoryItem[] {
  const pkh = l.ex.indexes.pkhOfScripthash(scripthash);
  if (pkh === undefined) return [];
  const out: HistoryItem[] = [];
  for (const { key, value } of l.ex.indexes.addrTxs.getRange({ start: `${pkh}:`, end: `${pkh};` })) {
    if (out.length >= MAX_HISTORY) throw new RpcError(SERVER_BUSY, `history too large: more than ${MAX_HISTORY} transactions`);
    out.push({ tx_hash: value, height: Number(key.split(':')[1]) });
  }
  return out;
}

export function history(l: Lookups, pool: PoolIndex, scripthash: string): HistoryItem[] {
  const all = [...confirmedHistory(l, scripthash), ...(pool.get(scripthash) ?? [])];
  if (all.length > MAX_HISTORY) throw new RpcError(SERVER_BUSY, `history too large: more than ${MAX_HISTORY} transactions`);
  return all;
}

/** The protocol's status of a history: null when empty. */
export function statusOf(items: readonly HistoryItem[]): string | null {
  if (items.length === 0) return null;
  return toHex(sha256(new TextEncoder().encode(items.map((i) => `${i.tx_hash}:${i.height}:`).join(''))));
}

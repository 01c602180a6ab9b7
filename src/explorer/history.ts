// One holder's history, as Esplora's /address and /scripthash families answer it: a holder is a
// P2PKH address or a scripthash (SHA-256 of a scriptPubKey, reversed hex), known to the confirmed
// indexes by its pubkey hash and to the pool by a match on output and prevout scripts. So a
// descriptor-style client that knows only scriptPubKeys finds the same history an address does,
// and a scripthash the chain never paid (or a non-P2PKH script) still finds its pool transactions.
import { hashToHex, toHex } from '../shared/core/bytes.js';
import { p2pkhHash } from '../shared/core/script.js';
import type { Tx } from '../shared/core/tx.js';
import { emptyStats, scripthashOf } from './indexes.js';
import type { AddressStats } from '../shared/node/store/schema.js';
import type { Lookups } from './lookups.js';
import { notFound } from './params.js';

/** Esplora's page sizes for a holder's lists. */
export const TXS_PER_PAGE = 25;
export const MEMPOOL_TXS_PER_ADDRESS = 50;
/** Unspent outputs listed at most (electrs's default utxos_limit is 500; ours is the old bound). */
export const MAX_UTXOS = 1000;

export interface Holder {
  /** Esplora's key field: { address } or { scripthash }. */
  readonly name: Record<string, string>;
  /** The pubkey hash the confirmed indexes know it by; undefined when the chain never paid it. */
  readonly pkh?: string;
  readonly matches: (scriptPubKey: Uint8Array) => boolean;
}

export function addressHolder(address: string, pkh: string): Holder {
  return {
    name: { address },
    pkh,
    matches: (spk) => {
      const h = p2pkhHash(spk);
      return h !== undefined && toHex(h) === pkh;
    },
  };
}

export function scripthashHolder(l: Lookups, scripthash: string): Holder {
  return { name: { scripthash }, pkh: l.ex.indexes.pkhOfScripthash(scripthash), matches: (spk) => scripthashOf(spk) === scripthash };
}

/** The holder's pool transactions, newest first, with what each pays it and spends of its. */
function poolMatches(l: Lookups, h: Holder): { tx: Tx; funded: number[]; spent: number[] }[] {
  const out: { tx: Tx; funded: number[]; spent: number[] }[] = [];
  for (const e of l.ex.mempool.all().sort((a, b) => b.seq - a.seq)) {
    const funded = e.tx.outputs.filter((o) => h.matches(o.scriptPubKey)).map((o) => Number(o.value));
    const spent: number[] = [];
    for (const i of e.tx.inputs) {
      const prev = l.view.prevout(i.prevTxid, i.vout);
      if (prev && h.matches(prev.scriptPubKey)) spent.push(Number(prev.value));
    }
    if (funded.length || spent.length) out.push({ tx: e.tx, funded, spent });
  }
  return out;
}

/** Esplora's /address/:a and /scripthash/:h: chain and pool statistics. */
export function holderJson(l: Lookups, h: Holder): Record<string, unknown> {
  const chain: AddressStats = (h.pkh !== undefined ? l.ex.indexes.stats.get(h.pkh) : undefined) ?? emptyStats();
  const mem = emptyStats();
  for (const m of poolMatches(l, h)) {
    mem.tx_count++;
    mem.funded_txo_count += m.funded.length;
    mem.funded_txo_sum += m.funded.reduce((a, v) => a + v, 0);
    mem.spent_txo_count += m.spent.length;
    mem.spent_txo_sum += m.spent.reduce((a, v) => a + v, 0);
  }
  return { ...h.name, chain_stats: chain, mempool_stats: mem };
}

/** Confirmed transactions, newest first, a page after `after` (a txid of this history). */
export function holderChain(l: Lookups, h: Holder, after?: string): unknown[] {
  const notInHistory = () => notFound('last seen txid not found in this history');
  if (h.pkh === undefined) return after === undefined ? [] : notInHistory();
  const ids = l.ex.indexes.addressTxids(h.pkh, TXS_PER_PAGE, after) ?? notInHistory();
  return ids.map((id) => {
    const f = l.view.findTx(id)!;
    return l.view.tx(f.tx, f.loc);
  });
}

export function holderMempool(l: Lookups, h: Holder): unknown[] {
  return poolMatches(l, h)
    .slice(0, MEMPOOL_TXS_PER_ADDRESS)
    .map((m) => l.view.tx(m.tx));
}

/** Esplora's /txs: the pool's first (newest first), then the first page of the chain's. */
export function holderTxs(l: Lookups, h: Holder): unknown[] {
  return [...holderMempool(l, h), ...holderChain(l, h)];
}

/**
 * Unspent outputs as electrs counts them: the confirmed ones no pool transaction spends, then the
 * pool's outputs to the holder that no other pool transaction spends; at most MAX_UTXOS.
 */
export function holderUtxo(l: Lookups, h: Holder): unknown[] {
  const poolSpent = new Set<string>();
  for (const e of l.ex.mempool.all()) for (const i of e.tx.inputs) poolSpent.add(`${hashToHex(i.prevTxid)}:${i.vout}`);
  const out: unknown[] = [];
  const confirmed = h.pkh === undefined ? [] : l.ex.indexes.addressUtxos(h.pkh, MAX_UTXOS + poolSpent.size);
  for (const u of confirmed) {
    if (poolSpent.has(`${u.txid}:${u.vout}`)) continue;
    const status = l.view.status({ block: u.rec.block, height: u.rec.height, pos: 0 });
    out.push({ txid: u.txid, vout: u.vout, status, value: Number(u.rec.value) });
  }
  for (const e of l.ex.mempool.all().sort((a, b) => a.seq - b.seq)) {
    const id = hashToHex(e.txid);
    e.tx.outputs.forEach((o, vout) => {
      if (h.matches(o.scriptPubKey) && !poolSpent.has(`${id}:${vout}`))
        out.push({ txid: id, vout, status: { confirmed: false }, value: Number(o.value) });
    });
  }
  return out.slice(0, MAX_UTXOS);
}

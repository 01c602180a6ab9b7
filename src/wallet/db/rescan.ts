// Rescanning: making the wallet's coin index and history cover exactly the wallet's keys when the
// commit hook could not have (keys imported or restored since the last run, removed keys, or a
// chain that moved while no wallet process watched it). New keys' coins come from the chain's
// UTXO set and their history from a walk of the active chain's blocks and undo data; a stale
// index is rebuilt from scratch and the payments' statuses reconciled with the rebuilt history.
import { hashToHex } from '../../shared/core/bytes.js';
import { outpointKey } from '../../shared/core/outpoint.js';
import { txid } from '../../shared/core/tx.js';
import { type BlockRef, type TipInfo, type TxoSummary, type WalletCoin, outputSummaries, pkhOf } from './records.js';
import { type WalletTables, allPayments, storedKeyset, storedTip, writeTx } from './tables.js';

/**
 * Makes the index cover exactly these pubkey hashes. Keys added since the last run (an imported
 * key that was paid before, a wallet restored from its key files) are looked up in the chain's
 * UTXO set and their history in the active chain's blocks; removed keys' coins are dropped. If
 * the index does not describe the chain's tip (the chain moved without the wallet), everything is
 * rebuilt. Returns what changed; a no-op costs two reads.
 */
export function ensureIndex(t: WalletTables, pkhs: Iterable<string>): { added: number; removed: number; rebuilt: boolean } {
  const want = [...new Set(pkhs)].sort();
  const quick = compare(t, want);
  if (!quick.stale && quick.added.length === 0 && quick.removed.length === 0) return { added: 0, removed: 0, rebuilt: false };
  return writeTx(t, () => {
    const { added, removed, stale } = compare(t, want);
    const rebuild = stale;
    const addSet = new Set(rebuild ? want : added);
    if (rebuild) {
      for (const { key } of t.coins.getRange()) t.coins.removeSync(key);
      for (const { key } of t.history.getRange()) t.history.removeSync(key);
    } else if (removed.length) {
      const rm = new Set(removed);
      for (const { key, value } of t.coins.getRange()) if (rm.has((value as WalletCoin).pkh)) t.coins.removeSync(key);
    }
    if (addSet.size) {
      for (const { txid: id, vout, coin } of t.store.allCoins()) {
        const pkh = pkhOf(coin.scriptPubKey);
        if (pkh === null || !addSet.has(pkh)) continue;
        const k = outpointKey(id, vout);
        t.coins.putSync(k, { outpoint: k, value: coin.value.toString(), height: coin.height, coinbase: coin.coinbase, pkh });
      }
    }
    const tip = scanHistory(t, addSet, rebuild);
    if (tip) t.meta.putSync('tip', tip);
    if (rebuild) reconcilePayments(t);
    t.meta.putSync('keyset', want);
    return { added: addSet.size, removed: removed.length, rebuilt: rebuild };
  });
}

/** A fresh random key: nothing can have paid it yet, so the index covers it as it is. */
export function registerFreshKey(t: WalletTables, pkh: string): void {
  writeTx(t, () => {
    const have = new Set(storedKeyset(t));
    have.add(pkh);
    t.meta.putSync('keyset', [...have].sort());
  });
}

function compare(t: WalletTables, want: string[]): { added: string[]; removed: string[]; stale: boolean } {
  const have = storedKeyset(t);
  const haveSet = new Set(have);
  const wantSet = new Set(want);
  const chainTip = t.store.getTip();
  const tip = storedTip(t);
  const stale = chainTip !== undefined && tip?.hash !== hashToHex(chainTip);
  return { added: want.filter((k) => !haveSet.has(k)), removed: have.filter((k) => !wantSet.has(k)), stale };
}

/** Walks the active chain from genesis; records transactions touching pkhs. Returns the tip. */
function scanHistory(t: WalletTables, pkhs: ReadonlySet<string>, all: boolean): TipInfo | undefined {
  const tipHash = t.store.getTip();
  if (!tipHash) return undefined;
  const hashes: Uint8Array[] = [];
  for (let h: Uint8Array | undefined = tipHash; h;) {
    hashes.push(h);
    const blk = t.store.getBlock(h);
    if (!blk) throw new Error(`block ${hashToHex(h)} missing from the chain store`);
    h = blk.header.prevHash.every((x) => x === 0) ? undefined : blk.header.prevHash;
  }
  hashes.reverse();
  let tip: TipInfo | undefined;
  hashes.forEach((hash, height) => {
    const block = t.store.getBlock(hash)!;
    const ref: BlockRef = { hash: hashToHex(hash), height, time: block.header.time };
    tip = ref;
    if (height === 0 || pkhs.size === 0) return;
    const undo = t.store.getUndo(hash) ?? [];
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
      if ((touches || (all && t.payments.get(id))) && (all || !t.history.get(id))) {
        t.history.putSync(id, { txid: id, block: ref, coinbase: i === 0, inputs, outputs });
      }
    });
  });
  return tip;
}

/** After a rebuild: payment statuses from the rebuilt history. */
function reconcilePayments(t: WalletTables): void {
  for (const p of allPayments(t)) {
    const h = t.history.get(p.txid);
    if (h && (p.status !== 'confirmed' || p.block?.hash !== h.block.hash)) {
      const { failure: _f, ...rest } = p;
      t.payments.putSync(p.txid, { ...rest, status: 'confirmed', block: h.block });
    } else if (!h && p.status === 'confirmed') {
      const { block: _b, ...rest } = p;
      t.payments.putSync(p.txid, { ...rest, status: 'pending' });
    }
  }
}

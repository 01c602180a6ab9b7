// The light wallet's coins, from what it proved only: each stored transaction is checked again
// against the headers as they are now (a reorganisation may have moved it out of the best chain),
// its outputs to our keys are coins, and an output any proven transaction spends is spent. The
// amounts are the raw transactions' own; no server's figure enters.
import { fromHex, hashToHex, toHex } from '../../shared/core/bytes.js';
import { outpointKey } from '../../shared/core/outpoint.js';
import { p2pkhHash } from '../../shared/core/script.js';
import { type Tx, decodeTx, isCoinbase, txid as txidOf } from '../../shared/core/tx.js';
import type { LightTxRecord } from '../../shared/node/store/schema.js';
import type { WalletCoin } from '../db/index.js';
import type { LightHeaders } from './headers.js';
import { checkProof } from './verify.js';

export interface LightCoins {
  /** Unspent outputs to our keys, in proven transactions. */
  readonly coins: WalletCoin[];
  /** Proven transactions still on our best chain. */
  readonly proven: { readonly rec: LightTxRecord; readonly tx: Tx }[];
  /** Stored transactions that no longer check against our best chain (left it in a reorganisation), with why. */
  readonly dropped: { readonly txid: string; readonly reason: string }[];
}

/** Rechecks a stored proof against the headers now: undefined if it still holds, else why not. */
function recheck(rec: LightTxRecord, headers: LightHeaders): { tx: Tx } | { reason: string } {
  let tx: Tx;
  try {
    tx = decodeTx(fromHex(rec.raw));
  } catch {
    return { reason: 'its stored raw transaction does not decode' };
  }
  if (hashToHex(txidOf(tx)) !== rec.txid) return { reason: 'its stored raw transaction has another txid' };
  const bad = checkProof('the store', headers, rec.txid, tx, { blockHeight: rec.height, merkle: rec.merkle, pos: rec.pos }, rec.block);
  if (!bad) return { tx };
  return { reason: bad.kind === 'unproven' ? bad.reason : `no longer in our best chain at height ${rec.height}` };
}

export function provenCoins(records: Iterable<LightTxRecord>, headers: LightHeaders, pkhs: ReadonlySet<string>): LightCoins {
  const proven: LightCoins['proven'][number][] = [];
  const dropped: LightCoins['dropped'][number][] = [];
  for (const rec of records) {
    const r = recheck(rec, headers);
    if ('tx' in r) proven.push({ rec, tx: r.tx });
    else dropped.push({ txid: rec.txid, reason: r.reason });
  }
  const spent = new Set<string>();
  for (const { tx } of proven) if (!isCoinbase(tx)) for (const i of tx.inputs) spent.add(outpointKey(i.prevTxid, i.vout));
  const coins: WalletCoin[] = [];
  for (const { rec, tx } of proven) {
    const id = txidOf(tx);
    tx.outputs.forEach((o, vout) => {
      const pkh = p2pkhHash(o.scriptPubKey);
      const key = outpointKey(id, vout);
      if (pkh && pkhs.has(toHex(pkh)) && !spent.has(key))
        coins.push({ outpoint: key, value: o.value.toString(), height: rec.height, coinbase: isCoinbase(tx), pkh: toHex(pkh) });
    });
  }
  return { coins, proven, dropped };
}

// Payments from other wallets before they are mined. Transactions are broadcast on the transaction
// port, which every process on the LAN may listen to (UDP, SO_REUSEADDR: a broadcast reaches every
// socket bound to the port), so `sync` listens there too. A transaction heard that pays one of our
// keys and is not one of our own payments goes through the same intake and mempool as a miner's
// (src/shared/node/mempool/intake.ts), against our own chain's UTXO set at its tip: sane, not a
// coinbase, final in the next block, every input unspent (and mature) with enough value, at least
// the minimum relay fee, no double spend of another payment we heard, every signature valid.
// Nothing anyone says is taken on trust: a forged "payment" to us fails there and is never
// recorded. What passes is kept in wallet-incoming (db/incoming-store.ts) until it is mined, conflicted by a mined
// double spend, loses an input, or expires (INCOMING_TTL_MS).
//
// This file holds the wallet's two questions around that: the screen before any pool work (does it
// pay us, do we have it already) and the record of one the pool took.
//
// Limits: a payment is only seen while our sync runs; one that spends an output not mined yet is
// taken by the pool but recorded only once its parent is mined (heard again: the sender
// rebroadcasts at each new tip); a + is the sender's promise, not money until it is mined.
import { encodeAddress } from '../shared/core/address.js';
import { fromHex, hashToHex, toHex } from '../shared/core/bytes.js';
import type { ConsensusParams } from '../shared/core/params.js';
import { type Tx, encodeTx, txid } from '../shared/core/tx.js';
import type { CoinView } from '../shared/core/validation.js';
import { outpointKey } from '../shared/core/outpoint.js';
import { type IncomingRecord, type WalletDb, outputSummaries, pkhOf } from './db/index.js';

export type IncomingScreen =
  /** Pays none of our keys: none of our business. */
  | { readonly kind: 'not-ours' }
  /** One of our own payments, or already in the wallet (heard before, or mined). */
  | { readonly kind: 'known' }
  /** Pays these keys of ours (hex pubkey hashes): for the pool to check. */
  | { readonly kind: 'ours'; readonly pkhs: readonly string[] };

/** The keys of ours (hex pubkey hashes) a transaction pays. */
export function paidKeys(tx: Tx, keyset: ReadonlySet<string>): string[] {
  const pkhs = new Set<string>();
  for (const o of outputSummaries(tx)) if (o.pkh !== null && keyset.has(o.pkh)) pkhs.add(o.pkh);
  return [...pkhs];
}

/** The cheap question before any pool work: lookups only, no signature. */
export function screenIncoming(db: WalletDb, tx: Tx, keyset: ReadonlySet<string>): IncomingScreen {
  const pkhs = paidKeys(tx, keyset);
  if (pkhs.length === 0) return { kind: 'not-ours' };
  const id = hashToHex(txid(tx));
  if (db.payment(id) || db.incomingRecord(id) || db.historyRecord(id)) return { kind: 'known' };
  return { kind: 'ours', pkhs };
}

export interface IncomingContext {
  readonly params: ConsensusParams;
  /** Our chain's UTXO set at its tip (the record's inputs are confirmed coins). */
  readonly view: CoinView;
  /** Our pubkey hashes (hex). */
  readonly keyset: ReadonlySet<string>;
  readonly now: number;
}

/**
 * The record of a payment to us that our pool took (so its signatures and fee are checked), or
 * undefined when one of its inputs is not a confirmed coin of ours to show (it spends an
 * unconfirmed output: recorded once that is mined).
 */
export function incomingRecord(tx: Tx, fee: bigint, c: IncomingContext): IncomingRecord | undefined {
  const raw = encodeTx(tx);
  const outputs = outputSummaries(tx);
  const toUs = outputs.filter((o) => o.pkh !== null && c.keyset.has(o.pkh));
  const inputs = [];
  for (const i of tx.inputs) {
    const coin = c.view.getCoin(i.prevTxid, i.vout);
    if (!coin) return undefined;
    inputs.push({ outpoint: outpointKey(i.prevTxid, i.vout), value: coin.value.toString(), pkh: pkhOf(coin.scriptPubKey) });
  }
  // The pool's signature checks proved HASH160(scriptSig pubkey) equals the spent output's pubkey hash.
  const first = inputs[0]?.pkh ?? null;
  const id = hashToHex(txid(tx));
  return {
    txid: id,
    raw: toHex(raw),
    seenAt: c.now,
    fromAddress: first === null ? null : encodeAddress(fromHex(first), c.params.addressVersion),
    toPkhs: paidKeys(tx, c.keyset),
    amount: toUs.reduce((a, o) => a + BigInt(o.value), 0n).toString(),
    fee: fee.toString(),
    size: raw.length,
    inputs,
    outputs,
  };
}

// Payments from other wallets before they are mined. Transactions are broadcast on the transaction
// port, which every process on the LAN may listen to (UDP, SO_REUSEADDR: a broadcast reaches every
// socket bound to the port), so `sync` listens there too. A transaction heard that pays one of our
// keys and is not one of our own payments is checked as a miner would before it enters its mempool,
// against our own chain's UTXO set at its tip: sane, not a coinbase, final in the next block, every
// input unspent (and mature) with enough value, every signature valid, at least the minimum relay
// fee. Nothing anyone says is taken on trust: a forged "payment" to us fails here and is never
// recorded. What passes is kept in wallet-incoming (db.ts) until it is mined, conflicted by a mined
// double spend, loses an input, or expires (INCOMING_TTL_MS).
//
// Limits: a payment is only seen while our sync runs and while our chain has its inputs (one that
// spends an output not mined yet is not accepted; the sender's rebroadcasts give it another chance
// at each new tip); a + is the sender's promise, not money until it is mined.
import { encodeAddress } from '../shared/core/address.js';
import { fromHex, hashToHex, toHex } from '../shared/core/bytes.js';
import type { ConsensusParams } from '../shared/core/params.js';
import { checkTxForRelay } from '../shared/core/policy.js';
import { type Tx, encodeTx, txid } from '../shared/core/tx.js';
import { type CoinView, ValidationError } from '../shared/core/validation.js';
import { outpointKey } from '../shared/core/outpoint.js';
import { type IncomingRecord, type WalletDb, outputSummaries, pkhOf } from './db.js';
import { opensslVerifier } from '../shared/node/verify/verifier.js';

export interface IncomingContext {
  readonly params: ConsensusParams;
  /** Our chain's UTXO set at its tip. */
  readonly view: CoinView;
  /** Height of our tip, and its median time past. */
  readonly tipHeight: number;
  readonly medianTimePast: number;
  /** Base units per byte, as miners require (settings.minRelayFeeRate). */
  readonly minRelayFeeRate: number;
  /** Our pubkey hashes (hex). */
  readonly keyset: ReadonlySet<string>;
  readonly now: number;
}

export type IncomingVerdict =
  /** Pays none of our keys: none of our business. */
  | { readonly kind: 'not-ours'; readonly txid: string }
  /** One of our own payments, or already in the wallet (heard before, or mined). */
  | { readonly kind: 'known'; readonly txid: string }
  /** Pays us but would not be accepted by a miner: never recorded. */
  | { readonly kind: 'invalid'; readonly txid: string; readonly pkhs: readonly string[]; readonly reason: string }
  | { readonly kind: 'valid'; readonly txid: string; readonly record: IncomingRecord };

/** Decides what a transaction heard on the transaction port is to this wallet. Reads only. */
export function examineIncoming(db: WalletDb, tx: Tx, c: IncomingContext): IncomingVerdict {
  const raw = encodeTx(tx);
  const id = hashToHex(txid(tx));
  const outputs = outputSummaries(tx);
  const toUs = outputs.filter((o) => o.pkh !== null && c.keyset.has(o.pkh));
  if (toUs.length === 0) return { kind: 'not-ours', txid: id };
  if (db.payment(id) || db.incomingRecord(id) || db.historyRecord(id)) return { kind: 'known', txid: id };
  const pkhs = [...new Set(toUs.map((o) => o.pkh!))];
  let fee: bigint;
  try {
    // The same relay rules as a miner's mempool (policy.ts), against our own tip.
    ({ fee } = checkTxForRelay(tx, c.view, { params: c.params, tipHeight: c.tipHeight, medianTimePast: c.medianTimePast, minRelayFeeRate: c.minRelayFeeRate }, opensslVerifier));
  } catch (e) {
    if (e instanceof ValidationError) return { kind: 'invalid', txid: id, pkhs, reason: e.message };
    throw e;
  }
  const inputs = tx.inputs.map((i) => {
    const coin = c.view.getCoin(i.prevTxid, i.vout)!;
    return { outpoint: outpointKey(i.prevTxid, i.vout), value: coin.value.toString(), pkh: pkhOf(coin.scriptPubKey) };
  });
  // checkTxScripts proved HASH160(scriptSig pubkey) equals the spent output's pubkey hash.
  const first = inputs[0]!.pkh;
  const amount = toUs.reduce((a, o) => a + BigInt(o.value), 0n);
  return {
    kind: 'valid',
    txid: id,
    record: {
      txid: id,
      raw: toHex(raw),
      seenAt: c.now,
      fromAddress: first === null ? null : encodeAddress(fromHex(first), c.params.addressVersion),
      toPkhs: pkhs,
      amount: amount.toString(),
      fee: fee.toString(),
      size: raw.length,
      inputs,
      outputs,
    },
  };
}

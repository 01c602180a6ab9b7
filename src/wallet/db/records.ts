// What the wallet keeps and reports, apart from how it is stored: the record types (declared in
// the node layer's store schema, which the tools that read a wallet's datadir import too), the
// events the commit hook and the incoming store queue for `sync` to print, and the summaries a
// record is built from (a transaction's inputs and outputs as pubkey hash and value).
import { toHex } from '../../shared/core/bytes.js';
import { p2pkhHash } from '../../shared/core/script.js';
import type { Tx } from '../../shared/core/tx.js';
import type { BlockRef, ReorgNotice, TxoSummary } from '../../shared/node/store/schema.js';

export type {
  BestHeard,
  BlockRef,
  HistoryRecord,
  IncomingRecord,
  PaymentRecord,
  PaymentStatus,
  TipInfo,
  TxoSummary,
  WalletCoin,
} from '../../shared/node/store/schema.js';

/** How long an incoming payment may stay unmined before we stop showing it. */
export const INCOMING_TTL_MS = 24 * 3600 * 1000;

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
  | { readonly kind: 'reorg'; readonly notice: ReorgNotice }
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

// One view over what the wallet knows of a transaction: mined ones from the history index,
// pending and failed ones from the payment records, incoming pending ones (payments to us heard
// and validated by sync, see incoming.ts) from the incoming records; and what a transaction means
// for a set of local keys (direction, net amount, fee, counterparty).
import { encodeAddress } from '../shared/core/address.js';
import { fromHex } from '../shared/core/bytes.js';
import { type IncomingRecord, type TxoSummary, type PaymentRecord, type PaymentStatus, type WalletDb, netFor } from './db/index.js';

export interface TxEntry {
  readonly txid: string;
  readonly status: PaymentStatus;
  readonly height: number | null;
  readonly blockHash: string | null;
  /** Milliseconds: the block's time once mined, else when the payment was made (or first heard). */
  readonly time: number;
  readonly coinbase: boolean;
  readonly inputs: readonly TxoSummary[];
  readonly outputs: readonly TxoSummary[];
  readonly payment?: PaymentRecord;
  /** A payment to us from elsewhere, heard on the network and not mined yet. */
  readonly incoming?: IncomingRecord;
}

export function walletTxs(db: WalletDb): TxEntry[] {
  const out = new Map<string, TxEntry>();
  for (const h of db.allHistory()) {
    out.set(h.txid, {
      txid: h.txid,
      status: 'confirmed',
      height: h.block.height,
      blockHash: h.block.hash,
      time: h.block.time * 1000,
      coinbase: h.coinbase,
      inputs: h.inputs,
      outputs: h.outputs,
    });
  }
  for (const p of db.allPayments()) {
    const mined = out.get(p.txid);
    if (mined && p.status === 'confirmed') {
      out.set(p.txid, { ...mined, payment: p });
      continue;
    }
    out.set(p.txid, {
      txid: p.txid,
      status: p.status,
      height: p.status === 'confirmed' && p.block ? p.block.height : null,
      blockHash: p.status === 'confirmed' && p.block ? p.block.hash : null,
      time: p.status === 'confirmed' && p.block ? p.block.time * 1000 : p.createdAt,
      coinbase: false,
      inputs: p.inputs.map((i) => ({ pkh: i.pkh, value: i.value })),
      outputs: p.outputs,
      payment: p,
    });
  }
  for (const r of db.incomingPending()) {
    if (out.has(r.txid)) continue;
    out.set(r.txid, {
      txid: r.txid,
      status: 'pending',
      height: null,
      blockHash: null,
      time: r.seenAt,
      coinbase: false,
      inputs: r.inputs.map((i) => ({ pkh: i.pkh, value: i.value })),
      outputs: r.outputs,
      incoming: r,
    });
  }
  // Newest first.
  return [...out.values()].sort((a, b) => b.time - a.time || (b.height ?? Infinity) - (a.height ?? Infinity) || (a.txid < b.txid ? -1 : 1));
}

export type Direction = 'in' | 'out' | 'self';

export interface TxMeaning {
  readonly direction: Direction;
  /** Net change for the scope, base units. */
  readonly amount: bigint;
  readonly fee: bigint | null;
  readonly counterparty: string | null;
  /** Local names involved. */
  readonly names: string[];
}

/** What e means for the keys in scope; undefined if it does not touch them. */
export function meaning(
  e: TxEntry,
  scope: ReadonlySet<string>,
  nameOf: ReadonlyMap<string, string>,
  addressVersion: number,
): TxMeaning | undefined {
  const { net, spent, received } = netFor(e.inputs, e.outputs, scope);
  if (spent === 0n && received === 0n) return undefined;
  const addr = (pkh: string) => encodeAddress(fromHex(pkh), addressVersion);
  const outside = (r: TxoSummary) => r.pkh === null || !scope.has(r.pkh);
  const names = [...new Set([...e.inputs, ...e.outputs].filter((r) => r.pkh !== null && scope.has(r.pkh)).map((r) => nameOf.get(r.pkh!)!))]
    .filter(Boolean)
    .sort();
  if (spent === 0n) {
    const from = e.inputs.find(outside);
    return { direction: 'in', amount: net, fee: null, counterparty: e.coinbase ? 'coinbase' : from?.pkh ? addr(from.pkh) : null, names };
  }
  const inTotal = e.inputs.reduce((a, i) => a + BigInt(i.value), 0n);
  const outTotal = e.outputs.reduce((a, o) => a + BigInt(o.value), 0n);
  const fee = e.payment ? BigInt(e.payment.fee) : e.inputs.every((i) => i.pkh !== null) ? inTotal - outTotal : null;
  const to = e.outputs.find(outside);
  if (!to) return { direction: 'self', amount: net, fee, counterparty: null, names };
  return { direction: 'out', amount: net, fee, counterparty: to.pkh ? addr(to.pkh) : null, names };
}

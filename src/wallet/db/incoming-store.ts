// Incoming payments as the wallet stores them (wallet-incoming): which to admit (the first heard
// of two that spend one coin wins, as in a miner's mempool, and none that conflicts with a pending
// payment of ours), and when one can no longer confirm (mined already, too old, an input gone) and
// is dropped. Hearing and validating them is ../incoming.ts; the commit hook drops the ones a
// block conflicts with, and prunes the rest at every tip change with pruneIncomingNow.
import { displayOutpointKey, parseOutpointKey } from '../../shared/core/outpoint.js';
import { INCOMING_TTL_MS, type IncomingRecord } from './records.js';
import { type WalletTables, allIncoming, pendingSpender } from './tables.js';

/** Why an incoming payment will not confirm as it is, or undefined while it still can. */
export function incomingProblem(
  t: WalletTables,
  r: IncomingRecord,
  now: number,
): { reason: 'mined' | 'missing' | 'expired'; detail: string } | undefined {
  if (t.history.get(r.txid)) return { reason: 'mined', detail: 'it is in a block already' };
  if (now - r.seenAt > INCOMING_TTL_MS)
    return { reason: 'expired', detail: `not mined within ${Math.round(INCOMING_TTL_MS / 3600_000)} h of being heard` };
  for (const i of r.inputs) {
    const o = parseOutpointKey(i.outpoint);
    if (t.store.getCoin(o.txid, o.vout) === undefined) {
      return { reason: 'missing', detail: `its input ${displayOutpointKey(i.outpoint)} is no longer unspent in the local chain` };
    }
  }
  return undefined;
}

/**
 * Stores a validated incoming payment unless it is known already or conflicts with one we know.
 * Queues an 'incoming' event. Call inside a write transaction.
 */
export function storeIncoming(t: WalletTables, r: IncomingRecord): { stored: true } | { stored: false; reason: string } {
  if (t.incoming.get(r.txid)) return { stored: false, reason: 'known' };
  if (t.payments.get(r.txid)) return { stored: false, reason: 'our own payment' };
  if (t.history.get(r.txid)) return { stored: false, reason: 'mined already' };
  const mine = new Set(r.inputs.map((i) => i.outpoint));
  for (const i of r.inputs) {
    const p = pendingSpender(t, i.outpoint);
    if (p !== undefined) return { stored: false, reason: `conflicts with our pending payment ${p}` };
  }
  for (const other of allIncoming(t)) {
    if (other.inputs.some((i) => mine.has(i.outpoint)))
      return { stored: false, reason: `conflicts with incoming payment ${other.txid} heard first` };
  }
  t.incoming.putSync(r.txid, r);
  t.events.push({ kind: 'incoming', txid: r.txid, amount: BigInt(r.amount), pkhs: r.toPkhs, from: r.fromAddress });
  return { stored: true };
}

/** Drops incoming payments that can no longer confirm (expired, inputs gone). Call inside a write transaction or the hook. */
export function pruneIncomingNow(t: WalletTables, now: number): void {
  for (const r of allIncoming(t)) {
    const why = incomingProblem(t, r, now);
    if (!why) continue;
    t.incoming.removeSync(r.txid);
    if (why.reason === 'mined') {
      // Only after a rescan found it mined (the hook handles blocks as they connect).
      const h = t.history.get(r.txid)!;
      t.events.push({ kind: 'confirmed', txid: r.txid, block: h.block, incoming: { amount: BigInt(r.amount), pkhs: r.toPkhs } });
    } else {
      t.events.push({ kind: 'incoming-dropped', txid: r.txid, reason: why.reason, detail: why.detail });
    }
  }
}

/** Drops one incoming payment a block made impossible, if it is still stored. */
export function dropIncoming(t: WalletTables, id: string, reason: 'conflict' | 'missing', detail: string): void {
  if (!t.incoming.get(id)) return;
  t.incoming.removeSync(id);
  t.events.push({ kind: 'incoming-dropped', txid: id, reason, detail });
}

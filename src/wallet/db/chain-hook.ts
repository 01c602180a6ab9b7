// The chain-index hook: what keeps the wallet's tables in step with the chain. It runs inside the
// chain store's commit transaction (a commit hook, attached by WalletDb.attachHook in `sync`), so
// a kill at any moment leaves chain and wallet agreeing. Blocks disconnected put their payments
// back to pending; blocks connected confirm payments, record history and fail payments another
// transaction double-spent; the UTXO changes keep the coin index (wallet-coins); payments whose
// input vanished in a reorganisation fail and come back if it returns; the tip is recorded.
import { hashToHex, toHex } from '../../shared/core/bytes.js';
import type { ChainBatch } from '../../shared/core/chain.js';
import { displayOutpoint, outpointKey } from '../../shared/core/outpoint.js';
import { type Tx, isCoinbase, txid } from '../../shared/core/tx.js';
import { dropIncoming, pruneIncomingNow } from './incoming-store.js';
import { type BlockRef, type TipInfo, type TxoSummary, netFor, outputSummaries, pkhOf } from './records.js';
import { type WalletTables, allIncoming, storedKeyset } from './tables.js';
import type { ReorgNotice } from '../../shared/node/store/schema.js';

/** What the numbered steps of one applyBatch share. */
interface BatchContext {
  readonly keyset: ReadonlySet<string>;
  /** Failed payments that may be pending again once the batch is applied (step 4). */
  readonly revive: Set<string>;
  readonly now: number;
  /** Incoming payments by the outpoints they spend. */
  readonly incomingBySpend: ReadonlyMap<string, string>;
  /** Outpoints spent by the connected blocks (step 2), so step 3 tells a spend from a loss. */
  readonly spentHere: Set<string>;
  /** History records the disconnected blocks took (step 1), for the reorganisation notice (step 7). */
  readonly removed: Map<string, { net: bigint; coinbase: boolean; pending: boolean }>;
}

/** Reorganisation notices kept (the oldest forgotten first). */
export const MAX_REORG_NOTICES = 50;

/**
 * Mirrors one chain commit into the wallet (inside the commit's transaction): disconnected
 * blocks put their payments back to pending, connected blocks confirm payments, record history
 * and fail pending payments whose inputs another transaction spent; coin changes keep the coin
 * index; a payment whose input vanished in a reorganisation fails, and comes back if it returns.
 */
export function applyBatch(t: WalletTables, b: ChainBatch): void {
  const connected = b.connected ?? [];
  const disconnected = b.disconnected ?? [];
  if (!b.tip && connected.length === 0 && disconnected.length === 0 && b.coins.length === 0) return;
  const ctx = batchContext(t);
  applyDisconnected(t, disconnected, ctx); // 1
  applyConnected(t, b, connected, ctx); // 2
  applyCoinChanges(t, b, ctx); // 3
  reviveFailed(t, ctx); // 4
  // 5. At every tip change: incoming payments that can no longer confirm as they are (too old, or
  // an input no longer unspent for any other reason) are dropped, so a stale + never lingers.
  // Reads here see this transaction's writes: the UTXO set after the batch.
  if (b.tip) pruneIncomingNow(t, ctx.now);
  if (b.tip) recordTip(t, b, b.tip, connected); // 6
  if (disconnected.length > 0) noteReorg(t, disconnected, ctx); // 7
}

/**
 * 7. What the reorganisation did to us, in words a student can follow: the blocks that left, the
 * balance their transactions carried that the new chain does not (rewards of those blocks among
 * it), payments of ours pending again. Kept (bounded) and pushed as an event.
 */
function noteReorg(t: WalletTables, disconnected: NonNullable<ChainBatch['disconnected']>, ctx: BatchContext): void {
  let change = 0n;
  let rewardsLost = 0n;
  const pendingAgain: string[] = [];
  const gone: string[] = [];
  for (const [id, r] of ctx.removed) {
    if (t.history.get(id) !== undefined) continue; // mined again in the new chain
    change -= r.net;
    if (r.coinbase) rewardsLost += r.net;
    else if (r.pending) pendingAgain.push(id);
    else gone.push(id);
  }
  if (change === 0n && pendingAgain.length === 0 && gone.length === 0) return;
  const notice: ReorgNotice = {
    at: ctx.now,
    left: disconnected.map(({ entry }) => ({ hash: hashToHex(entry.hash), height: entry.height })),
    change: change.toString(),
    rewardsLost: rewardsLost.toString(),
    pendingAgain,
    gone,
  };
  const seq = ((t.meta.get('reorgSeq') as number | undefined) ?? 0) + 1;
  t.meta.putSync('reorgSeq', seq);
  t.reorgs.putSync(String(seq).padStart(12, '0'), notice);
  const old = String(seq - MAX_REORG_NOTICES).padStart(12, '0');
  if (seq > MAX_REORG_NOTICES) t.reorgs.removeSync(old);
  t.events.push({ kind: 'reorg', notice });
}

/** What the steps of one applyBatch share. */
function batchContext(t: WalletTables): BatchContext {
  // Incoming payments by the outpoints they spend (few: payments heard and not mined yet).
  const incomingBySpend = new Map<string, string>();
  for (const r of allIncoming(t)) for (const i of r.inputs) incomingBySpend.set(i.outpoint, r.txid);
  return {
    keyset: new Set(storedKeyset(t)),
    revive: new Set(),
    now: Date.now(),
    incomingBySpend,
    spentHere: new Set(),
    removed: new Map(),
  };
}

/** 1. Disconnected blocks, newest first: their payments back to pending, their conflicts may revive. */
function applyDisconnected(t: WalletTables, disconnected: NonNullable<ChainBatch['disconnected']>, ctx: BatchContext): void {
  for (const { entry, block } of disconnected) {
    for (const tx of block.txs) {
      const id = hashToHex(txid(tx));
      const h = t.history.get(id);
      if (h !== undefined) {
        const net = netFor(h.inputs, h.outputs, ctx.keyset).net;
        ctx.removed.set(id, { net, coinbase: h.coinbase, pending: t.payments.get(id)?.status === 'confirmed' });
      }
      t.history.removeSync(id);
      const p = t.payments.get(id);
      if (p?.status === 'confirmed') {
        const { block: _gone, ...rest } = p;
        t.payments.putSync(id, { ...rest, status: 'pending' });
        t.events.push({ kind: 'unconfirmed', txid: id, height: entry.height });
      }
      if (isCoinbase(tx)) continue;
      for (const inp of tx.inputs) {
        const r = t.reserved.get(outpointKey(inp.prevTxid, inp.vout));
        if (r === undefined || r === id) continue;
        const q = t.payments.get(r);
        if (q?.status === 'failed' && q.failure?.conflictTxid === id) ctx.revive.add(r);
      }
    }
  }
}

/** 2. Connected blocks, oldest first. Undo data says what each input spent. */
function applyConnected(t: WalletTables, b: ChainBatch, connected: NonNullable<ChainBatch['connected']>, ctx: BatchContext): void {
  const undoByHash = new Map(b.undo.map((u) => [toHex(u.hash), u.spent]));
  for (const { entry, block } of connected) {
    const undo = undoByHash.get(entry.hashHex) ?? [];
    const cursor = { u: 0 };
    const ref: BlockRef = { hash: hashToHex(entry.hash), height: entry.height, time: entry.header.time };
    block.txs.forEach((tx, i) => {
      const id = hashToHex(txid(tx));
      const inputs = i === 0 ? [] : connectInputs(t, tx, id, entry.height, undo, cursor, ctx);
      connectTx(t, tx, id, i === 0, inputs, ref, ctx);
    });
  }
}

/** 2a. A connected transaction's inputs: what they spent, and the payments they conflict with. */
function connectInputs(
  t: WalletTables,
  tx: Tx,
  id: string,
  height: number,
  undo: readonly { value: bigint; scriptPubKey: Uint8Array }[],
  cursor: { u: number },
  ctx: BatchContext,
): TxoSummary[] {
  const inputs: TxoSummary[] = [];
  for (const inp of tx.inputs) {
    const k = outpointKey(inp.prevTxid, inp.vout);
    ctx.spentHere.add(k);
    const coin = undo[cursor.u++];
    inputs.push(coin ? { pkh: pkhOf(coin.scriptPubKey), value: coin.value.toString() } : { pkh: null, value: '0' });
    const inc = ctx.incomingBySpend.get(k);
    if (inc !== undefined && inc !== id) {
      // A double spend was mined: the incoming payment can never confirm.
      dropIncoming(t, inc, 'conflict', `its input ${displayOutpoint(inp.prevTxid, inp.vout)} was spent by ${id} in block ${height}`);
    }
    const r = t.reserved.get(k);
    if (r === undefined || r === id) continue;
    const q = t.payments.get(r);
    if (!q || q.status === 'confirmed') continue;
    const detail = `its input ${displayOutpoint(inp.prevTxid, inp.vout)} was spent by ${id} in block ${height}`;
    t.payments.putSync(r, { ...q, status: 'failed', failure: { kind: 'conflict', detail, conflictTxid: id, at: ctx.now } });
    if (q.status === 'pending') t.events.push({ kind: 'failed', txid: r, detail });
    ctx.revive.delete(r);
  }
  return inputs;
}

/** 2b. A connected transaction: history, our payment or an incoming one confirmed, coins received. */
function connectTx(t: WalletTables, tx: Tx, id: string, coinbase: boolean, inputs: TxoSummary[], ref: BlockRef, ctx: BatchContext): void {
  const { keyset } = ctx;
  const outputs = outputSummaries(tx);
  const p = t.payments.get(id);
  const inc = t.incoming.get(id);
  const touches = inputs.some((x) => x.pkh !== null && keyset.has(x.pkh)) || outputs.some((x) => x.pkh !== null && keyset.has(x.pkh));
  if (touches || p) t.history.putSync(id, { txid: id, block: ref, coinbase, inputs, outputs });
  if (inc) {
    // An incoming payment mined: from now on a confirmed coin and a history entry.
    t.incoming.removeSync(id);
    if (!p) {
      t.events.push({ kind: 'confirmed', txid: id, block: ref, incoming: { amount: BigInt(inc.amount), pkhs: inc.toPkhs } });
      return;
    }
  }
  if (p) {
    if (p.status !== 'confirmed') {
      const { failure: _f, ...rest } = p;
      t.payments.putSync(id, { ...rest, status: 'confirmed', block: ref });
      t.events.push({ kind: 'confirmed', txid: id, block: ref });
    }
    ctx.revive.delete(id);
  } else if (touches) {
    const { net } = netFor(inputs, outputs, keyset);
    if (net > 0n) {
      const pkhs = [...new Set(outputs.filter((o) => o.pkh !== null && keyset.has(o.pkh)).map((o) => o.pkh!))];
      t.events.push({ kind: 'received', txid: id, amount: net, pkhs, block: ref, coinbase });
    }
  }
}

/** 3. The coin index follows the chain's UTXO changes. */
function applyCoinChanges(t: WalletTables, b: ChainBatch, ctx: BatchContext): void {
  for (const c of b.coins) {
    const k = outpointKey(c.txid, c.vout);
    if (c.coin === null) {
      t.coins.removeSync(k);
      if (ctx.spentHere.has(k)) continue;
      const inc = ctx.incomingBySpend.get(k);
      if (inc !== undefined)
        dropIncoming(t, inc, 'missing', `its input ${displayOutpoint(c.txid, c.vout)} no longer exists (a reorganisation removed it)`);
      // Gone without being spent here: the block that created it was disconnected.
      const r = t.reserved.get(k);
      const q = r === undefined ? undefined : t.payments.get(r);
      if (q?.status === 'pending') {
        const detail = `its input ${displayOutpoint(c.txid, c.vout)} no longer exists (a reorganisation removed it)`;
        t.payments.putSync(q.txid, { ...q, status: 'failed', failure: { kind: 'missing', detail, at: ctx.now } });
        t.events.push({ kind: 'failed', txid: q.txid, detail });
      }
    } else {
      const pkh = pkhOf(c.coin.scriptPubKey);
      if (pkh === null || !ctx.keyset.has(pkh)) continue;
      t.coins.putSync(k, { outpoint: k, value: c.coin.value.toString(), height: c.coin.height, coinbase: c.coin.coinbase, pkh });
      const r = t.reserved.get(k);
      if (r !== undefined && t.payments.get(r)?.status === 'failed') ctx.revive.add(r);
    }
  }
}

/** 4. Failed payments whose inputs are all unspent again (the conflict or the loss was undone). */
function reviveFailed(t: WalletTables, ctx: BatchContext): void {
  for (const id of ctx.revive) {
    const q = t.payments.get(id);
    if (q?.status !== 'failed') continue;
    const ok = q.inputs.every((i) => t.coins.get(i.outpoint) !== undefined && (t.reserved.get(i.outpoint) ?? id) === id);
    if (!ok) continue;
    const { failure: _f, ...rest } = q;
    t.payments.putSync(id, { ...rest, status: 'pending' });
    t.events.push({ kind: 'revived', txid: id });
  }
}

/** 6. The tip, so commands that do not load the chain know its height. */
function recordTip(t: WalletTables, b: ChainBatch, tip: Uint8Array, connected: NonNullable<ChainBatch['connected']>): void {
  const tipHex = toHex(tip);
  const last = connected[connected.length - 1]?.entry;
  if (last && last.hashHex === tipHex) {
    t.meta.putSync('tip', { hash: hashToHex(last.hash), height: last.height, time: last.header.time } satisfies TipInfo);
  } else {
    const rec = b.entries.find((e) => toHex(e.hash) === tipHex);
    if (rec) t.meta.putSync('tip', { hash: hashToHex(rec.hash), height: rec.height, time: rec.header.time } satisfies TipInfo);
  }
}

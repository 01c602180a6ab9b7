// What /api/v1/ws pushes, as mempool.space's backend pushes it (its websocket handler's new-block,
// mempool-change and reorg paths): on each block connected to our chain, at once, `block` (the v1
// block) to `blocks` subscribers with `mempool-blocks` and the stats parts, `txConfirmed` or
// `txReplaced` to a tracked transaction's client and `block-transactions` to a tracked address's;
// on pool arrivals, at most every POOL_THROTTLE_MS, `mempool-blocks`, the stats parts and
// `address-transactions` / `multi-address-transactions`, and `txPosition` (its projected block) to
// a tracked pool transaction's client; when a pool transaction told of leaves
// the pool unconfirmed, `address-removed-transactions`; on a reorg, `blocks` afresh.
import { hashToHex, hexToHash } from '../shared/core/bytes.js';
import type { Block } from '../shared/core/block.js';
import type { ChainEntry, ChainUpdate } from '../shared/core/chain.js';
import { p2pkhHash } from '../shared/core/script.js';
import { type Tx, txid } from '../shared/core/tx.js';
import type { TxLocation } from '../shared/node/store/schema.js';
import type { MempoolEntry } from '../shared/node/mempool/pool.js';
import type { Lookups } from './lookups.js';
import type { WsClient, WsClients } from './ws-clients.js';
import { type Encoded, STATS_PARTS, type WsState, joinResponse } from './ws-messages.js';

/** Pool updates are pushed at most this often (mempool.space's backend: once per mempool poll, a few seconds). */
export const POOL_THROTTLE_MS = 500;
/** Pool arrivals remembered between pushes for tracked addresses; past it they are counted, not matched. */
const MAX_PENDING = 5000;
/** Pool transactions a tracker was told of, remembered (the oldest forgotten first) to tell it if they leave unconfirmed. */
const MAX_TOLD = 5000;

export class WsFeed {
  private pending: MempoolEntry[] = [];
  /** Pool transactions told to trackers, by txid: their JSON and the addresses they touch. */
  private readonly told = new Map<string, { json: string; addresses: string[] }>();
  private timer?: NodeJS.Timeout;
  readonly stats = { blocks: 0, poolPushes: 0, pendingOverflow: 0 };

  constructor(
    private readonly api: Lookups,
    private readonly clients: WsClients,
    private readonly state: WsState,
    /** Runs a timed push, catching what it throws (ws.ts's guard). */
    private readonly guard: (what: string, f: () => void) => void = (_w, f) => f(),
  ) {}

  /** The chain moved: a reorg's fresh `blocks` first, then one message per block connected (state parts with the last). */
  onUpdate(u: ChainUpdate): void {
    if (u.connected.length === 0 && u.disconnected.length === 0) return;
    this.state.invalidate();
    if (u.disconnected.length) this.onReorg();
    u.connected.forEach((c, i) => this.onBlock(c.entry, c.block, i === u.connected.length - 1));
    this.tellRemoved();
  }

  /** A transaction entered the pool: pushed with the next throttled pool update. */
  onAccepted(e: MempoolEntry): void {
    this.state.inflow.add(e.size);
    if (this.pending.length < MAX_PENDING) this.pending.push(e);
    else this.stats.pendingOverflow++;
    this.timer ??= setTimeout(() => this.guard('a throttled pool push', () => this.flushPool()), POOL_THROTTLE_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private onReorg(): void {
    for (const c of this.clients.all()) {
      const r: Encoded = {};
      if (c.wants.has('blocks')) r['blocks'] = this.state.part('blocks');
      if (c.wants.has('stats')) r['da'] = this.state.part('da');
      if (Object.keys(r).length) this.clients.send(c, joinResponse(r));
    }
  }

  private onBlock(e: ChainEntry, b: Block, last: boolean): void {
    this.stats.blocks++;
    const block = JSON.stringify(this.state.block(e) ?? null);
    const ids = new Set(b.txs.map((t) => hashToHex(txid(t))));
    const spentBy = spendsOf(b);
    const byAddress = this.anyTracksAddress()
      ? this.txsByAddress(b.txs, (pos) => ({ block: hashToHex(e.hash), height: e.height, pos }))
      : undefined;
    for (const c of this.clients.all()) {
      const r: Encoded = {};
      if (c.wants.has('blocks')) r['block'] = block;
      if (last && c.wants.has('stats')) Object.assign(r, this.state.parts(STATS_PARTS));
      if (last && c.wants.has('mempool-blocks')) r['mempool-blocks'] = this.state.part('mempool-blocks');
      if (c.trackTx && ids.has(c.trackTx)) r['txConfirmed'] = JSON.stringify(c.trackTx);
      else if (c.trackTx) {
        const by = replacedBy(this.api, c, spentBy);
        if (by) r['txReplaced'] = JSON.stringify({ txid: by });
        else if (last) addPosition(r, this.state, c.trackTx);
      }
      if (byAddress) Object.assign(r, addressParts(c, byAddress, 'block-transactions', 'confirmed'));
      if (Object.keys(r).length) this.clients.send(c, joinResponse(r));
    }
  }

  private flushPool(): void {
    this.timer = undefined;
    this.stats.poolPushes++;
    this.state.invalidate();
    // Arrivals since mined or evicted are left out: a tracker is told of what is in the pool now.
    const fresh = this.pending.filter((e) => this.api.ex.mempool.get(e.txid) === e);
    this.pending = [];
    const byAddress = this.anyTracksAddress() && fresh.length ? this.txsByAddress(fresh.map((e) => e.tx)) : undefined;
    const freshIds = new Map(fresh.map((e) => [hashToHex(e.txid), e.tx]));
    for (const c of this.clients.all()) {
      const r: Encoded = {};
      const tracked = c.trackTx && freshIds.get(c.trackTx);
      if (tracked) c.trackTxInputs = inputsOf(tracked);
      if (c.trackTx) addPosition(r, this.state, c.trackTx);
      if (c.wants.has('stats')) Object.assign(r, this.state.parts(STATS_PARTS));
      if (c.wants.has('mempool-blocks')) r['mempool-blocks'] = this.state.part('mempool-blocks');
      if (byAddress) Object.assign(r, addressParts(c, byAddress, 'address-transactions', 'mempool'));
      if (Object.keys(r).length) this.clients.send(c, joinResponse(r));
    }
    // An arrival may have evicted one told of before.
    this.tellRemoved();
  }

  /**
   * Pool transactions a tracker was told of that have left the pool and are not on the chain
   * (evicted, or a block spent their coins in another): `address-removed-transactions`.
   */
  private tellRemoved(): void {
    const removed = new Map<string, string[]>();
    for (const [id, t] of this.told) {
      if (this.api.ex.mempool.get(hexToHash(id))) continue;
      this.told.delete(id);
      if (this.api.view.findTx(id)) continue; // confirmed: block-transactions said so
      for (const a of t.addresses) {
        const list = removed.get(a);
        if (list) list.push(t.json);
        else removed.set(a, [t.json]);
      }
    }
    if (removed.size === 0) return;
    for (const c of this.clients.all()) {
      const r = addressParts(c, removed, 'address-removed-transactions', 'removed');
      if (Object.keys(r).length) this.clients.send(c, joinResponse(r));
    }
  }

  private remember(id: string, json: string, addresses: string[]): void {
    if (this.told.size >= MAX_TOLD) this.told.delete(this.told.keys().next().value!);
    this.told.set(id, { json, addresses });
  }

  private anyTracksAddress(): boolean {
    for (const c of this.clients.all()) if (c.trackAddress || c.trackAddresses) return true;
    return false;
  }

  /** Each address a transaction pays or spends from, with the transactions (Esplora's JSON, encoded once). */
  private txsByAddress(txs: readonly Tx[], loc?: (pos: number) => TxLocation): Map<string, string[]> {
    const out = new Map<string, string[]>();
    txs.forEach((tx, pos) => {
      const seen = new Set<string>();
      for (const o of tx.outputs) addTo(seen, this.api, o.scriptPubKey);
      for (const i of tx.inputs) addTo(seen, this.api, this.api.view.prevout(i.prevTxid, i.vout)?.scriptPubKey);
      if (seen.size === 0) return;
      const json = JSON.stringify(this.api.view.tx(tx, loc?.(pos)));
      if (!loc) this.remember(hashToHex(txid(tx)), json, [...seen]);
      for (const a of seen) {
        const list = out.get(a);
        if (list) list.push(json);
        else out.set(a, [json]);
      }
    });
    return out;
  }
}

function addPosition(r: Encoded, state: WsState, id: string): void {
  const p = state.txPosition(id);
  if (p) r['txPosition'] = p;
}

function addTo(seen: Set<string>, api: Lookups, script: Uint8Array | undefined): void {
  const pkh = script && p2pkhHash(script);
  if (pkh) seen.add(api.ex.addressOf(pkh));
}

/** A client's address news: `track-address`'s list under `single`, `track-addresses`' map under multi-address-transactions. */
function addressParts(c: WsClient, byAddress: Map<string, string[]>, single: string, kind: 'mempool' | 'confirmed' | 'removed'): Encoded {
  const r: Encoded = {};
  const one = c.trackAddress && byAddress.get(c.trackAddress);
  if (one) r[single] = `[${one.join(',')}]`;
  const multi: string[] = [];
  for (const a of c.trackAddresses ?? []) {
    const list = byAddress.get(a);
    if (!list) continue;
    const lists = { mempool: '[]', confirmed: '[]', removed: '[]', [kind]: `[${list.join(',')}]` };
    multi.push(`${JSON.stringify(a)}:{"mempool":${lists.mempool},"confirmed":${lists.confirmed},"removed":${lists.removed}}`);
  }
  if (multi.length) r['multi-address-transactions'] = `{${multi.join(',')}}`;
  return r;
}

/** A transaction's inputs as "txid:vout" (what a conflicting block transaction would spend too). */
export const inputsOf = (tx: Tx): string[] => tx.inputs.map((i) => `${hashToHex(i.prevTxid)}:${i.vout}`);

/** The block's spends, "txid:vout" to the spending txid. */
function spendsOf(b: Block): Map<string, string> {
  const out = new Map<string, string>();
  for (const tx of b.txs.slice(1)) {
    const id = hashToHex(txid(tx));
    for (const i of tx.inputs) out.set(`${hashToHex(i.prevTxid)}:${i.vout}`, id);
  }
  return out;
}

/** The block transaction that spent a tracked transaction's input, if the tracked one is now neither in the pool nor on the chain. */
function replacedBy(api: Lookups, c: WsClient, spentBy: Map<string, string>): string | undefined {
  if (!c.trackTx || !c.trackTxInputs || api.view.findTx(c.trackTx)) return undefined;
  for (const o of c.trackTxInputs) {
    const by = spentBy.get(o);
    if (by) return by;
  }
  return undefined;
}

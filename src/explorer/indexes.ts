// The explorer's own indexes, kept in named databases of the chain's LMDB environment and written
// by the store's commit hook, so they change in the same transaction as the chain (a kill -9
// leaves both before or both after a block). What the chain store lacks and an explorer needs:
// where each transaction is, who spent each output, each address's transactions, coins and
// totals, the reorganisations seen, and the names a holder is asked by (an Esplora scripthash, an
// address prefix). Disconnected blocks are undone from their undo data.
import type { Database } from 'lmdb';
import { fromHex, hashToHex } from '../shared/core/bytes.js';
import { sha256 } from '../shared/core/hash.js';
import type { Block } from '../shared/core/block.js';
import type { ChainBatch, ChainEntry } from '../shared/core/chain.js';
import { p2pkhHash, p2pkhScript } from '../shared/core/script.js';
import { isCoinbase, txid } from '../shared/core/tx.js';
import type { Coin } from '../shared/core/validation.js';
import type { LmdbChainStore } from '../shared/node/store/lmdb-store.js';
import {
  type AddressStats,
  type ReorgRecord,
  type SpendRecord,
  type TxLocation,
  type UtxoRecord,
  openAppDb,
} from '../shared/node/store/schema.js';

/** Reorganisations kept at most (oldest forgotten first). */
export const MAX_REORGS_KEPT = 1000;

/** Esplora's scripthash: SHA-256 of the scriptPubKey, in reversed (display) hex. */
export const scripthashOf = (scriptPubKey: Uint8Array): string => hashToHex(sha256(scriptPubKey));

const pad = (n: number, w: number) => String(n).padStart(w, '0');
export const emptyStats = (): AddressStats => ({
  funded_txo_count: 0,
  funded_txo_sum: 0,
  spent_txo_count: 0,
  spent_txo_sum: 0,
  tx_count: 0,
});

export class ExplorerIndexes {
  readonly txs: Database<TxLocation, string>;
  readonly spends: Database<SpendRecord, string>;
  /** `${pkh}:${height}:${pos}` -> txid: an address's confirmed transactions in chain order. */
  readonly addrTxs: Database<string, string>;
  /** `${pkh}:${txid}:${vout}` -> the coin. */
  readonly utxos: Database<UtxoRecord, string>;
  readonly stats: Database<AddressStats, string>;
  readonly reorgs: Database<ReorgRecord, string>;
  readonly meta: Database<unknown, string>;
  /** `s:${scripthash}` and `a:${address}` -> pkh: every P2PKH holder the chain ever paid, by the names a client asks with. */
  readonly names: Database<string, string>;
  /** Called after each committed reorganisation (outside the transaction). */
  onReorg?: (r: ReorgRecord) => void;

  constructor(
    private readonly store: LmdbChainStore,
    private readonly addressOf: (pkh: Uint8Array) => string,
  ) {
    this.txs = openAppDb(store, 'explorer-txs');
    this.spends = openAppDb(store, 'explorer-spends');
    this.addrTxs = openAppDb(store, 'explorer-addr-txs');
    this.utxos = openAppDb(store, 'explorer-utxos');
    this.stats = openAppDb(store, 'explorer-addr-stats');
    this.reorgs = openAppDb(store, 'explorer-reorgs');
    this.meta = openAppDb(store, 'explorer-meta');
    this.names = openAppDb(store, 'explorer-names');
  }

  /** Names every holder of the stats index once (indexes built before the names were): one pass, in one transaction. */
  nameIfUnnamed(): number {
    if (this.meta.get('namesIndexed') !== undefined) return 0;
    let n = 0;
    this.store.root.transactionSync(() => {
      for (const pkh of this.stats.getKeys()) (this.name(pkh), n++);
      this.meta.putSync('namesIndexed', true);
    });
    return n;
  }

  private name(pkh: string): void {
    const raw = fromHex(pkh);
    this.names.putSync(`s:${scripthashOf(p2pkhScript(raw))}`, pkh);
    this.names.putSync(`a:${this.addressOf(raw)}`, pkh);
  }

  /** The pkh a scripthash names, if the chain ever paid it. */
  pkhOfScripthash(scripthash: string): string | undefined {
    return this.names.get(`s:${scripthash}`);
  }

  /** Addresses the chain ever paid that start with prefix, in order, at most max. */
  addressesStartingWith(prefix: string, max: number): string[] {
    const out: string[] = [];
    for (const key of this.names.getKeys({ start: `a:${prefix}`, end: `a:${prefix}~` })) {
      out.push(key.slice(2));
      if (out.length >= max) break;
    }
    return out;
  }

  /** Keeps the indexes in the chain's commits from now on. */
  attach(): void {
    this.store.commitHooks.push((b) => this.apply(b));
  }

  /**
   * Indexes the active chain from genesis if the indexes were never built (an explorer started
   * on a miner's or wallet's copied chain), block by block from the store's undo data.
   */
  buildIfEmpty(active: (h: number) => ChainEntry | undefined, height: number): number {
    if (this.meta.get('indexedTip') !== undefined) return 0;
    let n = 0;
    this.store.root.transactionSync(() => {
      for (let h = 1; h <= height; h++) {
        const e = active(h)!;
        const block = this.store.getBlock(e.hash)!;
        this.connect(block, e.height, hashToHex(e.hash), this.store.getUndo(e.hash) ?? []);
        n++;
      }
      const tip = active(height);
      if (tip) this.meta.putSync('indexedTip', hashToHex(tip.hash));
    });
    return n;
  }

  private apply(b: ChainBatch): void {
    const con = b.connected ?? [];
    const dis = b.disconnected ?? [];
    if (!con.length && !dis.length) return;
    for (const d of dis) this.disconnect(d.block, d.entry.height, hashToHex(d.entry.hash), this.store.getUndo(d.entry.hash) ?? []);
    const undo = new Map(b.undo.map((u) => [hashToHex(u.hash), u.spent]));
    for (const c of con) {
      const h = hashToHex(c.entry.hash);
      this.connect(c.block, c.entry.height, h, undo.get(h) ?? this.store.getUndo(c.entry.hash) ?? []);
    }
    if (b.tip) this.meta.putSync('indexedTip', hashToHex(b.tip));
    if (dis.length) this.recordReorg(dis, con);
  }

  private recordReorg(dis: readonly { entry: ChainEntry }[], con: readonly { entry: ChainEntry }[]): void {
    const seq = ((this.meta.get('reorgSeq') as number | undefined) ?? 0) + 1;
    this.meta.putSync('reorgSeq', seq);
    const rec: ReorgRecord = {
      seq,
      at: Date.now(),
      forkHeight: dis[dis.length - 1]!.entry.height - 1,
      disconnected: dis.map((d) => ({ hash: hashToHex(d.entry.hash), height: d.entry.height })),
      connected: con.map((c) => ({ hash: hashToHex(c.entry.hash), height: c.entry.height })),
    };
    this.reorgs.putSync(pad(seq, 10), rec);
    if (seq > MAX_REORGS_KEPT) this.reorgs.removeSync(pad(seq - MAX_REORGS_KEPT, 10));
    const cb = this.onReorg;
    if (cb) queueMicrotask(() => cb(rec));
  }

  private bump(pkh: string, f: (s: AddressStats) => void): void {
    const old = this.stats.get(pkh);
    if (!old) this.name(pkh);
    const s = { ...(old ?? emptyStats()) };
    f(s);
    this.stats.putSync(pkh, s);
  }

  /** Indexes one block connected at height; spent are its undo coins, in input order. */
  private connect(block: Block, height: number, hash: string, spent: readonly Coin[]): void {
    let u = 0;
    block.txs.forEach((tx, pos) => {
      const id = hashToHex(txid(tx));
      this.txs.putSync(id, { block: hash, height, pos });
      const touched = new Set<string>();
      if (!isCoinbase(tx)) {
        tx.inputs.forEach((inp, vin) => {
          const coin = spent[u++];
          const prev = hashToHex(inp.prevTxid);
          this.spends.putSync(`${prev}:${inp.vout}`, {
            txid: id,
            vin,
            height,
            block: hash,
            value: coin?.value.toString() ?? '0',
            script: coin ? Buffer.from(coin.scriptPubKey).toString('hex') : '',
          });
          const pkh = coin && p2pkhHash(coin.scriptPubKey);
          if (!coin || !pkh) return;
          const p = Buffer.from(pkh).toString('hex');
          touched.add(p);
          this.utxos.removeSync(`${p}:${prev}:${inp.vout}`);
          this.bump(p, (s) => {
            s.spent_txo_count++;
            s.spent_txo_sum += Number(coin.value);
          });
        });
      }
      tx.outputs.forEach((o, vout) => {
        const pkh = p2pkhHash(o.scriptPubKey);
        if (!pkh) return;
        const p = Buffer.from(pkh).toString('hex');
        touched.add(p);
        this.utxos.putSync(`${p}:${id}:${vout}`, { value: o.value.toString(), height, block: hash });
        this.bump(p, (s) => {
          s.funded_txo_count++;
          s.funded_txo_sum += Number(o.value);
        });
      });
      for (const p of touched) {
        this.addrTxs.putSync(`${p}:${pad(height, 10)}:${pad(pos, 6)}`, id);
        this.bump(p, (s) => s.tx_count++);
      }
    });
  }

  /** Undoes connect for a block leaving the active chain. */
  private disconnect(block: Block, height: number, hash: string, spent: readonly Coin[]): void {
    let u = spent.length;
    for (let pos = block.txs.length - 1; pos >= 0; pos--) {
      const tx = block.txs[pos]!;
      const id = hashToHex(txid(tx));
      const touched = new Set<string>();
      tx.outputs.forEach((o, vout) => {
        const pkh = p2pkhHash(o.scriptPubKey);
        if (!pkh) return;
        const p = Buffer.from(pkh).toString('hex');
        touched.add(p);
        this.utxos.removeSync(`${p}:${id}:${vout}`);
        this.bump(p, (s) => {
          s.funded_txo_count--;
          s.funded_txo_sum -= Number(o.value);
        });
      });
      if (!isCoinbase(tx)) {
        for (let vin = tx.inputs.length - 1; vin >= 0; vin--) {
          const inp = tx.inputs[vin]!;
          const coin = spent[--u];
          const prev = hashToHex(inp.prevTxid);
          this.spends.removeSync(`${prev}:${inp.vout}`);
          const pkh = coin && p2pkhHash(coin.scriptPubKey);
          if (!coin || !pkh) continue;
          const p = Buffer.from(pkh).toString('hex');
          touched.add(p);
          const from = this.txs.get(prev);
          this.utxos.putSync(`${p}:${prev}:${inp.vout}`, { value: coin.value.toString(), height: coin.height, block: from?.block ?? '' });
          this.bump(p, (s) => {
            s.spent_txo_count--;
            s.spent_txo_sum -= Number(coin.value);
          });
        }
      }
      for (const p of touched) {
        this.addrTxs.removeSync(`${p}:${pad(height, 10)}:${pad(pos, 6)}`);
        this.bump(p, (s) => s.tx_count--);
      }
      this.txs.removeSync(id);
    }
  }

  /** An address's confirmed txids, newest first, after the one at `before` (a key), at most max. */
  addressTxids(pkh: string, max: number, afterTxid?: string): string[] | undefined {
    const end = `${pkh}:`;
    let start = `${pkh};`;
    if (afterTxid !== undefined) {
      const loc = this.txs.get(afterTxid);
      if (!loc) return undefined;
      start = `${pkh}:${pad(loc.height, 10)}:${pad(loc.pos, 6)}`;
    }
    const out: string[] = [];
    for (const { key, value } of this.addrTxs.getRange({ start, end, reverse: true })) {
      if (key === start) continue;
      out.push(value);
      if (out.length >= max) break;
    }
    return out;
  }

  addressUtxos(pkh: string, max: number): { txid: string; vout: number; rec: UtxoRecord }[] {
    const out: { txid: string; vout: number; rec: UtxoRecord }[] = [];
    for (const { key, value } of this.utxos.getRange({ start: `${pkh}:`, end: `${pkh};` })) {
      const [, id, vout] = key.split(':');
      out.push({ txid: id!, vout: Number(vout), rec: value });
      if (out.length >= max) break;
    }
    return out;
  }

  recentReorgs(max: number): ReorgRecord[] {
    const out: ReorgRecord[] = [];
    for (const { value } of this.reorgs.getRange({ reverse: true })) {
      out.push(value);
      if (out.length >= max) break;
    }
    return out;
  }
}

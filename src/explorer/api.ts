// The Esplora REST paths (github.com/Blockstream/esplora/blob/master/API.md), one route each: a
// method, a pattern whose groups are the path parameters, and a handler that checks every
// parameter (params.ts) before any lookup. Lists are paged with Esplora's page sizes and bounded.
import { fromHex, hashToHex, hexToHash, toHex } from '../shared/core/bytes.js';
import { encodeBlock } from '../shared/core/block.js';
import { encodeHeader } from '../shared/core/header.js';
import { encodeTx, txid } from '../shared/core/tx.js';
import { p2pkhHash } from '../shared/core/script.js';
import { ValidationError } from '../shared/core/validation.js';
import { DecodeError } from '../shared/core/bytes.js';
import { merkleBranch } from '../shared/node/annotate.js';
import type { Explorer } from './explorer.js';
import { Lookups } from './lookups.js';
import { projectedBlocks } from './projected.js';
import { type Reply, type Route, MAX_HEIGHT } from './route.js';
import { address, bad, hash64, notFound, uint } from './params.js';
import { mvbRoutes } from './api-mvb.js';

/** Esplora's page sizes. */
export const BLOCKS_PER_PAGE = 10;
export const TXS_PER_PAGE = 25;
export const MEMPOOL_TXS_PER_ADDRESS = 50;

const json = (body: unknown): Reply => ({ kind: 'json', body });
const text = (body: string): Reply => ({ kind: 'text', body });

export class Api extends Lookups {
  readonly routes: Route[];

  constructor(ex: Explorer) {
    super(ex);
    const P = '([^/]*)';
    const r = (method: Route['method'], path: string, handle: Route['handle']): Route => ({
      method,
      pattern: new RegExp(`^/api${path.replaceAll(':p', P)}$`),
      handle,
    });
    const c = ex.chain;
    this.routes = [
      r('GET', '/blocks/tip/height', () => text(String(c.height))),
      r('GET', '/blocks/tip/hash', () => text(hashToHex(c.tip.hash))),
      r('GET', '/blocks', () => json(this.blocksFrom(c.height))),
      r('GET', '/blocks/:p', (m) => json(this.blocksFrom(Math.min(uint(m[1]!, 'start height', MAX_HEIGHT), c.height)))),
      r('GET', '/block-height/:p', (m) => text(hashToHex(this.activeAt(uint(m[1]!, 'height', MAX_HEIGHT)).hash))),
      r('GET', '/block/:p', (m) => this.withBlock(m[1]!, (e, b) => json(this.view.blockJson(e, b)))),
      r('GET', '/block/:p/header', (m) => text(toHex(encodeHeader(this.entry(m[1]!).header)))),
      r('GET', '/block/:p/status', (m) => json(this.view.blockStatus(this.entry(m[1]!)))),
      r('GET', '/block/:p/txids', (m) => this.withBlock(m[1]!, (_e, b) => json(b.txs.map((t) => hashToHex(txid(t)))))),
      r('GET', '/block/:p/txid/:p', (m) =>
        this.withBlock(m[1]!, (_e, b) => text(hashToHex(txid(b.txs[uint(m[2]!, 'index', b.txs.length - 1)]!)))),
      ),
      r('GET', '/block/:p/txs', (m) => this.blockTxs(m[1]!, '0')),
      r('GET', '/block/:p/txs/:p', (m) => this.blockTxs(m[1]!, m[2]!)),
      r('GET', '/block/:p/raw', (m) => this.withBlock(m[1]!, (_e, b) => ({ kind: 'bytes', body: encodeBlock(b) }))),
      r('GET', '/tx/:p', (m) => {
        const f = this.tx(m[1]!);
        return json(this.view.tx(f.tx, f.loc));
      }),
      r('GET', '/tx/:p/status', (m) => json(this.view.status(this.tx(m[1]!).loc))),
      r('GET', '/tx/:p/hex', (m) => text(toHex(encodeTx(this.tx(m[1]!).tx)))),
      r('GET', '/tx/:p/raw', (m) => ({ kind: 'bytes', body: encodeTx(this.tx(m[1]!).tx) })),
      r('GET', '/tx/:p/merkle-proof', (m) => this.merkleProof(m[1]!)),
      r('GET', '/tx/:p/outspend/:p', (m) => {
        const f = this.tx(m[1]!);
        const vout = uint(m[2]!, 'output index', 0xffffffff);
        if (vout >= f.tx.outputs.length) notFound('no such output');
        return json(this.outspend(hash64(m[1]!, 'txid'), vout));
      }),
      r('GET', '/tx/:p/outspends', (m) => {
        const f = this.tx(m[1]!);
        const id = hash64(m[1]!, 'txid');
        const pooled = this.mempoolSpendsOf(id);
        return json(f.tx.outputs.map((_o, v) => this.outspend(id, v, pooled)));
      }),
      r('POST', '/tx', async (_m, _q, body, from) => text(await this.postTx(body, from))),
      r('GET', '/address/:p', (m) => json(this.addressJson(m[1]!))),
      r('GET', '/address/:p/txs', (m) => json([...this.addressMempool(m[1]!), ...this.addressChain(m[1]!)])),
      r('GET', '/address/:p/txs/chain', (m) => json(this.addressChain(m[1]!))),
      r('GET', '/address/:p/txs/chain/:p', (m) => json(this.addressChain(m[1]!, hash64(m[2]!, 'last seen txid')))),
      r('GET', '/address/:p/txs/mempool', (m) => json(this.addressMempool(m[1]!))),
      r('GET', '/address/:p/utxo', (m) => json(this.addressUtxo(m[1]!))),
      r('GET', '/mempool', () => json(this.mempoolJson())),
      r('GET', '/mempool/txids', () => json(ex.mempool.all().map((e) => hashToHex(e.txid)))),
      r('GET', '/mempool/recent', () => json(this.mempoolRecent())),
      r('GET', '/fee-estimates', () => json(this.feeEstimates())),
      ...mvbRoutes(this),
    ];
  }

  // ---------------------------------------------------------------- handlers

  private blocksFrom(start: number): unknown[] {
    const out: unknown[] = [];
    for (let h = start; h >= 0 && out.length < BLOCKS_PER_PAGE; h--) {
      const e = this.ex.chain.atHeight(h)!;
      const b = this.view.block(e.hash);
      if (b) out.push(this.view.blockJson(e, b));
    }
    return out;
  }

  private blockTxs(hashParam: string, startParam: string): Reply {
    return this.withBlock(hashParam, (e, b) => {
      const start = uint(startParam, 'start index', 0xffffffff);
      if (start % TXS_PER_PAGE !== 0) bad(`start index must be a multiple of ${TXS_PER_PAGE}`);
      if (start >= b.txs.length) bad('start index out of range');
      const loc = (pos: number) => ({ block: hashToHex(e.hash), height: e.height, pos });
      const active = this.ex.chain.isActive(e);
      return json(b.txs.slice(start, start + TXS_PER_PAGE).map((t, i) => this.view.tx(t, active ? loc(start + i) : undefined)));
    });
  }

  private merkleProof(idParam: string): Reply {
    const f = this.tx(idParam);
    if (!f.loc) return notFound('Transaction not confirmed');
    const b = this.view.block(hexToHash(f.loc.block))!;
    return json({ block_height: f.loc.height, merkle: merkleBranch(b.txs.map(txid), f.loc.pos), pos: f.loc.pos });
  }

  outspend(id: string, vout: number, pooled = this.mempoolSpendsOf(id)): Record<string, unknown> {
    const s = this.ex.indexes.spends.get(`${id}:${vout}`);
    if (s) return { spent: true, txid: s.txid, vin: s.vin, status: this.view.status({ block: s.block, height: s.height, pos: 0 }) };
    const p = pooled.get(vout);
    return p ? { spent: true, txid: p.txid, vin: p.vin, status: { confirmed: false } } : { spent: false };
  }

  /** Pool transactions spending outputs of txid `id`, by output index: one pass over the pool per request, not one per output. */
  private mempoolSpendsOf(id: string): Map<number, { txid: string; vin: number }> {
    const prev = hexToHash(id);
    const out = new Map<number, { txid: string; vin: number }>();
    for (const e of this.ex.mempool.all())
      e.tx.inputs.forEach((i, vin) => {
        if (!out.has(i.vout) && i.prevTxid.every((b, k) => b === prev[k])) out.set(i.vout, { txid: hashToHex(e.txid), vin });
      });
    return out;
  }

  private async postTx(body: string, from: string): Promise<string> {
    const hex = body.trim();
    const max = this.ex.settings.params.maxTxBytes;
    if (hex.length > 2 * max) bad(`transaction too large: more than ${max} bytes`);
    if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex))
      bad('TX decode failed: expected the raw transaction in hex');
    try {
      return await this.ex.submit(fromHex(hex.toLowerCase()), from);
    } catch (e) {
      if (e instanceof DecodeError) return bad(`TX decode failed: ${e.message}`);
      if (e instanceof ValidationError) return bad(`sendrawtransaction RPC error: ${JSON.stringify({ code: -26, message: e.message })}`);
      throw e;
    }
  }

  pkhOf(addr: string): string {
    return address(addr, this.ex.settings.params.addressVersion);
  }

  private addressJson(addr: string): Record<string, unknown> {
    const pkh = this.pkhOf(addr);
    const chain = this.ex.indexes.stats.get(pkh) ?? {
      funded_txo_count: 0,
      funded_txo_sum: 0,
      spent_txo_count: 0,
      spent_txo_sum: 0,
      tx_count: 0,
    };
    const mem = { funded_txo_count: 0, funded_txo_sum: 0, spent_txo_count: 0, spent_txo_sum: 0, tx_count: 0 };
    for (const t of this.addressMempool(addr) as {
      vin: { prevout: { scriptpubkey_address?: string; value: number } | null }[];
      vout: { scriptpubkey_address?: string; value: number }[];
    }[]) {
      mem.tx_count++;
      for (const i of t.vin) if (i.prevout?.scriptpubkey_address === addr) (mem.spent_txo_count++, (mem.spent_txo_sum += i.prevout.value));
      for (const o of t.vout) if (o.scriptpubkey_address === addr) (mem.funded_txo_count++, (mem.funded_txo_sum += o.value));
    }
    return { address: addr, chain_stats: chain, mempool_stats: mem };
  }

  addressChain(addr: string, after?: string): unknown[] {
    const ids =
      this.ex.indexes.addressTxids(this.pkhOf(addr), TXS_PER_PAGE, after) ?? notFound('last seen txid not found in this address’s history');
    return ids.map((id) => {
      const f = this.view.findTx(id)!;
      return this.view.tx(f.tx, f.loc);
    });
  }

  /** The address's pool transactions, newest first: matched on output and prevout scripts before anything is formatted. */
  addressMempool(addr: string): unknown[] {
    const pkh = this.pkhOf(addr);
    const pays = (spk: Uint8Array | undefined) => spk !== undefined && p2pkhHash(spk) !== undefined && toHex(p2pkhHash(spk)!) === pkh;
    const out: unknown[] = [];
    for (const e of this.ex.mempool.all().sort((a, b) => b.seq - a.seq)) {
      const hit =
        e.tx.outputs.some((o) => pays(o.scriptPubKey)) ||
        e.tx.inputs.some((i) => pays(this.view.prevout(i.prevTxid, i.vout)?.scriptPubKey));
      if (hit) out.push(this.view.tx(e.tx));
      if (out.length >= MEMPOOL_TXS_PER_ADDRESS) break;
    }
    return out;
  }

  private addressUtxo(addr: string): unknown[] {
    return this.ex.indexes.addressUtxos(this.pkhOf(addr), 1000).map((u) => ({
      txid: u.txid,
      vout: u.vout,
      status: this.view.status({ block: u.rec.block, height: u.rec.height, pos: 0 }),
      value: Number(u.rec.value),
    }));
  }

  private mempoolJson(): Record<string, unknown> {
    const all = this.ex.mempool.all().sort((a, b) => b.feeRate - a.feeRate);
    const histogram: [number, number][] = [];
    for (const e of all) {
      const last = histogram[histogram.length - 1];
      const rate = Math.floor(e.feeRate * 10) / 10;
      if (last && last[0] === rate) last[1] += e.size;
      else histogram.push([rate, e.size]);
    }
    return {
      count: all.length,
      vsize: this.ex.mempool.totalBytes,
      total_fee: all.reduce((a, e) => a + Number(e.fee), 0),
      fee_histogram: histogram.slice(0, 100),
    };
  }

  private mempoolRecent(): unknown[] {
    return this.ex.mempool
      .all()
      .sort((a, b) => b.seq - a.seq)
      .slice(0, 10)
      .map((e) => ({
        txid: hashToHex(e.txid),
        fee: Number(e.fee),
        vsize: e.size,
        value: e.tx.outputs.reduce((a, o) => a + Number(o.value), 0),
      }));
  }

  /** Fee rate (base units per byte) to be in the projected block n, Esplora's targets. */
  private feeEstimates(): Record<string, number> {
    const blocks = projectedBlocks(this.ex, 8);
    const floor = this.ex.settings.minRelayFeeRate;
    const out: Record<string, number> = {};
    for (const t of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008]) {
      const b = blocks[t - 1];
      out[String(t)] = b && b.full ? Math.max(floor, b.minFeeRate) : floor;
    }
    return out;
  }
}

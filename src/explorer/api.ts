// The Esplora REST paths (github.com/Blockstream/esplora/blob/master/API.md), one route each: a
// method, a pattern whose groups are the path parameters, and a handler that checks every
// parameter (params.ts) before any lookup. Lists are paged with Esplora's page sizes and bounded.
import { fromHex, hashToHex, hexToHash, toHex } from '../shared/core/bytes.js';
import { encodeBlock } from '../shared/core/block.js';
import { encodeHeader } from '../shared/core/header.js';
import { encodeTx, txid } from '../shared/core/tx.js';
import { ValidationError } from '../shared/core/validation.js';
import { DecodeError } from '../shared/core/bytes.js';
import { merkleBranch } from '../shared/node/annotate.js';
import type { Explorer } from './explorer.js';
import { Lookups } from './lookups.js';
import { projectedBlocks } from './projected.js';
import { type Reply, type Route, MAX_HEIGHT } from './route.js';
import { address, addressPrefix, bad, hash64, jsonBody, notFound, scripthash, uint } from './params.js';
import { type Holder, addressHolder, holderChain, holderJson, holderMempool, holderTxs, holderUtxo, scripthashHolder } from './history.js';
import { buildPartialMerkleTree, encodePartialMerkleTree } from '../shared/core/partial-merkle.js';
import { MAX_PACKAGE_BYTES, MAX_PACKAGE_COUNT } from '../shared/core/package.js';
import { mvbRoutes } from './api-mvb.js';
import { v1Routes } from './api-v1.js';
import { PROJECTED_FOR_FEES, estimateFees } from './fees.js';

/** Esplora's page sizes. */
export const BLOCKS_PER_PAGE = 10;
import { TXS_PER_PAGE } from './history.js';
/** Addresses /address-prefix lists at most (electrs's ADDRESS_SEARCH_LIMIT). */
export const ADDRESS_PREFIX_MATCHES = 10;

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
        this.withBlock(m[1]!, (_e, b) => {
          const tx = b.txs[uint(m[2]!, 'index', 0xffffffff)] ?? notFound('tx index out of range');
          return text(hashToHex(txid(tx)));
        }),
      ),
      r('GET', '/block/:p/txs', (m) => this.blockTxs(m[1]!, '0')),
      r('GET', '/block/:p/txs/:p', (m) => this.blockTxs(m[1]!, m[2]!)),
      r('GET', '/block/:p/raw', (m) => this.withBlock(m[1]!, (_e, b) => ({ kind: 'bytes', body: encodeBlock(b) }))),
      r('GET', '/tx/:p', (m) => {
        const f = this.tx(m[1]!);
        return json(this.view.tx(f.tx, f.loc));
      }),
      // electrs: an unknown txid is simply not confirmed.
      r('GET', '/tx/:p/status', (m) => json(this.view.status(this.view.findTx(hash64(m[1]!, 'txid'))?.loc))),
      r('GET', '/tx/:p/hex', (m) => text(toHex(encodeTx(this.tx(m[1]!).tx)))),
      r('GET', '/tx/:p/raw', (m) => ({ kind: 'bytes', body: encodeTx(this.tx(m[1]!).tx) })),
      r('GET', '/tx/:p/merkle-proof', (m) => this.merkleProof(m[1]!)),
      r('GET', '/tx/:p/merkleblock-proof', (m) => this.merkleBlockProof(m[1]!)),
      // electrs looks the outpoint up in its spend index, whatever the transaction: no spend, {"spent":false}.
      r('GET', '/tx/:p/outspend/:p', (m) => json(this.outspend(hash64(m[1]!, 'txid'), uint(m[2]!, 'output index', 0xffffffff)))),
      r('GET', '/tx/:p/outspends', (m) => {
        const f = this.tx(m[1]!);
        const id = hash64(m[1]!, 'txid');
        const pooled = this.mempoolSpendsOf(id);
        return json(f.tx.outputs.map((_o, v) => this.outspend(id, v, pooled)));
      }),
      r('POST', '/tx', async (_m, _q, body, from) => text(await this.postTx(body, from))),
      r('POST', '/txs/package', async (_m, _q, body, from) => json(await this.postPackage(body, from))),
      ...this.holderRoutes(r),
      r('GET', '/address-prefix/:p', (m) => json(ex.indexes.addressesStartingWith(addressPrefix(m[1]!), ADDRESS_PREFIX_MATCHES))),
      r('GET', '/mempool', () => json(this.mempoolJson())),
      r('GET', '/mempool/txids', () => json(ex.mempool.all().map((e) => hashToHex(e.txid)))),
      r('GET', '/mempool/recent', () => json(this.mempoolRecent())),
      r('GET', '/fee-estimates', () => json(this.feeEstimates())),
      ...mvbRoutes(this),
      ...v1Routes(this),
    ];
  }

  /** The /address and /scripthash families: the same six paths, a holder named two ways (history.ts). */
  private holderRoutes(r: (method: Route['method'], path: string, handle: Route['handle']) => Route): Route[] {
    return (['address', 'scripthash'] as const).flatMap((family) => {
      const holder = (p: string) => (family === 'address' ? this.byAddress(p) : scripthashHolder(this, scripthash(p)));
      return [
        r('GET', `/${family}/:p`, (m) => json(holderJson(this, holder(m[1]!)))),
        r('GET', `/${family}/:p/txs`, (m) => json(holderTxs(this, holder(m[1]!)))),
        r('GET', `/${family}/:p/txs/chain`, (m) => json(holderChain(this, holder(m[1]!)))),
        r('GET', `/${family}/:p/txs/chain/:p`, (m) => json(holderChain(this, holder(m[1]!), hash64(m[2]!, 'last seen txid')))),
        r('GET', `/${family}/:p/txs/mempool`, (m) => json(holderMempool(this, holder(m[1]!)))),
        r('GET', `/${family}/:p/utxo`, (m) => json(holderUtxo(this, holder(m[1]!)))),
      ];
    });
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
      if (start >= b.txs.length) notFound('start index out of range');
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

  private byAddress(addr: string): Holder {
    return addressHolder(addr, address(addr, this.ex.settings.params.addressVersion));
  }

  /** BIP37's merkleblock for the transaction's block, matching only it: Core's gettxoutproof, in hex. */
  private merkleBlockProof(idParam: string): Reply {
    const f = this.tx(idParam);
    if (!f.loc) return notFound('Transaction not found or is unconfirmed');
    const b = this.view.block(hexToHash(f.loc.block))!;
    const tree = buildPartialMerkleTree(
      b.txs.map(txid),
      b.txs.map((_t, i) => i === f.loc!.pos),
    );
    return text(toHex(encodeHeader(b.header)) + toHex(encodePartialMerkleTree(tree)));
  }

  /** POST /txs/package: a JSON array of raw transactions in hex, parents first, the child last. */
  private async postPackage(body: string, from: string): Promise<Record<string, unknown>> {
    const list = jsonBody(body, 2 * MAX_PACKAGE_BYTES + 4 * MAX_PACKAGE_COUNT + 16);
    if (!Array.isArray(list) || list.length < 1 || list.length > MAX_PACKAGE_COUNT)
      bad(`package must be a JSON array of 1 to ${MAX_PACKAGE_COUNT} raw transactions in hex`);
    const raws = (list as unknown[]).map((h, i) => {
      if (typeof h !== 'string' || h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h))
        bad(`TX decode failed: package entry ${i} is not a raw transaction in hex`);
      return fromHex((h as string).toLowerCase());
    });
    const v = await this.ex.submitPackage(raws, from);
    if (v.kind === 'undecodable') return bad(`TX decode failed: package entry ${v.index}: ${v.reason}`);
    if (v.kind === 'package-rejected') return bad(`submitpackage RPC error: ${v.reason}`);
    const results: Record<string, unknown> = {};
    for (const t of v.results) {
      if (t.kind === 'undecodable') return bad(`TX decode failed: ${t.reason}`);
      if (t.kind !== 'accepted' && t.kind !== 'known') {
        const why = t.kind === 'rejected' ? t.error.message : t.kind === 'dropped' ? 'mempool full: try again' : t.kind;
        return bad(`transaction failed: ${t.txid}: ${why}`);
      }
      const e = this.ex.mempool.get(hexToHash(t.txid));
      const base = Number(e?.fee ?? 0n) / 1e8;
      const vsize = e?.size ?? 0;
      // Core's shape, keyed by wtxid (the txid: no witnesses); fee rates in coins per kvB.
      results[t.txid] = {
        txid: t.txid,
        vsize,
        fees: { base, 'effective-feerate': vsize ? (base * 1000) / vsize : 0, 'effective-includes': [t.txid] },
      };
    }
    return { package_msg: 'success', 'tx-results': results, 'replaced-transactions': [] };
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

  /**
   * Esplora's targets, each with its estimate (fees.ts: recent blocks and the projected pool); a
   * target with no data is left out, as electrs leaves out what Core cannot estimate ({} at first).
   */
  private feeEstimates(): Record<string, number> {
    const out: Record<string, number> = {};
    const est = estimateFees(this.ex.fees, projectedBlocks(this.ex, PROJECTED_FOR_FEES), this.ex.settings.minRelayFeeRate);
    for (const e of est) if (e.feeRate !== undefined) out[String(e.target)] = e.feeRate;
    return out;
  }
}

// The Electrum protocol's methods (electrumx.readthedocs.io, protocol 1.4 to 1.4.2), one entry
// each: its parameter names (positional or named) and a handler that checks every parameter
// (rpc.ts) before any lookup. Answers reuse what the HTTP side reads: the Esplora view, the
// address indexes, the holder statistics and coins (history.ts), the fee estimator (fees.ts).
import { DecodeError, fromHex, hashToHex, hexToHash, toHex } from '../../shared/core/bytes.js';
import { encodeHeader } from '../../shared/core/header.js';
import { encodeTx, txid } from '../../shared/core/tx.js';
import { ValidationError } from '../../shared/core/validation.js';
import { merkleBranch } from '../../shared/node/annotate.js';
import { PROJECTED_FOR_FEES, estimateFees } from '../fees.js';
import { holderJson, holderUtxo, scripthashHolder } from '../history.js';
import { projectedBlocks } from '../projected.js';
import { type HistoryItem, history, statusOf } from './history.js';
import { BAD_REQUEST, INVALID_PARAMS, RpcError, boolParam, hashParam, intParam } from './rpc.js';
import type { ElectrumContext, ElectrumSession } from './context.js';
import { negotiate } from './version.js';
import { verboseTx } from './verbose-tx.js';

/** Headers blockchain.block.headers sends at most (the protocol's "max"). */
export const MAX_HEADERS = 2016;
const MAX_HEIGHT = 0x7fffffff;

type Handler = (c: ElectrumContext, s: ElectrumSession, p: unknown[]) => unknown;
export interface ElectrumMethod {
  readonly params: readonly string[];
  readonly handle: Handler;
}

const m = (params: readonly string[], handle: Handler): ElectrumMethod => ({ params, handle });
const perKb = (perByte: number): number => Math.round(perByte * 1000) / 1e8;
const headerHex = (c: ElectrumContext, h: number) => toHex(encodeHeader(c.l.activeAt(h).header));

function activeHeight(c: ElectrumContext, v: unknown, name: string): number {
  const h = intParam(v, name, 0, MAX_HEIGHT);
  if (h > c.l.ex.chain.height) throw new RpcError(BAD_REQUEST, `${name} ${h} is past the tip (height ${c.l.ex.chain.height})`);
  return h;
}

/** cp_height 0 means none; else height <= cp_height <= tip (the protocol's rule). */
function checkpoint(c: ElectrumContext, v: unknown, height: number): number {
  const cp = intParam(v, 'cp_height', 0, MAX_HEIGHT, 0);
  if (cp !== 0 && (cp < height || cp > c.l.ex.chain.height))
    throw new RpcError(BAD_REQUEST, `cp_height ${cp} must be from ${height} to the tip (${c.l.ex.chain.height})`);
  return cp;
}

function tip(c: ElectrumContext): { hex: string; height: number } {
  return { hex: headerHex(c, c.l.ex.chain.height), height: c.l.ex.chain.height };
}

function findTx(c: ElectrumContext, v: unknown): NonNullable<ReturnType<ElectrumContext['l']['view']['findTx']>> {
  const f = c.l.view.findTx(hashParam(v, 'tx_hash'));
  if (!f) throw new RpcError(BAD_REQUEST, 'no such mempool or blockchain transaction');
  return f;
}

function scripthashHistory(c: ElectrumContext, v: unknown): HistoryItem[] {
  return history(c.l, c.pool(), hashParam(v, 'scripthash'));
}

async function broadcast(c: ElectrumContext, s: ElectrumSession, v: unknown): Promise<string> {
  const max = c.l.ex.settings.params.maxTxBytes;
  if (typeof v !== 'string' || v.length === 0 || v.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(v))
    throw new RpcError(INVALID_PARAMS, 'raw_tx must be the transaction in hex');
  if (v.length > 2 * max) throw new RpcError(BAD_REQUEST, `transaction too large: more than ${max} bytes`);
  if (!c.mayBroadcast(s.source)) throw new RpcError(BAD_REQUEST, 'too many transactions from this address: try again in a second');
  try {
    return await c.l.ex.submit(fromHex(v.toLowerCase()), `electrum ${s.source}`);
  } catch (e) {
    if (e instanceof DecodeError) throw new RpcError(BAD_REQUEST, `TX decode failed: ${e.message}`);
    if (e instanceof ValidationError) throw new RpcError(BAD_REQUEST, `the transaction was rejected by network rules: ${e.message}`);
    throw e;
  }
}

function txMerkle(c: ElectrumContext, txHash: unknown, heightParam: unknown): Record<string, unknown> {
  const id = hashParam(txHash, 'tx_hash');
  const height = activeHeight(c, heightParam, 'height');
  const loc = c.l.ex.indexes.txs.get(id);
  if (!loc || loc.height !== height) throw new RpcError(BAD_REQUEST, `tx ${id} is not in the block at height ${height}`);
  const b = c.l.view.block(hexToHash(loc.block))!;
  return { block_height: height, merkle: merkleBranch(b.txs.map(txid), loc.pos), pos: loc.pos };
}

function idFromPos(c: ElectrumContext, p: unknown[]): unknown {
  const height = activeHeight(c, p[0], 'height');
  const b = c.l.view.block(c.l.activeAt(height).hash)!;
  const pos = intParam(p[1], 'tx_pos', 0, 0xffffffff);
  const tx = b.txs[pos];
  if (!tx) throw new RpcError(BAD_REQUEST, `no tx at position ${pos} in the block at height ${height}`);
  const id = hashToHex(txid(tx));
  return boolParam(p[2], 'merkle') ? { tx_hash: id, merkle: merkleBranch(b.txs.map(txid), pos) } : id;
}

function headers(c: ElectrumContext, p: unknown[]): Record<string, unknown> {
  // Past the tip is not an error (ElectrumX answers count 0): a client syncing asks from its own height + 1.
  const start = intParam(p[0], 'start_height', 0, MAX_HEIGHT);
  const count = Math.max(0, Math.min(intParam(p[1], 'count', 0, MAX_HEIGHT), MAX_HEADERS, c.l.ex.chain.height - start + 1));
  if (count === 0) return { count, hex: '', max: MAX_HEADERS };
  const cp = checkpoint(c, p[2], start + count - 1);
  let hex = '';
  for (let h = start; h < start + count; h++) hex += headerHex(c, h);
  const out: Record<string, unknown> = { count, hex, max: MAX_HEADERS };
  return cp ? { ...out, ...c.proofs.proof(start + count - 1, cp) } : out;
}

/** ElectrumX's compact histogram: [fee rate, bytes] from the highest rate down, each bin at least binBytes (growing by a tenth). */
function feeHistogram(c: ElectrumContext): [number, number][] {
  const out: [number, number][] = [];
  let binBytes = 100_000;
  let size = 0;
  const all = c.l.ex.mempool.all().sort((a, b) => b.feeRate - a.feeRate);
  all.forEach((e, i) => {
    size += e.size;
    if (size >= binBytes || i === all.length - 1) {
      out.push([Math.floor(e.feeRate * 100) / 100, size]);
      size = 0;
      binBytes *= 1.1;
    }
  });
  return out;
}

export const METHODS: ReadonlyMap<string, ElectrumMethod> = new Map([
  ['server.version', m(['client_name', 'protocol_version'], (c, s, p) => negotiate(c, s, p[0], p[1]))],
  ['server.features', m([], (c) => c.features())],
  ['server.banner', m([], (c) => c.banner)],
  ['server.donation_address', m([], () => '')],
  ['server.peers.subscribe', m([], () => [])],
  ['server.ping', m([], () => null)],
  [
    'blockchain.headers.subscribe',
    m(['raw'], (c, s) => {
      c.subs.subscribeHeaders(s);
      return tip(c);
    }),
  ],
  [
    'blockchain.block.header',
    m(['height', 'cp_height'], (c, _s, p) => {
      const h = activeHeight(c, p[0], 'height');
      const cp = checkpoint(c, p[1], h);
      return cp ? { header: headerHex(c, h), ...c.proofs.proof(h, cp) } : headerHex(c, h);
    }),
  ],
  ['blockchain.block.headers', m(['start_height', 'count', 'cp_height'], (c, _s, p) => headers(c, p))],
  [
    'blockchain.estimatefee',
    m(['number', 'mode'], (c, _s, p) => {
      const target = intParam(p[0], 'number', 1, 1008);
      const fees = estimateFees(c.l.ex.fees, projectedBlocks(c.l.ex, PROJECTED_FOR_FEES), c.l.ex.settings.minRelayFeeRate, [target]);
      const rate = fees[0]?.feeRate;
      return rate === undefined ? -1 : perKb(rate);
    }),
  ],
  ['blockchain.relayfee', m([], (c) => perKb(c.l.ex.settings.minRelayFeeRate))],
  [
    'blockchain.scripthash.get_balance',
    m(['scripthash'], (c, _s, p) => {
      const j = holderJson(c.l, scripthashHolder(c.l, hashParam(p[0], 'scripthash'))) as Record<string, Record<string, number>>;
      const net = (x: Record<string, number>) => x['funded_txo_sum']! - x['spent_txo_sum']!;
      return { confirmed: net(j['chain_stats']!), unconfirmed: net(j['mempool_stats']!) };
    }),
  ],
  ['blockchain.scripthash.get_history', m(['scripthash'], (c, _s, p) => scripthashHistory(c, p[0]))],
  ['blockchain.scripthash.get_mempool', m(['scripthash'], (c, _s, p) => c.pool().get(hashParam(p[0], 'scripthash')) ?? [])],
  [
    'blockchain.scripthash.listunspent',
    m(['scripthash'], (c, _s, p) =>
      (holderUtxo(c.l, scripthashHolder(c.l, hashParam(p[0], 'scripthash'))) as Record<string, any>[]).map((u) => ({
        tx_hash: u['txid'],
        tx_pos: u['vout'],
        height: u['status'].block_height ?? 0,
        value: u['value'],
      })),
    ),
  ],
  [
    'blockchain.scripthash.subscribe',
    m(['scripthash'], (c, s, p) => {
      const sh = hashParam(p[0], 'scripthash');
      const status = statusOf(history(c.l, c.pool(), sh));
      c.subs.subscribe(s, sh, status);
      return status;
    }),
  ],
  ['blockchain.scripthash.unsubscribe', m(['scripthash'], (c, s, p) => c.subs.unsubscribe(s, hashParam(p[0], 'scripthash')))],
  ['blockchain.transaction.broadcast', m(['raw_tx'], (c, s, p) => broadcast(c, s, p[0]))],
  [
    'blockchain.transaction.get',
    m(['tx_hash', 'verbose'], (c, _s, p) => {
      const f = findTx(c, p[0]);
      return boolParam(p[1], 'verbose') ? verboseTx(c.l, f.tx, f.loc) : toHex(encodeTx(f.tx));
    }),
  ],
  ['blockchain.transaction.get_merkle', m(['tx_hash', 'height'], (c, _s, p) => txMerkle(c, p[0], p[1]))],
  ['blockchain.transaction.id_from_pos', m(['height', 'tx_pos', 'merkle'], (c, _s, p) => idFromPos(c, p))],
  ['mempool.get_fee_histogram', m([], (c) => feeHistogram(c))],
]);

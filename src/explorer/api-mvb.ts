// What Esplora lacks and a learner needs, under /api/mvb/: the block tree with stale branches, the
// miners heard, reorganisations, live events (SSE), a block and a transaction annotated byte by
// byte (annotate.ts), the mempool as projected blocks, and one search for the page's search box.
import { hashToHex, hexToHash, toHex } from '../shared/core/bytes.js';
import type { ChainEntry } from '../shared/core/chain.js';
import { encodeHeader } from '../shared/core/header.js';
import { bitsToTarget } from '../shared/core/pow.js';
import { hashToNumber } from '../shared/core/header.js';
import { type Tx, encodeTx, isCoinbase, txid } from '../shared/core/tx.js';
import { coinbaseMinerName, coinbaseText } from '../shared/core/coinbase-tag.js';
import { MAX_LEADERBOARD_BLOCKS, leaderboard } from './leaderboard.js';
import type { Faucet } from './faucet.js';
import { validateBlockHex } from './validate.js';
import type { TxLocation } from '../shared/node/store/schema.js';
import { headerFields, merkleLevels, sighashView, txFields } from '../shared/node/annotate.js';
import type { Lookups } from './lookups.js';
import { projectedBlocks } from './projected.js';
import { FEE_HISTORY_BLOCKS, PROJECTED_FOR_FEES, SUCCESS_RATIO, estimateFees } from './fees.js';
import { type Reply, type Route, MAX_HEIGHT } from './route.js';
import { HttpError, address, bad, hash64, notFound, queryUint, uint } from './params.js';

/** Blocks in the tree view at most, and off-chain blocks walked at most. */
export const MAX_TREE_BLOCKS = 500;
const MAX_OFF_CHAIN = 5000;
/** Blocks with more transactions get no drawn Merkle tree (the page would be unreadable). */
export const MAX_MERKLE_TXS = 256;

const json = (body: unknown): Reply => ({ kind: 'json', body });
/** log2 of a 256-bit number, for drawing hash and target on a log axis. */
function log2(n: bigint): number {
  if (n <= 0n) return 0;
  const shift = Math.max(0, n.toString(2).length - 53);
  return Math.log2(Number(n >> BigInt(shift))) + shift;
}

export function mvbRoutes(api: Lookups): Route[] {
  const ex = api.ex;
  const r = (path: string, handle: Route['handle']): Route => ({
    method: 'GET',
    pattern: new RegExp(`^/api/mvb${path.replaceAll(':p', '([^/]*)')}$`),
    handle,
  });
  return [
    r('/summary', () => json(summary(api))),
    r('/tree', (_m, q) => json(tree(api, queryUint(q, 'last', 30, MAX_TREE_BLOCKS)))),
    r('/miners', () => json(miners(api))),
    r('/leaderboard', (_m, q) => json(leaderboard(api, queryUint(q, 'last', 1000, MAX_LEADERBOARD_BLOCKS)))),
    r('/reorgs', (_m, q) => json(ex.indexes.recentReorgs(queryUint(q, 'limit', 20, 100)))),
    r('/events', () => ({ kind: 'events' })),
    r('/block/:p', (m) => json(annotatedBlock(api, m[1]!))),
    r('/tx/:p', (m, q) => json(annotatedTx(api, m[1]!, q.get('block')))),
    r('/mempool/blocks', () => json(projectedBlocks(ex, 8))),
    r('/fee-estimates', () => json(feeDetail(api))),
    r('/search/:p', (m) => json(search(api, decodeURIComponentSafe(m[1]!)))),
    r('/classroom', () => json(classroomJson(api))),
    r('/faucet', () => json(faucetOf(api).info())),
    {
      method: 'POST',
      pattern: /^\/api\/mvb\/validate-block$/,
      handle: (_m, _q, body) => json(validateBlockHex(api.ex, body, Math.floor(Date.now() / 1000))),
    },
    {
      method: 'POST',
      pattern: /^\/api\/mvb\/faucet$/,
      handle: async (_m, _q, body, from) => {
        const [to, stamp] = faucetRequest(body);
        return json(await faucetOf(api).grant(to, from, stamp));
      },
    },
  ];
}

function faucetOf(api: Lookups): Faucet {
  return api.classroom?.faucet ?? notFound('this explorer runs no faucet (mvb classroom start runs one)');
}

/** POST /api/mvb/faucet's body: {"address", "challenge", "nonce"}, strings of bounded length. */
function faucetRequest(body: string): [string, { challenge: string; nonce: string }] {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return bad('expected a JSON object {"address": ..., "challenge": ..., "nonce": ...}');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const str = (k: string, max: number) =>
    typeof o[k] === 'string' && (o[k] as string).length <= max
      ? (o[k] as string)
      : bad(`"${k}" must be a string of at most ${max} characters`);
  return [str('address', 64), { challenge: str('challenge', 64), nonce: str('nonce', 16) }];
}

/** What `mvb-wallet join URL` needs to reach this class's network: its rules, ports and broadcast address. */
function classroomJson(api: Lookups): Record<string, unknown> {
  const room = api.classroom ?? notFound('this explorer does not serve a class (mvb classroom start runs one)');
  const s = api.ex.settings;
  return {
    network: s.network,
    genesis: hashToHex(s.params.genesisHash),
    url: room.url.replace(/\/$/, ''),
    join: `mvb-wallet join ${room.url.replace(/\/$/, '')} --name <your name>`,
    settings: { statusPort: s.statusPort, transactionPort: s.transactionPort, broadcastAddress: s.broadcastAddress, peers: s.peers },
    faucet: room.faucet ? room.faucet.info() : null,
  };
}

function decodeURIComponentSafe(s: string): string {
  if (s.length > 100) throw new HttpError(400, 'search text too long');
  try {
    return decodeURIComponent(s).trim();
  } catch {
    throw new HttpError(400, 'invalid search text');
  }
}

/** Every target's estimate with what it rests on: recent blocks, the pool, both, or nothing ("none": no estimate). */
function feeDetail(api: Lookups): Record<string, unknown> {
  const ex = api.ex;
  const estimates = estimateFees(ex.fees, projectedBlocks(ex, PROJECTED_FOR_FEES), ex.settings.minRelayFeeRate);
  return {
    floor: ex.settings.minRelayFeeRate,
    historyBlocks: FEE_HISTORY_BLOCKS,
    samples: ex.fees.sampleCount,
    successRatio: SUCCESS_RATIO,
    estimates,
  };
}

function summary(api: Lookups): Record<string, unknown> {
  const ex = api.ex;
  const off = ex.offChainEntries(MAX_OFF_CHAIN);
  return {
    network: ex.settings.network,
    height: ex.chain.height,
    tip: hashToHex(ex.chain.tip.hash),
    staleBlocks: off.filter((e) => e.status === 'valid' || e.status === 'data').length,
    reorgs: (ex.indexes.meta.get('reorgSeq') as number | undefined) ?? 0,
    mempool: ex.poolSummary(),
    miners: ex.node.activePeers().length,
    stats: ex.stats,
    classroom: api.classroom !== undefined,
  };
}

function miners(api: Lookups): unknown[] {
  const active = new Set(api.ex.node.activePeers().map((p) => p.key));
  return [...api.ex.node.peers.values()].map((p) => ({
    key: p.key,
    name: p.status.name ?? null,
    address: p.address,
    port: p.port,
    height: p.status.height,
    tip: hashToHex(p.status.tipHash),
    chainWork: p.status.chainWork.toString(),
    mempoolSize: p.status.mempoolSize,
    nodeId: toHex(p.status.nodeId),
    lastSeenMs: p.lastSeenMs,
    active: active.has(p.key),
  }));
}

/** The last `last` heights of the active chain, every off-chain block at those heights, and which miner's tip each is. */
function tree(api: Lookups, last: number): Record<string, unknown> {
  const ex = api.ex;
  const from = Math.max(0, ex.chain.height - last + 1);
  const tips = new Map<string, string[]>();
  for (const p of ex.node.activePeers()) {
    const k = hashToHex(p.status.tipHash);
    tips.set(k, [...(tips.get(k) ?? []), p.key]);
  }
  const node = (e: ChainEntry) => {
    const b = e.status === 'header' ? undefined : api.view.summary(e.hash);
    const h = hashToHex(e.hash);
    return {
      hash: h,
      height: e.height,
      prev: e.parent ? hashToHex(e.parent.hash) : null,
      active: ex.chain.isActive(e),
      status: e.status,
      time: e.header.time,
      txCount: b?.txCount ?? null,
      miner: b?.miner ?? null,
      minerName: b?.minerName ?? null,
      tips: tips.get(h) ?? [],
    };
  };
  const blocks = [];
  for (let h = from; h <= ex.chain.height; h++) blocks.push(node(ex.chain.atHeight(h)!));
  const off = ex
    .offChainEntries(MAX_OFF_CHAIN)
    .filter((e) => e.height >= from)
    .slice(0, MAX_TREE_BLOCKS);
  for (const e of off) blocks.push(node(e));
  return { height: ex.chain.height, tip: hashToHex(ex.chain.tip.hash), from, blocks };
}

function annotatedBlock(api: Lookups, hashParam: string): Record<string, unknown> {
  const e = api.entry(hashParam);
  const b = api.view.block(e.hash) ?? notFound('Block not found');
  const target = bitsToTarget(e.header.bits);
  const hashNum = hashToNumber(e.hash);
  const ids = b.txs.map(txid);
  const active = api.ex.chain.isActive(e);
  return {
    block: api.view.blockJson(e, b),
    status: api.view.blockStatus(e),
    miner: api.ex.minerOf(b.txs),
    minerName: b.txs[0] ? (coinbaseMinerName(b.txs[0]) ?? null) : null,
    coinbaseText: b.txs[0] ? coinbaseText(b.txs[0]) : '',
    confirmations: active ? api.ex.chain.height - e.height + 1 : 0,
    headerHex: toHex(encodeHeader(e.header)),
    fields: headerFields(e.header),
    pow: {
      hash: hashNum.toString(16).padStart(64, '0'),
      target: target.toString(16).padStart(64, '0'),
      powLimit: api.ex.settings.params.powLimit.toString(16).padStart(64, '0'),
      log2Hash: log2(hashNum),
      log2Target: log2(target),
      log2PowLimit: log2(api.ex.settings.params.powLimit),
      chainWork: e.chainWork.toString(),
    },
    merkle: ids.length <= MAX_MERKLE_TXS ? merkleLevels(ids) : null,
    txs: b.txs.slice(0, 100).map((t, i) => ({
      txid: hashToHex(ids[i]!),
      size: encodeTx(t).length,
      coinbase: isCoinbase(t),
      value: t.outputs.reduce((a, o) => a + Number(o.value), 0),
    })),
  };
}

/**
 * A transaction found by txid: in the pool or on the best chain (the txid index), or, when `block`
 * names a stale block, among that block's transactions (its coinbase, or one a reorganisation
 * dropped), so a stale block's transactions open where a lesson explains what happened to them.
 */
function annotatedTx(api: Lookups, idParam: string, block: string | null): Record<string, unknown> {
  const stale = block === null ? undefined : staleBlockTx(api, idParam, block);
  const f: { tx: Tx; loc?: TxLocation } = stale ?? api.tx(idParam);
  const raw = encodeTx(f.tx);
  const j = api.view.tx(f.tx, f.loc) as { fee: number; size: number };
  const sighash = f.tx.inputs.map((i, k) => {
    const prev = api.view.prevout(i.prevTxid, i.vout);
    return prev ? (sighashView(f.tx, k, prev.scriptPubKey) ?? null) : null;
  });
  const height = api.ex.chain.height;
  return {
    tx: j,
    hex: toHex(raw),
    fields: txFields(f.tx, raw, (pkh) => api.ex.addressOf(pkh)),
    sighash,
    feeRate: j.fee / j.size,
    confirmations: f.loc ? height - f.loc.height + 1 : 0,
    inMempool: api.ex.mempool.has(hexToHash(hash64(idParam, 'txid'))),
    ...(stale ? { staleBlock: { hash: stale.block, height: stale.height } } : {}),
  };
}

/** The transaction idParam of the stale block blockParam, or undefined if the block is on the best chain or lacks it. */
function staleBlockTx(api: Lookups, idParam: string, blockParam: string): { tx: Tx; block: string; height: number } | undefined {
  const id = hash64(idParam, 'txid');
  const e = api.entry(blockParam);
  if (api.ex.chain.isActive(e)) return undefined;
  const tx = api.view.block(e.hash)?.txs.find((t) => hashToHex(txid(t)) === id);
  return tx ? { tx, block: hashToHex(e.hash), height: e.height } : undefined;
}

function search(api: Lookups, q: string): { type: string; id: string } {
  if (/^[0-9]{1,10}$/.test(q)) return { type: 'block', id: hashToHex(api.activeAt(uint(q, 'height', MAX_HEIGHT)).hash) };
  if (/^[0-9a-fA-F]{64}$/.test(q)) {
    const id = q.toLowerCase();
    const e = api.ex.chain.getEntry(hexToHash(id));
    if (e && e.status !== 'header') return { type: 'block', id };
    if (api.view.findTx(id)) return { type: 'tx', id };
    return notFound('no block or transaction with that hash');
  }
  address(q, api.ex.settings.params.addressVersion);
  return { type: 'address', id: q };
}

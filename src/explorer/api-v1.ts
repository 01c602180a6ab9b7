// mempool.space's backend REST paths (mempool.space/docs/api/rest) that apply to a P2PKH chain, under
// /api/v1/, with mempool.space's field names and JSON types: blocks with their fee statistics and
// pool, recommended fees, the projected mempool blocks, the difficulty period, a transaction's
// CPFP cluster, and mining pools by coinbase tag. Fields that need what we do not keep (a block's
// expected template: matchRate, expectedFees...) are null.
import { fromHex, hashToHex, hexToHash, toHex } from '../shared/core/bytes.js';
import type { Block } from '../shared/core/block.js';
import { blockSize } from '../shared/core/block.js';
import type { ChainEntry } from '../shared/core/chain.js';
import { encodeHeader } from '../shared/core/header.js';
import { difficulty } from '../shared/core/pow.js';
import { blockSubsidy } from '../shared/core/params.js';
import { encodeTx, isCoinbase } from '../shared/core/tx.js';
import type { MempoolEntry } from '../shared/node/mempool/pool.js';
import { scriptAsm } from './esplora.js';
import { PROJECTED_FOR_FEES, estimateFees } from './fees.js';
import type { Lookups } from './lookups.js';
import { hash64, notFound, oneOf, uint } from './params.js';
import { MAX_POOL_BLOCKS, POOL_INTERVALS, type PoolBlock, type PoolInterval, poolIdentity, rankPools } from './pools.js';
import { projectedBlocks } from './projected.js';
import { type Reply, type Route, MAX_HEIGHT } from './route.js';

/** mempool.space's page of /api/v1/blocks. */
export const V1_BLOCKS_PER_PAGE = 15;
/** Block fee statistics kept (each a few hundred bytes). */
const MAX_EXTRAS_CACHED = 2000;
/** Pool transactions walked at most for one CPFP cluster (Core's package limits keep it far below). */
const MAX_CLUSTER = 100;

const json = (body: unknown): Reply => ({ kind: 'json', body });
const percentiles = (sorted: readonly number[]): number[] =>
  sorted.length === 0
    ? []
    : [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1].map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

export function v1Routes(api: Lookups): Route[] {
  const extras = new Map<string, Record<string, unknown>>();
  const r = (path: string, handle: Route['handle']): Route => ({
    method: 'GET',
    pattern: new RegExp(`^/api/v1${path.replaceAll(':p', '([^/]*)')}$`),
    handle,
  });
  const c = api.ex.chain;
  const from = (h: number) => blocksFrom(api, extras, Math.min(h, c.height));
  return [
    r('/block/:p', (m) => api.withBlock(m[1]!, (e, b) => json(blockExtended(api, extras, e, b)))),
    r('/blocks', () => json(from(c.height))),
    r('/blocks/:p', (m) => json(from(uint(m[1]!, 'start height', MAX_HEIGHT)))),
    r('/fees/recommended', () => json(recommendedFees(api))),
    r('/fees/mempool-blocks', () => json(mempoolBlocks(api))),
    r('/difficulty-adjustment', () => json(difficultyAdjustment(api))),
    r('/cpfp/:p', (m) => json(cpfp(api, m[1]!))),
    r('/mining/pools', () => json(pools(api, 'all'))),
    r('/mining/pools/:p', (m) => json(pools(api, oneOf(m[1]!, 'interval', Object.keys(POOL_INTERVALS) as PoolInterval[])))),
  ];
}

function blocksFrom(api: Lookups, extras: Map<string, Record<string, unknown>>, start: number): unknown[] {
  const out: unknown[] = [];
  for (let h = start; h >= 0 && out.length < V1_BLOCKS_PER_PAGE; h--) {
    const e = api.ex.chain.atHeight(h)!;
    const b = api.view.block(e.hash);
    if (b) out.push(blockExtended(api, extras, e, b));
  }
  return out;
}

/** mempool.space's BlockExtended: Esplora's block, stale or not, and its extras. */
export function blockExtended(api: Lookups, cache: Map<string, Record<string, unknown>>, e: ChainEntry, b: Block): Record<string, unknown> {
  const k = hashToHex(e.hash);
  let extras = cache.get(k);
  if (!extras) {
    extras = blockExtras(api, e, b);
    if (cache.size >= MAX_EXTRAS_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(k, extras);
  }
  const orphans = api.ex
    .offChainEntries(5000)
    .filter((o) => o.height === e.height && o.status !== 'header' && o !== e)
    .map((o) => ({
      height: o.height,
      hash: hashToHex(o.hash),
      status: 'valid-fork',
      prevhash: o.parent ? hashToHex(o.parent.hash) : null,
    }));
  const base = api.view.blockJson(e, b);
  return { ...base, stale: !api.ex.chain.isActive(e), extras: { ...extras, orphans } };
}

/** A block's fees from its undo data (the coins its inputs spent, in order); its pool from the coinbase tag. */
function blockExtras(api: Lookups, e: ChainEntry, b: Block): Record<string, unknown> {
  const undo = api.ex.store.getUndo(e.hash) ?? [];
  let u = 0;
  const rates: number[] = [];
  const fees: number[] = [];
  let totalInputs = 0;
  let totalOutputs = 0;
  let totalOutputAmt = 0;
  let paidBytes = 0;
  for (const tx of b.txs) {
    const outSum = tx.outputs.reduce((a, o) => a + Number(o.value), 0);
    totalOutputs += tx.outputs.length;
    totalOutputAmt += outSum;
    if (isCoinbase(tx)) continue;
    totalInputs += tx.inputs.length;
    let inSum = 0;
    for (const i of tx.inputs) inSum += Number(undo[u++]?.value ?? api.view.prevout(i.prevTxid, i.vout)?.value ?? 0n);
    const size = encodeTx(tx).length;
    fees.push(inSum - outSum);
    rates.push((inSum - outSum) / size);
    paidBytes += size;
  }
  const cb = b.txs[0]!;
  const sig = cb.inputs[0]?.scriptSig ?? new Uint8Array(0);
  const reward = cb.outputs.reduce((a, o) => a + Number(o.value), 0);
  const totalFees = fees.reduce((a, f) => a + f, 0);
  const sorted = rates.slice().sort((x, y) => x - y);
  const size = blockSize(b);
  const tag = api.view.summary(e.hash)?.tag ?? 'Unknown';
  const pool = poolIdentity(tag);
  return {
    reward,
    subsidy: Number(blockSubsidy(e.height, api.ex.settings.params)),
    coinbaseRaw: toHex(sig),
    medianFee: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0,
    feeRange: percentiles(sorted),
    totalFees,
    avgFee: fees.length ? Math.floor(totalFees / fees.length) : 0,
    avgFeeRate: paidBytes ? Math.floor(totalFees / paidBytes) : 0,
    utxoSetChange: totalOutputs - totalInputs,
    avgTxSize: Math.round((size / b.txs.length) * 100) / 100,
    totalInputs,
    totalOutputs,
    totalOutputAmt,
    segwitTotalTxs: 0,
    segwitTotalSize: 0,
    segwitTotalWeight: 0,
    header: toHex(encodeHeader(e.header)),
    virtualSize: size,
    coinbaseAddress: api.ex.minerOf(b.txs),
    coinbaseSignature: scriptAsm(sig),
    coinbaseSignatureAscii: String.fromCharCode(...sig.subarray(0, 100)).replace(/[^\x20-\x7e]/g, '.'),
    pool: { id: pool.id, name: tag, slug: pool.slug },
    matchRate: null,
    expectedFees: null,
    expectedWeight: null,
    similarity: null,
  };
}

/** Estimates (fees.ts) at the targets mempool.space names by time: the next block, half an hour, an hour. */
export function recommendedFees(api: Lookups): Record<string, number> {
  const ex = api.ex;
  const floor = ex.settings.minRelayFeeRate;
  const spacing = ex.settings.params.targetBlockSeconds;
  const half = Math.max(1, Math.round(1800 / spacing));
  const hour = Math.max(1, Math.round(3600 / spacing));
  const est = estimateFees(ex.fees, projectedBlocks(ex, Math.max(PROJECTED_FOR_FEES, hour + 1)), floor, [...new Set([1, half, hour])]);
  const at = (t: number) => Math.ceil(est.find((x) => x.target === t)?.feeRate ?? floor);
  const minimumFee = Math.ceil(floor);
  const hourFee = Math.max(minimumFee, at(hour));
  return {
    fastestFee: Math.max(minimumFee, at(1)),
    halfHourFee: Math.max(minimumFee, at(half)),
    hourFee,
    economyFee: Math.max(minimumFee, Math.min(2 * minimumFee, hourFee)),
    minimumFee,
  };
}

export function mempoolBlocks(api: Lookups): unknown[] {
  return projectedBlocks(api.ex, 8).map((b) => ({
    blockSize: b.bytes,
    blockVSize: b.bytes,
    nTx: b.txCount,
    totalFees: b.fees,
    medianFee: b.medianFeeRate,
    feeRange: b.feeRange,
  }));
}

/** mempool.space's difficulty adjustment: where the current period stands and what its blocks' pace would make the next target. */
export function difficultyAdjustment(api: Lookups): Record<string, number> {
  const ex = api.ex;
  const p = ex.settings.params;
  const tip = ex.chain.tip;
  const start = tip.height - (tip.height % p.retargetInterval);
  const first = ex.chain.atHeight(start)!;
  const done = tip.height - start;
  const remainingBlocks = p.retargetInterval - done;
  const nowS = Date.now() / 1000;
  const avgS = done > 0 ? (tip.header.time - first.header.time) / done : p.targetBlockSeconds;
  const change = Math.min(300, Math.max(-75, (p.targetBlockSeconds / Math.max(avgS, 1e-9) - 1) * 100));
  const prevFirst = start >= p.retargetInterval ? ex.chain.atHeight(start - p.retargetInterval)! : undefined;
  const diff = (e: ChainEntry) => difficulty(e.header.bits, p.powLimit);
  return {
    progressPercent: (done / p.retargetInterval) * 100,
    difficultyChange: change,
    estimatedRetargetDate: Math.round((nowS + remainingBlocks * avgS) * 1000),
    remainingBlocks,
    remainingTime: Math.round(remainingBlocks * avgS * 1000),
    previousRetarget: prevFirst ? (diff(first) / diff(prevFirst) - 1) * 100 : 0,
    previousTime: first.header.time,
    nextRetargetHeight: start + p.retargetInterval,
    timeAvg: Math.round(avgS * 1000),
    adjustedTimeAvg: Math.round(avgS * 1000),
    timeOffset: 0,
    expectedBlocks: Math.max(0, (nowS - first.header.time) / p.targetBlockSeconds),
  };
}

/** A pool transaction's ancestors and descendants, and the fee rate a miner would take it at. */
function cpfp(api: Lookups, idParam: string): Record<string, unknown> {
  const id = hash64(idParam, 'txid');
  const f = api.view.findTx(id) ?? notFound('Transaction not found');
  const pool = api.ex.mempool;
  const entry = pool.get(hexToHash(id));
  if (!entry) {
    const j = api.view.tx(f.tx, f.loc) as { fee: number; size: number };
    return { ancestors: [], descendants: [], bestDescendant: null, effectiveFeePerVsize: j.fee / j.size, adjustedVsize: j.size };
  }
  const walk = (from: MempoolEntry, next: (e: MempoolEntry) => Set<string>): MempoolEntry[] => {
    const found = new Map<string, MempoolEntry>();
    const stack = [...next(from)];
    while (stack.length && found.size < MAX_CLUSTER) {
      const k = stack.pop()!;
      const e = found.has(k) ? undefined : pool.get(fromHex(k));
      if (!e) continue;
      found.set(k, e);
      stack.push(...next(e));
    }
    return [...found.values()];
  };
  const brief = (e: MempoolEntry) => ({ txid: hashToHex(e.txid), fee: Number(e.fee), weight: e.size * 4 });
  const ancestors = walk(entry, (e) => e.parents);
  const descendants = walk(entry, (e) => e.children);
  const packageRate = (e: MempoolEntry) => Number(e.ancestorFees) / e.ancestorSize;
  const best = descendants.reduce<MempoolEntry | undefined>((a, d) => (!a || packageRate(d) > packageRate(a) ? d : a), undefined);
  const own = packageRate(entry);
  return {
    ancestors: ancestors.map(brief),
    descendants: descendants.map(brief),
    bestDescendant: best && packageRate(best) > own ? brief(best) : null,
    effectiveFeePerVsize: Math.max(own, best ? packageRate(best) : 0),
    adjustedVsize: entry.size,
  };
}

/** Blocks of the trailing interval (at most MAX_POOL_BLOCKS), grouped by coinbase tag. */
function pools(api: Lookups, interval: PoolInterval): Record<string, unknown> {
  const c = api.ex.chain;
  const since = Date.now() / 1000 - POOL_INTERVALS[interval];
  const blocks: PoolBlock[] = [];
  let oldest: ChainEntry | undefined;
  for (let h = c.height; h >= 1 && blocks.length < MAX_POOL_BLOCKS; h--) {
    const e = c.atHeight(h)!;
    if (e.header.time < since) break;
    const s = api.view.summary(e.hash);
    if (!s) continue;
    blocks.push({ tag: s.tag, txCount: s.txCount });
    oldest = e;
  }
  const span = oldest ? c.tip.header.time - oldest.header.time : 0;
  const work = oldest?.parent ? Number(c.tip.chainWork - oldest.parent.chainWork) : 0;
  return { pools: rankPools(blocks), blockCount: blocks.length, lastEstimatedHashrate: span > 0 ? work / span : 0 };
}

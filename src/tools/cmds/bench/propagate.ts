// `mvb bench propagate`: propagation on loopback between nodes in this process (the real network
// code: UDP broadcast to 127.255.255.255, status announcements, BIP152 compact blocks, TCP block
// servers, headers-first sync). A wallet's transaction broadcast until 3 nodes' mempools hold it,
// and a new block from one node until 3 others have connected it; p50 (and p90) over --count of
// each. Each block carries TXS_PER_BLOCK payments the other nodes' mempools hold, so it travels
// as a compact block (compact-relay.ts) rebuilt from them; the bench counts how each was connected.
// The nodes share this process's event loop, so the figures include their taking turns on one
// thread.
import {
  type Block,
  Chain,
  MemoryChainStore,
  assembleBlock,
  encodeTx,
  hashToHex,
  headerHash,
  makeCoinbase,
  p2pkhOutput,
  solveHeader,
  txid,
} from '../../../shared/core/index.js';
import { loadSettings } from '../../../shared/node/cli/config.js';
import { Mempool } from '../../../shared/node/mempool/pool.js';
import { freePorts } from '../../../shared/node/net/free-ports.js';
import { ChainNode } from '../../../shared/node/net/node.js';
import { MsgType } from '../../../shared/node/net/protocol.js';
import type { CompactStats } from '../../../shared/node/net/compact-relay.js';
import { sendOnce } from '../../../shared/node/net/udp.js';
import { type Tx, decodeTx } from '../../../shared/core/tx.js';
import { SignatureCache } from '../../../shared/node/verify/sigcache.js';
import { numberOption } from '../../../shared/node/cli/command.js';
import { type BenchReport, atMost, benchCommand, figure } from './report.js';
import { BENCH_NOW, fanOutWorkload } from './workload.js';

const BROADCAST = '127.255.255.255';
/** How long one transaction or block may take to reach every node before it counts as lost. */
const DEADLINE_MS = 10_000;
/** Payments per block besides the coinbase, all in the receivers' mempools beforehand. */
const TXS_PER_BLOCK = 10;
/**
 * Blocks are sent at most one per this long: each makes five datagrams from 127.0.0.1 (the
 * source's compact block and status, and every other node's compact relay), and on one machine
 * all four nodes share that source, whose status-port budget is 50 a second (udp.ts
 * STATUS_RATE_LIMIT). On a LAN each node is its own source.
 */
const BLOCK_PACE_MS = 120;

interface Peer {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly node: ChainNode;
}

async function startPeers(n: number, w: ReturnType<typeof fanOutWorkload>): Promise<{ peers: Peer[]; transactionPort: number }> {
  const [statusPort, transactionPort, ...serverPorts] = await freePorts(2 + n);
  const base = loadSettings({
    network: 'devnet',
    sets: [
      `broadcastAddress=${BROADCAST}`,
      `statusPort=${statusPort}`,
      `transactionPort=${transactionPort}`,
      'statusBroadcastIntervalSeconds=3600',
    ],
  });
  const peers: Peer[] = [];
  for (let i = 0; i < n; i++) {
    const cache = new SignatureCache();
    const chain = new Chain(w.params, new MemoryChainStore(), { verifier: cache.verifier });
    for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
    const mempool = new Mempool(chain, { minRelayFeeRate: 0, maxBytes: 50_000_000, verifier: cache.verifier });
    const node = new ChainNode({
      settings: { ...base, params: w.params, blockServerPort: serverPorts[i]! },
      chain,
      serveBlocks: true,
      bindAddress: '127.0.0.1',
      now: () => BENCH_NOW,
    });
    node.compactCandidates = () => mempool.all();
    node.on('tx', (raw) => {
      try {
        mempool.accept(decodeTx(raw));
      } catch {
        // not for this benchmark
      }
    });
    await node.start('required');
    peers.push({ chain, mempool, node });
  }
  return { peers, transactionPort };
}

/** Milliseconds until check() holds, polled on every event-loop turn; undefined past the deadline. */
async function until(check: () => boolean, t0: number): Promise<number | undefined> {
  while (!check()) {
    if (performance.now() - t0 > DEADLINE_MS) return undefined;
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - t0;
}

function nextBlock(chain: Chain, n: number, payments: readonly Tx[]): Block {
  const tip = chain.tip;
  const cb = makeCoinbase(tip.height + 1, [p2pkhOutput(1n, new Uint8Array(20))], new TextEncoder().encode(`propagate ${n}`));
  const b = assembleBlock(tip.hash, [cb, ...payments], tip.header.time + 1, tip.header.bits);
  return { header: solveHeader(b.header, 1_000_000)!, txs: b.txs };
}

/**
 * Blocks of TXS_PER_BLOCK payments every node's mempool holds, each connected by the first node and
 * announced (compact block, then status) until the 3 others have it as their tip; the times go to
 * `ms`. Returns how many were lost.
 */
async function timeBlocks(peers: Peer[], w: ReturnType<typeof fanOutWorkload>, count: number, ms: number[]): Promise<number> {
  const [source, ...others] = peers as [Peer, ...Peer[]];
  // Every node, the source too, has seen them (its signature cache filled, as a miner's own block's are).
  for (const p of peers) for (const tx of w.spends.slice(count)) p.mempool.accept(tx);
  let lost = 0;
  for (let i = 0; i < count; i++) {
    const block = nextBlock(source.chain, i, w.spends.slice(i * TXS_PER_BLOCK, (i + 1) * TXS_PER_BLOCK));
    const hash = hashToHex(headerHash(block.header));
    const t0 = performance.now();
    source.chain.processBlock(block, BENCH_NOW);
    source.node.announceBlock(block);
    source.node.announce();
    const took = await until(() => others.every((p) => hashToHex(p.chain.tip.hash) === hash), t0);
    if (took === undefined) lost++;
    else ms.push(took);
    const rest = BLOCK_PACE_MS - (performance.now() - t0);
    if (rest > 0) await new Promise((res) => setTimeout(res, rest));
  }
  return lost;
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

export async function benchPropagate(count: number): Promise<BenchReport> {
  // `count` spends timed one by one, and more the other nodes' mempools take directly, so that
  // every block carries TXS_PER_BLOCK of them.
  const w = fanOutWorkload(count * TXS_PER_BLOCK);
  const timed = w.spends.slice(0, count);
  const { peers, transactionPort } = await startPeers(4, w);
  const txMs: number[] = [];
  const blockMs: number[] = [];
  const lost = { txs: 0, blocks: 0 };
  try {
    const receivers = peers.slice(1);
    for (const tx of timed) {
      const id = txid(tx);
      const t0 = performance.now();
      await sendOnce(w.params, MsgType.Tx, encodeTx(tx), transactionPort, [BROADCAST]);
      const ms = await until(() => receivers.every((p) => p.mempool.has(id)), t0);
      if (ms === undefined) lost.txs++;
      else txMs.push(ms);
    }
    lost.blocks = await timeBlocks(peers, w, count, blockMs);
  } finally {
    await Promise.all(peers.map((p) => p.node.stop()));
  }
  const sum = (k: keyof CompactStats): number => peers.slice(1).reduce((a, p) => a + p.node.compact.stats[k], 0);
  const compact = { rebuilt: sum('rebuilt'), completed: sum('completed'), txsFetched: sum('txsFetched') };
  const notCompact = 3 * count - compact.rebuilt - compact.completed;
  if (!txMs.length || !blockMs.length) throw new Error('nothing propagated on loopback (is 127.255.255.255 reachable?)');
  // No reference to measure in the same run: the targets are absolute. Percentiles are
  // over what arrived; what did not is a figure of its own.
  return {
    bench: 'propagate',
    figures: [
      figure(`transaction to 3 mempools, p50 of ${txMs.length} arrived`, 'ms', [pct(txMs, 0.5)], atMost(20, 200)),
      figure('transaction to 3 mempools, p90', 'ms', [pct(txMs, 0.9)]),
      figure(`transactions lost (not in 3 mempools within ${DEADLINE_MS} ms)`, 'tx', [lost.txs], atMost(0)),
      figure(`block to 3 other nodes connected, p50 of ${blockMs.length} arrived`, 'ms', [pct(blockMs, 0.5)], atMost(10, 100)),
      figure('block to 3 other nodes connected, p90', 'ms', [pct(blockMs, 0.9)]),
      figure(`blocks lost (not the tip of 3 nodes within ${DEADLINE_MS} ms)`, 'blocks', [lost.blocks], atMost(0)),
      figure('block arrivals not rebuilt from the compact block (full block or sync)', 'blocks', [notCompact], atMost(0, count)),
    ],
    ratios: [],
    notes: [
      `${count} transactions and ${count} blocks of ${TXS_PER_BLOCK + 1} transactions among 4 nodes on 127.0.0.1 in one process`,
      `compact blocks: ${compact.rebuilt} rebuilt from the mempool, ${compact.completed} completed with getblocktxn (${compact.txsFetched} tx fetched) of ${3 * count} arrivals`,
    ],
  };
}

export const benchPropagateCommand = benchCommand(
  {
    name: 'propagate',
    describe: 'loopback propagation: a transaction to 3 mempools, a block to 3 nodes (p50)',
    options: { count: numberOption('--count <n>', 'transactions and blocks to time', 5, 1000, 50) },
    quick: { count: 10 },
  },
  (opts) => opts.count,
  benchPropagate,
);

// Compact block relay between ChainNodes in this process over real sockets on loopback (UDP
// broadcast to 127.255.255.255, TCP block servers): the paths a process test cannot steer. A
// compact block whose short ids collide is fetched whole from its announcer; a compact block heard
// while a sync is stuck on a silent peer is connected at once, not behind that sync.
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  type Block,
  Chain,
  MemoryChainStore,
  compactFromBlock,
  encodeCompactBlock,
  hashToHex,
  headerHash,
  txid,
} from '../src/shared/core/index.js';
import { BlockClient } from '../src/shared/node/net/blockclient.js';
import { loadSettings } from '../src/shared/node/cli/config.js';
import { Mempool } from '../src/shared/node/mempool/pool.js';
import { encodeCompactAnnouncement } from '../src/shared/node/net/compact-relay.js';
import { freePorts } from '../src/shared/node/net/free-ports.js';
import { ChainNode } from '../src/shared/node/net/node.js';
import { MsgType, encodeStatus } from '../src/shared/node/net/protocol.js';
import { sendOnce } from '../src/shared/node/net/udp.js';
import { BENCH_NOW, fanOutWorkload, spendBlock } from '../src/tools/cmds/bench/workload.js';
import { LOOPBACK_BROADCAST, waitFor } from './kit/procs.js';

interface Peer {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly node: ChainNode;
}

describe('compact block relay (ChainNodes in this process, loopback sockets)', function () {
  this.timeout(60_000);
  const w = fanOutWorkload(20);
  let peers: Peer[] = [];
  let statusPort = 0;

  beforeEach(async () => {
    const [sp, tp, ...servers] = await freePorts(4);
    statusPort = sp!;
    const base = loadSettings({
      network: 'devnet',
      sets: [`broadcastAddress=${LOOPBACK_BROADCAST}`, `statusPort=${sp}`, `transactionPort=${tp}`, 'statusBroadcastIntervalSeconds=3600'],
    });
    peers = [];
    for (let i = 0; i < 2; i++) {
      const chain = new Chain(w.params, new MemoryChainStore());
      for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
      const mempool = new Mempool(chain, { minRelayFeeRate: 0, maxBytes: 10_000_000 });
      const node = new ChainNode({
        settings: { ...base, params: w.params, blockServerPort: servers[i]! },
        chain,
        serveBlocks: true,
        bindAddress: '127.0.0.1',
        now: () => BENCH_NOW,
      });
      node.compactCandidates = () => mempool.all();
      await node.start('none');
      peers.push({ chain, mempool, node });
    }
  });

  afterEach(async () => {
    await Promise.all(peers.map((p) => p.node.stop()));
  });

  function mine(p: Peer, txs = w.spends.slice(0, 3)): Block {
    const parent = p.chain.getBlock(p.chain.tip.hash)!;
    const block = spendBlock(parent, p.chain.tip.height + 1, txs);
    assert.equal(p.chain.processBlock(block, BENCH_NOW).status, 'accepted');
    return block;
  }

  it('the block server answers getblocktxn: the transactions asked for, NOTFOUND, and closes on an index out of range', async () => {
    const [a] = peers as [Peer];
    const block = mine(a);
    const hash = headerHash(block.header);
    const client = new BlockClient(w.params, '127.0.0.1', a.node.server!.port, 5000);
    await client.connect();
    try {
      const txs = await client.getBlockTxn(hash, [1, 3]);
      assert.deepEqual(
        txs!.map((t) => hashToHex(txid(t))),
        [1, 3].map((i) => hashToHex(txid(block.txs[i]!))),
      );
      assert.equal(await client.getBlockTxn(new Uint8Array(32).fill(7), [1]), undefined, 'NOTFOUND for a block it lacks');
      await assert.rejects(client.getBlockTxn(hash, [4]), /closed|did not answer/);
      assert.equal(a.node.server!.stats.badRequests, 1);
      assert.equal(a.node.server!.stats.blockTxnServed, 1);
    } finally {
      client.close();
    }
  });

  it('a rebuilt block that extends the tip is relayed on early, once, and not announced again once connected', async () => {
    const [a, b] = peers as [Peer, Peer];
    for (const tx of w.spends.slice(0, 3)) b.mempool.accept(tx);
    const block = mine(a);
    const hash = headerHash(block.header);
    const sent = b.node.compact.stats.sent;
    b.node.compact.stats.relayedEarly = 0;
    a.node.announceBlock(block);
    await waitFor(
      () => hashToHex(b.chain.tip.hash) === hashToHex(hash) || undefined,
      10_000,
      () => `b did not connect the block: ${JSON.stringify(b.node.compact.stats)}`,
    );
    assert.equal(b.node.compact.stats.rebuilt, 1);
    assert.equal(b.node.compact.stats.relayedEarly, 1);
    assert.equal(b.node.compact.stats.sent, sent + 1, 'b sent its compact block on');
    b.node.announceBlock(block); // what a miner does once it is connected: not sent twice
    assert.equal(b.node.compact.stats.sent, sent + 1, 'a block relayed early is not announced again');
  });

  it('short ids that collide in the compact block: the full block is fetched from the announcer', async () => {
    const [a, b] = peers as [Peer, Peer];
    for (const tx of w.spends.slice(0, 3)) b.mempool.accept(tx);
    const block = mine(a);
    const cb = compactFromBlock(block, 9n);
    const collided = { ...cb, shortIds: cb.shortIds.map(() => cb.shortIds[0]!) };
    const payload = encodeCompactAnnouncement(randomBytes(8), a.node.server!.port, encodeCompactBlock(collided));
    await sendOnce(w.params, MsgType.CompactBlock, payload, statusPort, [LOOPBACK_BROADCAST]);
    const hash = hashToHex(headerHash(block.header));
    await waitFor(
      () => hashToHex(b.chain.tip.hash) === hash || undefined,
      10_000,
      () => `b did not connect the block: ${JSON.stringify(b.node.compact.stats)}`,
    );
    assert.equal(b.node.compact.stats.fullBlocks, 1);
    assert.equal(b.node.compact.stats.rebuilt, 0);
    assert.equal(a.node.server!.stats.blocksServed, 1);
  });

  it("a competing branch's first block is stored from its compact block, so its second reorganises at once", async () => {
    const [a, b] = peers as [Peer, Peer];
    const own = mine(b, w.spends.slice(0, 2)); // b's tip: a block of its own at height 3
    const y1 = mine(a, w.spends.slice(2, 4)); // the same height on a's side: a tie for b
    a.node.announceBlock(y1);
    const y1Hash = headerHash(y1.header);
    await waitFor(
      () => b.chain.getEntry(y1Hash)?.status === 'valid' || b.chain.getBlock(y1Hash) || undefined,
      10_000,
      () => `b did not store a's competing block: ${JSON.stringify(b.node.compact.stats)}`,
    );
    assert.equal(hashToHex(b.chain.tip.hash), hashToHex(headerHash(own.header)), 'a tie does not move b off its own block');
    assert.equal(b.node.compact.stats.relayedEarly, 0, 'a block that only ties the tip is not relayed early');
    const y2 = mine(a, w.spends.slice(4, 6));
    a.node.announceBlock(y2);
    await waitFor(
      () => hashToHex(b.chain.tip.hash) === hashToHex(headerHash(y2.header)) || undefined,
      10_000,
      () => `b did not reorganise to a's branch: ${JSON.stringify(b.node.compact.stats)}`,
    );
    assert.equal(a.node.server!.stats.blocksServed, 0, 'no sync: both came as compact blocks');
    assert.equal(b.node.compact.stats.completed, 2, 'each completed with the payments b lacked (getblocktxn)');
    assert.equal(a.node.server!.stats.blockTxnServed, 2);
  });

  it('a flood of garbage compact datagrams is counted and dropped; the next block still arrives', async () => {
    const [a, b] = peers as [Peer, Peer];
    const garbage = encodeCompactAnnouncement(randomBytes(8), 1, new Uint8Array(100).fill(0xfe));
    let sent = 0;
    for (; sent < 100; sent++) await sendOnce(w.params, MsgType.CompactBlock, garbage, statusPort, [LOOPBACK_BROADCAST]);
    await waitFor(
      () => b.node.compact.stats.dropped === sent || undefined,
      10_000,
      () => `b counted ${b.node.compact.stats.dropped} of ${sent}`,
    );
    // Over the per-source limit (60 at once): the rest were dropped before decoding. A compact block
    // from the same address may then be dropped too; the status path still brings the block.
    for (const tx of w.spends.slice(0, 3)) b.mempool.accept(tx);
    const block = mine(a);
    a.node.announceBlock(block);
    a.node.announce();
    await waitFor(
      () => hashToHex(b.chain.tip.hash) === hashToHex(headerHash(block.header)) || undefined,
      10_000,
      () => `b did not get the block: ${JSON.stringify(b.node.compact.stats)}`,
    );
  });

  it('a compact block heard while a sync waits on a silent peer is connected at once', async () => {
    const [a, b] = peers as [Peer, Peer];
    // A listener that accepts and never answers, announced with more work than anyone has.
    const held: net.Socket[] = [];
    const silent = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const forged = encodeStatus({
        tipHash: randomBytes(32),
        height: 1000,
        chainWork: b.chain.tip.chainWork * 1000n,
        blockServerPort: port,
        nodeId: randomBytes(8),
        mempoolSize: 0,
      });
      await sendOnce(w.params, MsgType.Status, forged, statusPort, [LOOPBACK_BROADCAST]);
      await waitFor(
        () => held.length > 0 || undefined,
        10_000,
        () => 'b never probed the silent peer',
      );
      // b's sync now waits on the silent peer (up to its answer deadline). a finds a block.
      for (const tx of w.spends.slice(0, 3)) b.mempool.accept(tx);
      const block = mine(a);
      a.node.announceBlock(block);
      const hash = hashToHex(headerHash(block.header));
      await waitFor(
        () => hashToHex(b.chain.tip.hash) === hash || undefined,
        10_000,
        () => `b did not connect the block: ${JSON.stringify(b.node.compact.stats)}`,
      );
      assert.equal(b.node.compact.stats.rebuilt, 1, 'rebuilt from the mempool');
      assert.ok(
        held.every((s) => !s.destroyed && s.readyState === 'open'),
        'the sync was still waiting on the silent peer when the block was connected',
      );
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

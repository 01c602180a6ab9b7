// Kept block-client connections and BIP130-style header pushes: after a sync, a node keeps its
// connection to the peer open and asks it (SENDHEADERS) to push new tips' headers; a block the
// peer then finds reaches the node with no status datagram at all (the node here has no UDP port
// open) and no new TCP connection, and a later sync reuses the kept connection.
import assert from 'node:assert/strict';
import { hash160 } from '../src/shared/core/hash.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { Chain, MemoryChainStore } from '../src/shared/core/chain.js';
import { ChainNode, type PeerInfo } from '../src/shared/node/net/node.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';
import { waitFor } from './kit/procs.js';

const pkh = hash160(publicKeyOf(new Uint8Array(32).fill(9)));

/** Resolves once the node's chain reaches height, or fails after timeoutMs. */
function heightReached(node: ChainNode, height: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (node.chain.height >= height) return resolve();
    const timer = setTimeout(() => reject(new Error(`height ${node.chain.height}, not ${height}, after ${timeoutMs} ms`)), timeoutMs);
    const on = (): void => {
      if (node.chain.height < height) return;
      clearTimeout(timer);
      node.off('update', on);
      resolve();
    };
    node.on('update', on);
  });
}

describe('kept connections and pushed headers (BIP130 sendheaders)', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let node: ChainNode;

  beforeEach(async () => {
    // Statuses far apart: a new block can reach the node only by the push within the test's wait.
    const sets = await testNetSets({ statusBroadcastIntervalSeconds: 60 });
    miner = await TestMiner.start(sets);
    const settings = settingsOf(sets);
    node = new ChainNode({ settings, chain: new Chain(settings.params, new MemoryChainStore()), serveBlocks: false });
  });

  afterEach(async () => {
    await node.stop();
    await miner.stop();
  });

  function minerPeer(): PeerInfo {
    const tip = miner.chain.tip;
    return node.peerTable.heard('127.0.0.1', {
      tipHash: tip.hash,
      height: tip.height,
      chainWork: tip.chainWork,
      blockServerPort: miner.node.server!.port,
      nodeId: miner.node.nodeId,
      mempoolSize: 0,
    });
  }

  it('a block found after a sync reaches the node over the kept connection, with no datagram and no new connection', async () => {
    miner.mine(20, pkh);
    assert.equal(await node.syncFrom(minerPeer()), true);
    assert.equal(node.chain.height, 20);
    const server = miner.node.server!;
    // The node asks for pushes as it keeps the connection, after the sync: wait until the server has read it.
    await waitFor(
      () => server.stats.sendHeadersHeard === 1,
      5000,
      () => 'no SENDHEADERS heard',
    );
    const connections = server.stats.connections;
    for (let i = 1; i <= 3; i++) {
      miner.mine(1, pkh); // announces: the status datagram (unheard here) and the push
      await heightReached(node, 20 + i, 10_000);
    }
    assert.equal(node.chain.tip.hashHex, miner.chain.tip.hashHex);
    assert.equal(node.stats.headersPushes, 3);
    assert.equal(node.stats.keptReused, 3);
    assert.equal(server.stats.connections, connections, 'no new TCP connection');
    assert.ok(server.stats.headersPushed >= 3);
  });

  it('a push too far ahead to connect is left to the next sync, which reuses the kept connection', async () => {
    miner.mine(5, pkh);
    assert.equal(await node.syncFrom(minerPeer()), true);
    await waitFor(
      () => miner.node.server!.stats.sendHeadersHeard === 1,
      5000,
      () => 'no SENDHEADERS heard',
    );
    miner.mine(12, pkh); // the push holds the last 8 headers: their parent is unknown to the node
    minerPeer(); // its status, as the next datagram would bring it
    await node.syncNow();
    assert.equal(node.chain.height, 17);
    assert.equal(node.stats.headersPushes, 0, 'headers that do not connect are not followed');
    assert.equal(node.stats.keptReused, 1);
  });
});

// The block download's bounds with real block servers and clients on loopback (in this process):
// blocks come out in chain order whatever the order the peers answer in; the blocks held out of
// order plus the worst case of those in flight never pass the byte bound (one request always may
// go), nothing is asked past the window; and a server that closes mid-download has its requests
// served by the others.
import assert from 'node:assert/strict';
import { Chain, type ChainEntry, MemoryChainStore, headerHash, toHex } from '../src/shared/core/index.js';
import { BlockClient } from '../src/shared/node/net/blockclient.js';
import { BlockDownload, type DownloadOptions } from '../src/shared/node/net/block-download.js';
import { BlockServer } from '../src/shared/node/net/blockserver.js';
import type { PeerInfo } from '../src/shared/node/net/peers.js';
import { opensslVerifier } from '../src/shared/node/verify/verifier.js';
import { BENCH_NOW, chainWorkload } from '../src/tools/cmds/bench/workload.js';

const BLOCKS = 600;

describe('block download (block servers on loopback)', function () {
  this.timeout(60_000);
  const w = chainWorkload(BLOCKS, 1);
  const chain = new Chain(w.params, new MemoryChainStore(), { verifier: opensslVerifier });
  chain.processBlocks(w.blocks, BENCH_NOW);
  const need: ChainEntry[] = Array.from({ length: BLOCKS }, (_, i) => chain.atHeight(i + 1)!);
  let servers: BlockServer[] = [];
  let clients: BlockClient[] = [];

  beforeEach(async () => {
    servers = [0, 1, 2].map(() => new BlockServer(w.params, chain, { port: 0, host: '127.0.0.1', maxConnections: 8, timeoutMs: 10_000 }));
    const ports = await Promise.all(servers.map((s) => s.listen()));
    clients = ports.map((port) => new BlockClient(w.params, '127.0.0.1', port, 10_000));
    await Promise.all(clients.map((c) => c.connect()));
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  const peer = (i: number): PeerInfo => ({
    key: `peer-${i}`,
    address: '127.0.0.1',
    port: clients[i]!.port,
    status: {
      tipHash: chain.tip.hash,
      height: BLOCKS,
      chainWork: chain.tip.chainWork,
      blockServerPort: clients[i]!.port,
      nodeId: new Uint8Array(8),
      mempoolSize: 0,
    },
    lastSeenMs: Date.now(),
    served: true,
  });

  function download(o: Partial<DownloadOptions>, drops: unknown[]): BlockDownload {
    const d = new BlockDownload(need, {
      perRequest: 16,
      perPeer: 2,
      windowBlocks: 64,
      maxBytes: 48 * w.params.maxBlockBytes,
      maxBlockBytes: w.params.maxBlockBytes,
      stallMs: 2000,
      onDrop: (_s, why) => drops.push(why),
      ...o,
    });
    clients.forEach((client, i) => d.add({ peer: peer(i), client, maxHeight: Infinity }));
    return d;
  }

  it('delivers every block in chain order from all three, inside the window and the byte bound', async () => {
    const drops: unknown[] = [];
    const d = download({}, drops);
    const got: string[] = [];
    let checked = 0;
    for (let run = await d.next(); run; run = await d.next()) {
      got.push(...run.blocks.map((b) => toHex(headerHash(b.header))));
      const at = d.bounds();
      assert.ok(at.held + at.inFlight * w.params.maxBlockBytes <= 48 * w.params.maxBlockBytes, JSON.stringify(at));
      assert.ok(at.requestedUpTo <= at.delivered + 64 + 16, JSON.stringify(at));
      checked++;
    }
    d.close();
    assert.ok(checked > 1);
    assert.deepEqual(
      got,
      need.map((e) => e.hashHex),
    );
    assert.equal(d.servedBy.size, 3);
    assert.deepEqual(drops, []);
  });

  it('a server that closes mid-download: its requests go to the others and every block arrives', async () => {
    const drops: unknown[] = [];
    const d = download({}, drops);
    const got: string[] = [];
    let closed = false;
    for (let run = await d.next(); run; run = await d.next()) {
      got.push(...run.blocks.map((b) => toHex(headerHash(b.header))));
      if (!closed && got.length >= 100) {
        closed = true;
        await servers[1]!.close();
      }
    }
    d.close();
    assert.ok(closed);
    assert.deepEqual(
      got,
      need.map((e) => e.hashHex),
    );
    assert.equal(drops.length, 1, String(drops));
  });
});

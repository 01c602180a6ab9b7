// Core's parallel block download with real processes on loopback: three miners (--no-mine, so
// they serve one chain that stands still) hold the same 3 000-block chain; a node that has heard
// their statuses catches up from all of them (blocks from more than one peer), and when one
// of them stops answering mid-download (SIGSTOP: its connections stay open, nothing comes back)
// its requests go to the others after the stall deadline and the catch-up still completes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { encodeAddress } from '../src/shared/core/address.js';
import type { Block } from '../src/shared/core/block.js';
import { toHex } from '../src/shared/core/bytes.js';
import { Chain } from '../src/shared/core/chain.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { hash160 } from '../src/shared/core/hash.js';
import type { Settings } from '../src/shared/node/cli/config.js';
import { ChainNode } from '../src/shared/node/net/node.js';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { type MinerProc, StatusWatcher, removeDir, startMiner, stopProc, tempDir, waitFor } from './kit/procs.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';

const BLOCKS = 3000;
/** Blocks per store commit for the fresh node: progress events come often, so the stop lands mid-download. */
const BATCH = 100;
const pkh = hash160(publicKeyOf(new Uint8Array(32).fill(5)));

/** Writes the chain into a fresh miner data folder (DATADIR/chain, as the miner opens it). */
function writeDatadir(settings: Settings, blocks: readonly Block[], dir: string): void {
  const store = new LmdbChainStore(join(dir, 'chain'), 'test');
  try {
    const chain = new Chain(settings.params, store);
    for (let i = 0; i < blocks.length; i += 500) chain.processBlocks(blocks.slice(i, i + 500), Math.floor(Date.now() / 1000));
    assert.equal(chain.height, blocks.length);
  } finally {
    store.close();
  }
}

describe('parallel block download (real miners on loopback)', function () {
  this.timeout(120_000);
  let sets: Record<string, unknown>;
  let settings: Settings;
  let watcher: StatusWatcher;
  const miners: MinerProc[] = [];
  const dirs: string[] = [];

  before(async () => {
    sets = await testNetSets({ statusBroadcastIntervalSeconds: 0.2 });
    delete sets['blockServerPort']; // each miner its own free port
    settings = settingsOf(sets);
    const builder = new TestMiner(settings); // never started: only its chain and block builder
    const blocks = builder.mine(BLOCKS, pkh);
    watcher = new StatusWatcher(settings);
    await watcher.start();
    const address = encodeAddress(pkh, settings.params.addressVersion);
    for (let i = 0; i < 3; i++) {
      const dir = tempDir(`pdl-${i}`);
      dirs.push(dir);
      writeDatadir(settings, blocks, dir);
      const ports = { statusPort: Number(sets['statusPort']), transactionPort: Number(sets['transactionPort']) };
      miners.push(await startMiner({ ports, datadir: dir, args: ['--address', address, '--no-mine'], sets }));
    }
    await waitFor(
      () => miners.every((m) => watcher.of(m.info.nodeId)?.height === BLOCKS),
      20_000,
      () => `statuses heard: ${[...watcher.latest.values()].map((s) => s.height).join(', ')}`,
    );
  });

  after(async () => {
    for (const m of miners) if (m.child.pid) process.kill(m.child.pid, 'SIGCONT');
    await Promise.all(miners.map((m) => stopProc(m)));
    await watcher?.close();
    for (const d of dirs) removeDir(d);
  });

  /** The fresh node's log lines (shown when an assertion fails). */
  let logs: string[] = [];

  /** A fresh node (LMDB store) that has heard every miner's status; the caller syncs it. */
  async function freshNode(dir: string, proven: boolean): Promise<{ node: ChainNode; store: LmdbChainStore }> {
    const store = new LmdbChainStore(join(dir, 'chain'), 'test');
    const chain = new Chain(settings.params, store);
    const node = new ChainNode({
      settings,
      chain,
      serveBlocks: false,
      catchUpBatchBlocks: BATCH,
      log: (level, msg) => logs.push(`${level} ${msg}`),
    });
    for (const m of miners) {
      const st = watcher.of(m.info.nodeId)!;
      const p = node.peerTable.heard(st.address, st);
      if (proven) node.peerTable.served(p);
    }
    return { node, store };
  }

  async function withFreshNode(proven: boolean, f: (node: ChainNode) => Promise<void>): Promise<void> {
    const dir = tempDir('pdl-fresh');
    logs = [];
    const { node, store } = await freshNode(dir, proven);
    try {
      await f(node);
    } finally {
      await node.stop();
      store.close();
      removeDir(dir);
    }
  }

  // Peers known to have served before (a node restarting): never-proven peers sharing one address
  // are probed one at a time with short deadlines, and on a loaded machine one slow answer sets the
  // whole address aside (peers.ts backOff), which would leave one peer to download from.
  it('a node catches up with blocks from more than one of the peers that have them', async () => {
    await withFreshNode(true, async (node) => {
      const t0 = performance.now();
      await node.syncNow();
      assert.equal(node.chain.height, BLOCKS);
      assert.equal(node.chain.tip.hashHex, toHex(watcher.of(miners[0]!.info.nodeId)!.tipHash));
      const ms = (performance.now() - t0).toFixed(0);
      console.log(
        `      ${BLOCKS} blocks from ${node.stats.lastDownloadPeers} peers in ${ms} ms (${node.stats.downloadDrops} dropped from a download)`,
      );
      assert.ok(node.stats.lastDownloadPeers >= 2, `blocks came from ${node.stats.lastDownloadPeers} peer(s):\n${logs.join('\n')}`);
    });
  });

  it('a peer that stops answering mid-download (SIGSTOP) does not stop a fresh node catching up', async () => {
    await withFreshNode(false, async (node) => {
      const frozen = miners[1]!;
      let stoppedAt = -1;
      node.on('progress', (p) => {
        if (stoppedAt >= 0) return;
        stoppedAt = p.done;
        process.kill(frozen.child.pid!, 'SIGSTOP');
      });
      try {
        await node.syncNow();
        // The sync with the first peer may end on the frozen one (its probe or its headers); the
        // node syncs again while peers claim more work, as it would on their next statuses.
        for (let i = 0; i < 5 && node.chain.height < BLOCKS && node.bestPeer(); i++) await node.syncNow();
      } finally {
        process.kill(frozen.child.pid!, 'SIGCONT');
      }
      assert.ok(stoppedAt >= 0 && stoppedAt < BLOCKS, `the peer was stopped after ${stoppedAt} blocks`);
      assert.equal(node.chain.height, BLOCKS);
      console.log(
        `      stopped one peer after ${stoppedAt} blocks; ${node.stats.downloadDrops} dropped from the download, ${node.stats.syncErrors} sync error(s)`,
      );
      assert.ok(node.stats.downloadDrops + node.stats.syncErrors >= 1, 'the frozen peer was noticed');
    });
  });
});

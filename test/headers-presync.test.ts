// Low-work fork headers are not stored (issue 18.4; Core's anti-DoS work threshold and headers
// pre-sync): forged statuses from many source addresses claim huge work for block servers that
// each serve a cheap fork from genesis. A fresh node tries them, stores none of their headers
// (counted as lowWorkHeaders instead), and follows the honest chain. In-process, loopback only.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { hashToHex } from '../src/shared/core/bytes.js';
import { ANTI_DOS_WORK_BLOCKS, Chain, MemoryChainStore } from '../src/shared/core/chain.js';
import { BlockServer } from '../src/shared/node/net/blockserver.js';
import { ChainNode } from '../src/shared/node/net/node.js';
import { MsgType, encodeFrame, encodeStatus } from '../src/shared/node/net/protocol.js';
import { alice } from './kit/blockgen.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';
import { waitFor } from './kit/procs.js';

const FULL = process.env['MVB_HOSTILE_FULL'] === '1';
/** 250 addresses × 40 headers = 10 000 headers in the full run (npm run test:hostile); 50 × 40 in npm test. */
const ATTACKERS = FULL ? 250 : 50;
const FORK_BLOCKS = 40;
const HONEST_BLOCKS = ANTI_DOS_WORK_BLOCKS + 2 * FORK_BLOCKS;

describe('headers pre-sync: low-work fork headers are never stored', function () {
  this.timeout(180_000);
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(`${ATTACKERS} forged high-work statuses from ${ATTACKERS} addresses, each a ${FORK_BLOCKS}-header fork from genesis: none stored, the honest chain followed`, async () => {
    const sets = await testNetSets();
    const honest = await TestMiner.start(sets);
    cleanups.push(() => honest.stop());
    honest.mine(HONEST_BLOCKS, alice.pkh);

    // The forks: each its own chain (a fresh pkh per fork, so no two share a block), served as is.
    const forks: { tip: Uint8Array; port: number }[] = [];
    const addressOf = (i: number) => `127.0.${1 + Math.floor((i + 1) / 254)}.${2 + ((i + 1) % 254)}`;
    for (let i = 0; i < ATTACKERS; i++) {
      const builder = new TestMiner(settingsOf(sets));
      const pkh = new Uint8Array(randomBytes(20));
      for (let k = 0; k < FORK_BLOCKS; k++) builder.chain.processBlock(builder.build(pkh), Math.floor(Date.now() / 1000));
      const server = new BlockServer(builder.settings.params, builder.chain, {
        port: 0,
        host: addressOf(i),
        maxConnections: 16,
        timeoutMs: 5000,
      });
      forks.push({ tip: builder.chain.tip.hash, port: await server.listen() });
      cleanups.push(() => server.close());
    }

    const settings = settingsOf(sets);
    const victim = new Chain(settings.params, new MemoryChainStore());
    const node = new ChainNode({ settings, chain: victim, serveBlocks: false });
    cleanups.push(() => node.stop());
    // Every attacker address sends its lie once a tick (statuses expire), from 127.0.0.2 up.
    const socks: dgram.Socket[] = [];
    for (let i = 0; i < ATTACKERS; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, addressOf(i), () => r()));
      s.setBroadcast(true);
      socks.push(s);
    }
    const forge = () =>
      forks.forEach((f, i) => {
        const st = encodeStatus({
          tipHash: f.tip,
          height: 100_000,
          chainWork: 1n << 200n,
          blockServerPort: f.port,
          nodeId: randomBytes(8),
          mempoolSize: 0,
        });
        socks[i]!.send(encodeFrame(settings.params, MsgType.Status, st), settings.statusPort, '127.255.255.255');
      });
    cleanups.push(() => socks.forEach((s) => s.close()));
    // The node follows the honest chain first; then the lies start (a chain that short has no work
    // threshold yet: Core's nMinimumChainWork plays that part for a fresh node, and a class's
    // network is new).
    await node.start(false);
    await waitFor(
      () => victim.height >= HONEST_BLOCKS || undefined,
      60_000,
      () => `victim at ${victim.height} of ${HONEST_BLOCKS}; ${JSON.stringify(node.stats)}`,
    );
    const t0 = Date.now();
    forge();
    const timer = setInterval(forge, 200);
    cleanups.push(() => clearInterval(timer));
    // One more honest block while the lies go on: the node still follows.
    honest.mine(1, alice.pkh);
    await waitFor(
      () => victim.height >= HONEST_BLOCKS + 1 || undefined,
      60_000,
      () => `victim at ${victim.height} of ${HONEST_BLOCKS + 1}; ${JSON.stringify(node.stats)}`,
    );
    // Keep listening until every attacker has been tried once (each is tried, refused and set aside).
    await waitFor(
      () => node.stats.lowWorkHeaders >= ATTACKERS * FORK_BLOCKS * 0.9 || undefined,
      120_000,
      () => `only ${node.stats.lowWorkHeaders} low-work headers seen: ${JSON.stringify(node.stats)}`,
    );
    const seconds = (Date.now() - t0) / 1000;
    let checked = 0;
    for (const f of forks) {
      assert.equal(victim.getEntry(f.tip), undefined, `fork tip ${hashToHex(f.tip)} stored`);
      checked++;
    }
    assert.equal(checked, ATTACKERS);
    assert.equal(victim.entryCount, HONEST_BLOCKS + 2, 'the block tree holds the honest chain only');
    assert.equal(hashToHex(victim.tip.hash), hashToHex(honest.tip.hash));
    console.log(
      `      ${node.stats.lowWorkHeaders} low-work headers from ${ATTACKERS} addresses dropped, ${victim.entryCount} entries stored (the honest chain), ${seconds.toFixed(1)} s`,
    );
  });
});

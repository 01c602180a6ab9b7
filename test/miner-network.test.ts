// Miners as real processes on loopback (devnet, broadcast 127.255.255.255): convergence,
// transaction relay and mining, late joiners, partitions that heal, hostile input, kill -9.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { fetchChain as fetchChainFrom } from './kit/chain-fetch.js';
import { randomBytes } from 'node:crypto';
import { encodeAddress } from '../src/shared/core/address.js';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import { type Block, encodeBlock } from '../src/shared/core/block.js';
import { p2pkhOutput, signP2pkhTx } from '../src/shared/core/builder.js';
import type { Settings } from '../src/shared/node/cli/config.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { hash160 } from '../src/shared/core/hash.js';
import { type Header, headerHash } from '../src/shared/core/header.js';
import { BlockClient } from '../src/shared/node/net/blockclient.js';
import { MsgType, encodeFrame, encodeHeaders, encodeStatus, FrameReader } from '../src/shared/node/net/protocol.js';
import { sendOnce } from '../src/shared/node/net/udp.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { type MinerProc, type NetPorts, StatusWatcher, netPorts, stopProc, testSettings, waitFor, waitForAsync } from './kit/procs.js';
import { LoopbackNet } from './kit/loopback-net.js';

const secret = new Uint8Array(32).fill(7);
const pub = publicKeyOf(secret);
const pkh = hash160(pub);

/** The active chain of a miner, fetched over its block server. */
const fetchChain = (s: Settings, port: number) => fetchChainFrom(s.params, '127.0.0.1', port);

function spendCoinbase(block: Block, fee = 1000n): Tx {
  const cb = block.txs[0]!;
  const to = hash160(publicKeyOf(new Uint8Array(32).fill(9)));
  return signP2pkhTx([{ prevTxid: txid(cb), vout: 0, secretKey: secret }], [p2pkhOutput(cb.outputs[0]!.value - fee, to)]);
}

describe('miner network (real processes, loopback)', function () {
  this.timeout(180_000);
  let loop: LoopbackNet;
  let ports: NetPorts;
  let settings: Settings;
  let watcher: StatusWatcher;
  let address: string;

  beforeEach(async () => {
    loop = await LoopbackNet.open();
    ({ ports, settings, watcher } = loop);
    address = encodeAddress(pkh, settings.params.addressVersion);
  });

  afterEach(async () => {
    await loop.close();
  });

  const miner = (args: string[] = [], sets: Record<string, unknown> = {}, datadir?: string, p: NetPorts = ports): Promise<MinerProc> =>
    loop.miner({ address, args, sets, ports: p, ...(datadir === undefined ? {} : { datadir }) });

  it('three miners converge on one chain', async () => {
    const ms = await Promise.all([miner(), miner(), miner()]);
    const s = await watcher.converged(
      ms.map((m) => m.info.nodeId),
      8,
      120_000,
    );
    assert.ok(s.height >= 8);
    // Each miner's served chain is the same and links from genesis.
    const chains = await Promise.all(ms.map((m) => fetchChain(settings, m.blockServerPort)));
    const tipOf = (c: { headers: Header[] }) => hashToHex(headerHash(c.headers[c.headers.length - 1]!));
    const lens = chains.map((c) => c.headers.length);
    // They may have moved on since; compare the common prefix up to the converged height.
    for (const c of chains) {
      assert.ok(c.headers.length >= s.height);
      assert.equal(hashToHex(headerHash(c.headers[s.height - 1]!)), hashToHex(s.tipHash), `chain ${tipOf(c)} of ${lens}`);
    }
  });

  it('a broadcast transaction reaches every mempool and is mined exactly once', async () => {
    const a = await miner();
    const b = await miner(['--no-mine']);
    // Maturity on devnet is 5 blocks: wait until the block-1 reward can be spent in the next block.
    await watcher.converged([a.info.nodeId, b.info.nodeId], settings.params.coinbaseMaturity + 1, 60_000);
    const { blocks } = await fetchChain(settings, a.blockServerPort);
    const tx = spendCoinbase(blocks[0]!);
    const id = hashToHex(txid(tx));
    await sendOnce(settings.params, MsgType.Tx, encodeTx(tx), ports.transactionPort, ['127.255.255.255']);
    // Mined, and the relay-only node has the block that holds it.
    const found = await waitForAsync(
      async () => {
        const c = await fetchChain(settings, b.blockServerPort);
        const h = c.blocks.findIndex((bl) => bl.txs.some((t) => hashToHex(txid(t)) === id));
        return h >= 0 ? { height: h + 1 } : undefined;
      },
      60_000,
      () => `tx ${id} not mined; miner a:\n${a.output().slice(-2000)}`,
    );
    const s = await watcher.converged([a.info.nodeId, b.info.nodeId], found!.height, 60_000);
    for (const m of [a, b]) {
      const c = await fetchChain(settings, m.blockServerPort);
      const count = c.blocks.slice(0, s.height).reduce((n, bl) => n + bl.txs.filter((t) => hashToHex(txid(t)) === id).length, 0);
      assert.equal(count, 1, 'mined exactly once');
    }
    assert.match(a.output(), new RegExp(`mempool \\+${id.slice(0, 16)}`));
    assert.match(b.output(), new RegExp(`mempool \\+${id.slice(0, 16)}`), 'the relay-only node took it into its mempool too');
  });

  it('a miner started late catches up', async () => {
    const a = await miner();
    await waitFor(
      () => (watcher.of(a.info.nodeId)?.height ?? 0) >= 6,
      60_000,
      () => 'a did not mine',
    );
    const late = await miner(['--no-mine']);
    assert.equal(late.info.height, 0);
    await watcher.converged([a.info.nodeId, late.info.nodeId], 6, 60_000);
  });

  it("two miners that mined apart join and converge on the heaviest chain; the losing branch's tx returns to the mempool", async () => {
    // A common history first.
    const a = await miner();
    const bDir = loop.tempDir('miner-b');
    let b = await miner(['--no-mine'], {}, bDir);
    await watcher.converged([a.info.nodeId, b.info.nodeId], settings.params.coinbaseMaturity + 2, 60_000);
    await stopProc(b);
    // B now mines alone on ports of its own (a separate broadcast domain), slowly.
    const apart = await netPorts();
    const watcherB = new StatusWatcher(testSettings(apart));
    await watcherB.start();
    try {
      b = await miner([], { maxHashrate: 20000 }, bDir, apart);
      const { blocks } = await fetchChain(settings, a.blockServerPort);
      const tx = spendCoinbase(blocks[0]!);
      const id = hashToHex(txid(tx));
      await sendOnce(settings.params, MsgType.Tx, encodeTx(tx), apart.transactionPort, ['127.255.255.255']);
      const minedAt = await waitForAsync(
        async () => {
          const c = await fetchChain(settings, b.blockServerPort);
          const h = c.blocks.findIndex((bl) => bl.txs.some((t) => hashToHex(txid(t)) === id));
          return h >= 0 ? h + 1 : undefined;
        },
        60_000,
        () => `B did not mine the tx:\n${b.output().slice(-1500)}`,
      );
      const bTip = (await fetchChain(settings, b.blockServerPort)).headers.length;
      await stopProc(b);
      const bHeight = Math.max(bTip, minedAt);
      // A keeps mining until it is clearly heavier than B's branch.
      await waitFor(
        () => (watcher.of(a.info.nodeId)?.height ?? 0) >= bHeight + 3,
        90_000,
        () => 'A did not pull ahead',
      );
      // B rejoins A's network without mining: it must reorganise to A's chain and take the tx back.
      b = await miner(['--no-mine'], {}, bDir);
      await waitFor(
        () => /reorganised: \d+ block\(s\) replaced, 1 tx returned to the mempool/.test(b.output()),
        60_000,
        () => `B did not reorganise:\n${b.output()}`,
      );
      await waitFor(
        () => watcher.of(b.info.nodeId)?.mempoolSize === 1 || undefined,
        30_000,
        () => `B's mempool: ${watcher.of(b.info.nodeId)?.mempoolSize}`,
      );
    } finally {
      await watcherB.close();
    }
  });

  it('keeps mining and serving through hostile input', async () => {
    const a = await miner();
    await waitFor(
      () => (watcher.of(a.info.nodeId)?.height ?? 0) >= 2,
      60_000,
      () => 'no blocks',
    );
    const udp = dgram.createSocket('udp4');
    const send = (b: Uint8Array, port: number) => new Promise<void>((r) => udp.send(b, port, '127.0.0.1', () => r()));
    const p = settings.params;
    const other = testSettings(ports, { magic: '01020304' }).params;
    const goodTx = encodeFrame(p, MsgType.Tx, encodeTx(spendCoinbase((await fetchChain(settings, a.blockServerPort)).blocks[0]!)));
    for (let i = 0; i < 200; i++) {
      const junk = randomBytes(1 + (i % 300));
      await send(junk, ports.transactionPort);
      await send(junk, ports.statusPort);
    }
    for (let cut = 0; cut < goodTx.length; cut += 7) await send(goodTx.subarray(0, cut), ports.transactionPort);
    await send(
      encodeFrame(other, MsgType.Tx, encodeTx(spendCoinbase((await fetchChain(settings, a.blockServerPort)).blocks[0]!))),
      ports.transactionPort,
    );
    const badSig = goodTx.slice();
    badSig[badSig.length - 60] ^= 1; // breaks the checksum
    await send(badSig, ports.transactionPort);
    // A well-framed but invalid transaction (an output over MAX_MONEY).
    const t = spendCoinbase((await fetchChain(settings, a.blockServerPort)).blocks[0]!);
    await send(
      encodeFrame(
        p,
        MsgType.Tx,
        encodeTx({ ...t, outputs: [{ value: 22_000_000n * 100_000_000n, scriptPubKey: t.outputs[0]!.scriptPubKey }] }),
      ),
      ports.transactionPort,
    );

    // A fake peer announcing more work, whose block server serves a header with bad proof of work.
    const fake = net.createServer((s) => {
      const reader = new FrameReader(p, 1 << 20);
      s.on('data', (d) => {
        for (const f of reader.push(new Uint8Array(d))) {
          if (f.type === MsgType.GetHeaders) {
            const bad: Header = {
              version: 1,
              prevHash: p.genesisHash,
              merkleRoot: new Uint8Array(32),
              time: p.genesis.header.time + 1,
              bits: p.powLimitBits,
              nonce: 0,
            };
            s.write(encodeFrame(p, MsgType.Headers, encodeHeaders([headerHash(bad)[31] === 0 ? { ...bad, nonce: 1 } : bad])));
          }
        }
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const fakePort = (fake.address() as net.AddressInfo).port;
    const status = encodeStatus({
      tipHash: randomBytes(32),
      height: 1000,
      chainWork: 1n << 200n,
      blockServerPort: fakePort,
      nodeId: randomBytes(8),
      mempoolSize: 0,
    });
    const statusFrame = encodeFrame(p, MsgType.Status, status);
    await send(statusFrame, ports.statusPort);
    let statusSentAt = Date.now();

    // TCP clients that send garbage, or connect and never finish a request.
    const garbage = net.connect(a.blockServerPort, '127.0.0.1');
    garbage.on('error', () => {});
    garbage.write(randomBytes(5000));
    const slow = net.connect(a.blockServerPort, '127.0.0.1');
    slow.on('error', () => {});
    slow.write(encodeFrame(p, MsgType.GetHeaders, new Uint8Array(0)).subarray(0, 10));
    const garbageClosed = new Promise((r) => garbage.on('close', r));

    try {
      await waitFor(
        () => {
          // As a real peer repeats its status: the first may fall to the per-address rate limit
          // that the 200 junk datagrams above exhausted (a burst of 200, then 50 a second).
          if (Date.now() - statusSentAt >= 500) {
            statusSentAt = Date.now();
            void send(statusFrame, ports.statusPort);
          }
          return /ignoring 127\.0\.0\.1:\d+ .*high-hash/.test(a.output());
        },
        30_000,
        () => `fake peer not banned:\n${a.output().slice(-1500)}`,
      );
      await garbageClosed;
      const h0 = watcher.of(a.info.nodeId)!.height;
      await waitFor(
        () => (watcher.of(a.info.nodeId)?.height ?? 0) >= h0 + 2,
        60_000,
        () => 'stopped mining after hostile input',
      );
      const c = await fetchChain(settings, a.blockServerPort);
      assert.ok(c.headers.length >= h0 + 2, 'still serving');
      assert.equal(a.child.exitCode, null);
      // Dropped and counted: the status line carries the counts.
      await waitFor(
        () => /\d+ bad datagrams dropped, \d+ invalid tx rejected, 1 peer\(s\) ignored/.test(a.output()),
        30_000,
        () => `no drop counts:\n${a.output().slice(-800)}`,
      );
    } finally {
      slow.destroy();
      garbage.destroy();
      fake.close();
      udp.close();
    }
  });

  it('survives kill -9 mid-mining and continues on the same datadir', async () => {
    const dir = loop.tempDir('miner-kill');
    let a = await miner([], { maxHashrate: 400000 }, dir);
    await waitFor(
      () => (watcher.of(a.info.nodeId)?.height ?? 0) >= 8,
      60_000,
      () => 'no blocks',
    );
    const before = watcher.of(a.info.nodeId)!.height;
    await stopProc(a, 'SIGKILL');
    loop.forget(a);
    a = await miner([], {}, dir);
    assert.ok(a.info.height >= before - 1, `restarted at ${a.info.height}, had announced ${before}`);
    await waitFor(
      () => (watcher.of(a.info.nodeId)?.height ?? 0) >= before + 1,
      60_000,
      () => 'did not continue',
    );
    const c = await fetchChain(settings, a.blockServerPort);
    let prev = settings.params.genesisHash;
    for (const h of c.headers) {
      assert.equal(toHex(h.prevHash), toHex(prev), 'chain links');
      prev = headerHash(h);
    }
    assert.equal(c.blocks.length, c.headers.length);
    void encodeBlock;
  });
});

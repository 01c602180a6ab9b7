// The light (SPV) wallet against a real block server and a real explorer on loopback, and against
// a lying explorer (test/kit/lying-explorer.ts) that alters one thing at a time: each lie caught
// and named, a hidden payment reported as not shown by that server, the balance always the proven one.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAddress } from '../src/shared/core/address.js';
import { p2pkhOutput } from '../src/shared/core/builder.js';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import { formatCoins } from '../src/shared/core/amount.js';
import { blockSubsidy } from '../src/shared/core/params.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { LightHeaders } from '../src/wallet/light/headers.js';
import { type Block } from '../src/shared/core/block.js';
import { coinbaseCoin, key, spend } from './kit/blockgen.js';
import { type RunningExplorer, startExplorer, waitHeight } from './kit/explorer.js';
import { type LieMode, startLyingExplorer } from './kit/lying-explorer.js';
import { LOOPBACK_BROADCAST, type MinerProc, netPorts, removeDir, startMiner, stopProc, tempDir, testSettings } from './kit/procs.js';
import { TestMiner, settingsOf, testNetSets, wallet, walletProcess } from './kit/wallet-net.js';
import net from 'node:net';
import { checkProofOfWork } from '../src/shared/core/pow.js';
import { merkleRoot, merkleRootFromBranch } from '../src/shared/core/merkle.js';
import { merkleBranch } from '../src/shared/node/annotate.js';
import { sha256d } from '../src/shared/core/hash.js';
import { hexToHash } from '../src/shared/core/bytes.js';
import { hashToNumber, headerHash } from '../src/shared/core/header.js';
import { FrameReader, MsgType, encodeFrame, encodeHeaders } from '../src/shared/node/net/protocol.js';

const COIN = 100_000_000n;
const idOf = (tx: Tx) => hashToHex(txid(tx));

describe('light wallet: headers, Merkle proofs, lying servers', function () {
  this.timeout(90_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let run: RunningExplorer;
  let dir: string;
  let alicePkh: Uint8Array;
  let expected = 0n;
  let payment: Tx;
  const payer = key(7);
  const bob = key(8);
  const blocks: Block[] = [];

  let paid = 0n;
  const light = (args: readonly string[], d = dir) => wallet(d, sets, ['light', ...args]);
  const balanceOf = async (d = dir): Promise<any> => JSON.parse((await wallet(d, sets, ['light', 'balance', '--json'])).out);
  /** A light wallet with alice's key and nothing proven yet. */
  const freshCopy = (): string => {
    const d = tempDir('light-copy');
    cpSync(join(dir, 'keys'), join(d, 'keys'), { recursive: true });
    return d;
  };

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    dir = tempDir('light');
    const made = await wallet(dir, sets, ['new-address', 'alice']);
    alicePkh = decodeAddress(made.out.split(' ')[1]!.trim()).hash160;
    const p = miner.settings.params;
    // Height 1 pays the payer; 2..7 pay alice (the payer's coin matures); 8 holds the payment; 9..10 on top.
    blocks.push(...miner.mine(1, payer.pkh));
    blocks.push(...miner.mine(6, alicePkh));
    for (let h = 2; h <= 7; h++) expected += blockSubsidy(h, p);
    paid = 12n * COIN + 34_567n;
    payment = spend(
      [coinbaseCoin(blocks[0]!, payer)],
      [p2pkhOutput(paid, alicePkh), p2pkhOutput(blockSubsidy(1, p) - paid - 10_000n, payer.pkh)],
    );
    blocks.push(...miner.mine(1, payer.pkh, { txs: [payment] }));
    blocks.push(...miner.mine(2, payer.pkh));
    expected += paid;
    await waitHeight(run.ex, 10);
  });
  after(async () => {
    await run?.stop();
    await miner?.stop();
    if (dir) removeDir(dir);
  });

  const peer = () => `127.0.0.1:${miner.node.server!.port}`;

  it('keeps only checked headers, finds its payments from an honest explorer and proves every one', async () => {
    const r = await light(['sync', '--json', '--peer', peer(), '--explorer', run.url]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.height, 10);
    assert.equal(j.tip, hashToHex(miner.tip.hash));
    assert.equal(j.headers.new, 10);
    // 6 coinbases and the payment: every one shown was proven, and the balance is what was paid.
    assert.equal(j.explorers[0].shown, 7);
    assert.equal(j.explorers[0].proven, 7);
    assert.deepEqual(j.explorers[0].lies, []);
    assert.equal(j.balance, formatCoins(expected));
    const b = await balanceOf();
    assert.equal(b.balance, formatCoins(expected));
    assert.equal(b.provenTxs, 7);
    // Headers only: no block body but the genesis block the chain starts from.
    const h = LightHeaders.open(dir, miner.settings.params);
    try {
      assert.equal(h.height, 10);
      for (let i = 1; i <= 10; i++) assert.equal(h.store.getBlock(h.atHeight(i)!.hash), undefined);
    } finally {
      h.close();
    }
  });

  const lies: [LieMode, RegExp][] = [
    ['branch', /lied \(branch\): the Merkle branch it served for (\w+) does not lead to the Merkle root of our header at height 8/],
    ['off-best-chain', /lied \(off-best-chain\): it places (\w+) in block \w+ at height 8, which is not on our best header chain/],
    ['amount', /lied \(amount\): its JSON says output 0 of (\w+) pays 120\.00345670, the raw transaction pays 12\.00034567/],
    ['txid', /lied \(txid\): the raw transaction it served for (\w+) hashes to \w+/],
  ];
  for (const [mode, re] of lies) {
    it(`catches and names a lying server: ${mode}; the balance counts only what is proven`, async () => {
      const substitute = mode === 'txid' ? toHex(encodeTx(blocks[3]!.txs[0]!)) : hashToHex(blocks[3]!.header.prevHash);
      const d = freshCopy();
      const liar = await startLyingExplorer(run.url, { mode, victim: idOf(payment), substitute });
      try {
        const r = await light(['sync', '--peer', peer(), '--explorer', liar.url], d);
        assert.ok(liar.told > 0, 'the lie was told');
        assert.equal(r.code, 4, r.out + r.err);
        const line = r.out.split('\n').find((l) => re.test(l));
        assert.ok(line, `no line matching ${re} in:\n${r.out}\n${r.err}`);
        assert.ok(line.startsWith(`${liar.url} lied`), line);
        assert.equal(re.exec(line)![1], idOf(payment));
        console.log(`      ${line}`);
        // The lie is not counted: the balance is the six proven coinbases, without the payment.
        const b = await balanceOf(d);
        assert.equal(b.balance, formatCoins(expected - paid));
        assert.equal(b.provenTxs, 6);
      } finally {
        await liar.close();
        removeDir(d);
      }
    });
  }

  it('reports a payment hidden by one server as not shown by it when a second shows it, never as a wrong balance', async () => {
    const d = freshCopy();
    const liar = await startLyingExplorer(run.url, { mode: 'hide', victim: idOf(payment) });
    try {
      // Alone, the hiding server cannot be caught: SPV proves what is shown, and says so.
      const alone = await light(['sync', '--peer', peer(), '--explorer', liar.url], d);
      assert.equal(alone.code, 0, alone.err);
      assert.match(alone.err, /a server can hide a payment, not fake one/);
      assert.equal((await balanceOf(d)).balance, formatCoins(expected - paid));
      const r = await light(['sync', '--peer', peer(), '--explorer', liar.url, '--explorer', run.url], d);
      assert.ok(liar.told > 0);
      assert.equal(r.code, 4, r.out + r.err);
      const line = `payment ${idOf(payment)} not shown by this server: ${liar.url} left it out; ${run.url} showed it with a valid proof, so it is counted`;
      assert.ok(r.out.split('\n').includes(line), r.out);
      assert.doesNotMatch(r.out, /lied/);
      assert.equal((await balanceOf(d)).balance, formatCoins(expected));
      console.log(`      ${line}`);
    } finally {
      await liar.close();
      removeDir(d);
    }
  });

  it('sends from proven coins through the explorer, and proves the payment once mined', async () => {
    const bobAddress = (await import('../src/shared/core/address.js')).encodeAddress(bob.pkh, miner.settings.params.addressVersion);
    const s = await light(['send', 'alice', '3', bobAddress, '--explorer', run.url, '--json']);
    assert.equal(s.code, 0, s.err);
    const sent = JSON.parse(s.out);
    assert.deepEqual(sent.acceptedBy, [run.url]);
    const tx = await miner.waitTx(sent.txid);
    miner.mine(1, payer.pkh, { txs: [tx] });
    await waitHeight(run.ex, 11);
    const r = await light(['sync', '--json', '--peer', peer(), '--explorer', run.url]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const fee = BigInt(Math.round(Number(sent.fee) * 1e8));
    assert.equal(j.balance, formatCoins(expected - 3n * COIN - fee));
    assert.equal(j.provenTxs, 8);
  });

  it('hears block servers on the status port when no --peer is given', async () => {
    const r = await light(['sync', '--json', '--explorer', run.url]);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).headers.servers[0].server, peer());
  });
});

describe('light wallet: headers from block servers', function () {
  this.timeout(180_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let dir: string;
  const HEADERS = 10_000;

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    const t0 = performance.now();
    miner.mine(HEADERS, key(9).pkh);
    console.log(`      (built ${HEADERS} blocks in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    dir = tempDir('light-10k');
    await wallet(dir, sets, ['new-address', 'alice']);
  });
  after(async () => {
    await miner?.stop();
    if (dir) removeDir(dir);
  });

  it(`syncs ${HEADERS} headers, every retarget checked, in under 5 s (a real mvb-wallet process)`, async () => {
    const r = await walletProcess(dir, sets, ['light', 'sync', '--json', '--peer', `127.0.0.1:${miner.node.server!.port}`]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.headers.new, HEADERS);
    assert.equal(j.height, HEADERS);
    assert.equal(j.tip, hashToHex(miner.tip.hash));
    const periods = new Set<number>();
    for (let h = 0; h <= HEADERS; h++) periods.add(miner.chain.atHeight(h)!.header.bits);
    assert.ok(periods.size > 1, 'the chain retargets (its nBits change), so the retarget rule was checked');
    console.log(
      `      light sync: ${HEADERS} headers in ${j.headers.seconds.toFixed(2)} s (${Math.round(HEADERS / j.headers.seconds)} headers/s), ${periods.size} distinct nBits`,
    );
    assert.ok(j.headers.seconds < 5, `${j.headers.seconds} s`);
  });

  it('refuses headers that fail the core checks, naming the block server, and keeps its best chain', async () => {
    const params = miner.settings.params;
    // A block server that answers every GETHEADERS with the real chain's next headers, one nonce changed.
    const real = [1, 2, 3].map((h) => miner.chain.atHeight(h)!.header);
    let bad = { ...real[1]!, nonce: (real[1]!.nonce + 1) >>> 0 };
    while (checkProofOfWork(hashToNumber(headerHash(bad)), bad.bits, params.powLimit)) bad = { ...bad, nonce: (bad.nonce + 1) >>> 0 };
    const forged = [real[0]!, bad, real[2]!];
    const fresh = tempDir('light-bad');
    cpSync(join(dir, 'keys'), join(fresh, 'keys'), { recursive: true });
    const srv = net.createServer((sock) => {
      const reader = new FrameReader(params, 1 << 20);
      sock.on('data', (d) => {
        for (const f of reader.push(new Uint8Array(d)))
          if (f.type === MsgType.GetHeaders) sock.write(encodeFrame(params, MsgType.Headers, encodeHeaders(forged)));
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const r = await wallet(fresh, sets, ['light', 'sync', '--peer', `127.0.0.1:${port}`]);
      assert.match(r.err, new RegExp(`block server 127\\.0\\.0\\.1:${port}: sent an invalid header \\(high-hash`));
      // The run is refused whole by the pre-sync check: nothing stored.
      assert.match(r.err, /best chain height 0, /);
      assert.equal(r.code, 0);
    } finally {
      srv.close();
      removeDir(fresh);
    }
  });
});

describe('merkleRootFromBranch (the light wallet’s proof check)', () => {
  it('leads every txid of trees of 1 to 40 leaves to the root, and no changed branch or position does', () => {
    let checked = 0;
    for (let n = 1; n <= 40; n++) {
      const ids = Array.from({ length: n }, (_v, i) => sha256d(Uint8Array.of(n, i)));
      const root = merkleRoot(ids);
      for (let pos = 0; pos < n; pos++) {
        const branch = merkleBranch(ids, pos).map(hexToHash);
        assert.deepEqual(merkleRootFromBranch(ids[pos]!, branch, pos), root);
        if (branch.length > 0) {
          const bent = branch.map((h, i) => (i === branch.length - 1 ? Uint8Array.from(h, (b, k) => (k === 0 ? b ^ 1 : b)) : h));
          assert.notDeepEqual(merkleRootFromBranch(ids[pos]!, bent, pos), root);
          // The same branch read at the sibling's position (a real, distinct sibling) swaps a pair: another root.
          if ((pos ^ 1) < n) assert.notDeepEqual(merkleRootFromBranch(ids[pos]!, branch, pos ^ 1), root);
        }
        checked++;
      }
    }
    assert.equal(checked, 820);
    assert.equal(merkleRootFromBranch(new Uint8Array(32), [], 1), undefined, 'a position past the tree');
    assert.equal(merkleRootFromBranch(new Uint8Array(32), Array(33).fill(new Uint8Array(32)), 0), undefined, 'a branch over 32 levels');
  });
});

describe('light wallet with real processes: a mvb-miner, its headers heard on the status port, the full wallet agreeing', function () {
  this.timeout(120_000);
  let miner: MinerProc | undefined;
  let run: RunningExplorer | undefined;
  let dir: string;

  after(async () => {
    await run?.stop();
    if (miner) await stopProc(miner);
    if (dir) removeDir(dir);
  });

  it('finds the rewards a real miner paid it, proves each, and shows the balance the full wallet shows', async () => {
    const ports = await netPorts();
    const sets = { broadcastAddress: LOOPBACK_BROADCAST, statusPort: ports.statusPort, transactionPort: ports.transactionPort };
    dir = tempDir('light-real');
    const w = join(dir, 'wallet');
    const address = (await wallet(w, sets, ['new-address', 'alice'])).out.split(' ')[1]!.trim();
    run = await startExplorer(testSettings(ports));
    miner = await startMiner({ ports, datadir: join(dir, 'miner'), args: ['--address', address] });
    await waitHeight(run.ex, 8, 60_000);
    // The same miner again without mining: it still announces and serves, and the height stays put.
    await stopProc(miner);
    miner = await startMiner({ ports, datadir: join(dir, 'miner'), args: ['--no-mine'] });
    const height = miner.info.height;
    await waitHeight(run.ex, height, 20_000);
    const r = await walletProcess(w, sets, ['light', 'sync', '--json', '--explorer', run.url]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.height, height);
    assert.equal(j.headers.servers[0].server, `127.0.0.1:${miner.blockServerPort}`);
    assert.equal(j.explorers[0].proven, height);
    const full = await walletProcess(w, sets, ['sync', '--once']);
    assert.equal(full.code, 0, full.err);
    const rows = JSON.parse((await wallet(w, sets, ['list-addresses', '--json'])).out) as { balance: string; height: number }[];
    assert.equal(rows[0]!.height, height);
    assert.equal(j.balance, rows[0]!.balance);
    console.log(`      light and full wallet agree at height ${height}: ${j.balance} in ${j.provenTxs} proven transactions`);
  });
});

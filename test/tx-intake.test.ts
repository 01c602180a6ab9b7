// One transaction intake (src/shared/node/mempool/intake.ts) for every app. The same sequence of
// transactions (valid, replayed, zero-fee, that replayed, a forged signature, a double spend of an
// input already in the pool), each sent once on the transaction port, reaches a miner, an explorer
// and a wallet's sync, all in-process, and each gives the same verdict with Core's reason. Then
// issue 18.5: a replay flood sent from the honest sender's own address (on one machine everyone is
// 127.0.0.1), one forged from thousands of addresses and a forged-signature flood from one do not
// keep a new honest payment out. Loopback test network (broadcast 127.255.255.255, free ports);
// every wait is on an event or a count, with a bound.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { decodeAddress } from '../src/shared/core/address.js';
import { p2pkhOutput, signP2pkhTx } from '../src/shared/core/builder.js';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import type { Block } from '../src/shared/core/block.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { Miner } from '../src/miner/miner.js';
import type { CommandContext } from '../src/shared/node/cli/runner.js';
import type { Settings } from '../src/shared/node/cli/config.js';
import { FairQueue } from '../src/shared/node/mempool/fair-queue.js';
import type { TxIntake, TxVerdict } from '../src/shared/node/mempool/intake.js';
import { SourceRateLimiter } from '../src/shared/node/net/rate-limit.js';
import { MsgType, encodeFrame } from '../src/shared/node/net/protocol.js';
import { sendOnce } from '../src/shared/node/net/udp.js';
import { IncomingListener } from '../src/wallet/cmds/sync/incoming-listener.js';
import { SyncPrinter } from '../src/wallet/cmds/sync/printer.js';
import { SyncSession } from '../src/wallet/cmds/sync/session.js';
import { key } from './kit/blockgen.js';
import { type RunningExplorer, get, startExplorer } from './kit/explorer.js';
import { LOOPBACK_BROADCAST, removeDir, tempDir, waitFor } from './kit/procs.js';
import { Capture, TestMiner, settingsOf, testNetSets, wallet } from './kit/wallet-net.js';

const COIN = 100_000_000n;
const FEE = 10_000n;
const payer = key(7);
const OTHER_PKH = new Uint8Array(20).fill(9);

/** A verdict as compared across apps: its kind and, for a refusal, Core's reason. */
const shown = (v: TxVerdict): string => (v.kind === 'rejected' ? `rejected ${v.error.code}` : v.kind);

describe('one transaction intake: the miner, the explorer and a wallet sync judge alike', function () {
  this.timeout(120_000);
  let settings: Settings;
  let peer: TestMiner;
  let coinbases: Block[];
  let bobPkh: Uint8Array;
  let miner: Miner;
  let minerOut: Capture;
  let explorer: RunningExplorer;
  let session: SyncSession;
  let listener: IncomingListener;
  let walletOut: Capture;
  const dirs: string[] = [];
  const verdicts = new Map<string, TxVerdict[]>();

  before(async () => {
    const sets = await testNetSets();
    settings = settingsOf(sets);
    peer = await TestMiner.start(sets);
    coinbases = peer.mine(8, payer.pkh);
    peer.mine(settings.params.coinbaseMaturity + 1, OTHER_PKH);
    const bobDir = tempDir('intake-wallet');
    const minerDir = tempDir('intake-miner');
    dirs.push(bobDir, minerDir);
    const made = await wallet(bobDir, sets, ['new-address', 'bob', '--json']);
    assert.equal(made.code, 0, made.err);
    bobPkh = decodeAddress((JSON.parse(made.out) as { address: string }).address).hash160;

    minerOut = new Capture();
    miner = new Miner({
      settings,
      datadir: minerDir,
      threads: 1,
      mine: false,
      quiet: false,
      io: minerOut.io,
      color: false,
      statusLineSeconds: 3600,
    });
    await miner.start();
    explorer = await startExplorer(settings);
    walletOut = new Capture();
    const ctx: CommandContext = {
      settings,
      datadir: bobDir,
      json: false,
      io: walletOut.io,
      signal: new AbortController().signal,
      env: {},
      shared: { datadir: bobDir, network: undefined, config: undefined, set: [], json: false },
    };
    session = SyncSession.open(ctx, () => {});
    session.db.ensureIndex(session.pkhs());
    listener = new IncomingListener(session, new SyncPrinter(ctx, false, true), () => {});
    await session.node.start('optional');
    const h = peer.tip.height;
    await waitFor(
      () => [miner.chain, explorer.ex.chain, session.chain].every((c) => c.height === h),
      30_000,
      () => `heights: miner ${miner.chain.height}, explorer ${explorer.ex.chain.height}, wallet ${session.chain.height}; peer ${h}`,
    );
    for (const [app, intake] of apps()) {
      verdicts.set(app, []);
      intake.on('verdict', (v) => verdicts.get(app)!.push(v));
    }
  });

  after(async () => {
    await listener?.stop();
    await session?.close();
    await explorer?.stop();
    await miner?.stop();
    await peer?.stop();
    for (const d of dirs) removeDir(d);
  });

  const apps = (): [string, TxIntake][] => [
    ['miner', miner.intake],
    ['explorer', explorer.ex.intake],
    ['wallet sync', listener.intake],
  ];
  const coin = (n: number) => ({ prevTxid: txid(coinbases[n]!.txs[0]!), vout: 0, secretKey: payer.secretKey });
  const valueOf = (n: number): bigint => coinbases[n]!.txs[0]!.outputs[0]!.value;
  /** Coinbase n to bob (`amount`) with the change back to the payer, paying `fee`. */
  const pay = (n: number, amount: bigint, fee = FEE): Tx =>
    signP2pkhTx([coin(n)], [p2pkhOutput(amount, bobPkh), p2pkhOutput(valueOf(n) - amount - fee, payer.pkh)]);
  const broadcast = (tx: Tx) => sendOnce(settings.params, MsgType.Tx, encodeTx(tx), settings.transactionPort, [LOOPBACK_BROADCAST]);
  const idOf = (tx: Tx): string => hashToHex(txid(tx));
  const verdictsFor = (app: string, id: string): TxVerdict[] => verdicts.get(app)!.filter((v) => 'txid' in v && v.txid === id);

  it('valid, replayed, zero-fee, replayed again, forged signature, conflicting: the same verdict and reason from each app, each reason logged once', async () => {
    const valid = pay(0, COIN);
    const zeroFee = pay(1, COIN, 0n);
    // The right key's signature, of another message.
    const forged: Tx = { ...pay(2, COIN), inputs: [{ ...pay(2, COIN).inputs[0]!, scriptSig: valid.inputs[0]!.scriptSig }] };
    const conflicting = pay(0, 2n * COIN);
    const sequence: [string, Tx, string][] = [
      ['valid', valid, 'accepted'],
      ['replayed', valid, 'known'],
      ['zero-fee', zeroFee, 'rejected min relay fee not met'],
      ['zero-fee replayed', zeroFee, 'rejected txn-recently-rejected'],
      ['forged signature', forged, 'rejected mandatory-script-verify-flag-failed'],
      ['conflicting', conflicting, 'rejected txn-mempool-conflict'],
    ];
    const seen = new Map<string, string[]>(apps().map(([app]) => [app, []]));
    for (const [step, tx] of sequence) {
      const id = idOf(tx);
      const before = apps().map(([app]) => verdictsFor(app, id).length);
      await broadcast(tx);
      await waitFor(
        () => apps().every(([app], k) => verdictsFor(app, id).length > before[k]!),
        20_000,
        () => `${step}: verdicts ${apps().map(([app]) => `${app} ${verdictsFor(app, id).map(shown).join('/')}`)}`,
      );
      for (const [app] of apps()) seen.get(app)!.push(`${step}: ${shown(verdictsFor(app, id).at(-1)!)}`);
    }
    const expected = sequence.map(([step, , verdict]) => `${step}: ${verdict}`);
    assert.equal(expected.length, 6);
    for (const [app] of apps()) assert.deepEqual(seen.get(app), expected, app);
    // The pools agree too: the valid payment alone.
    for (const pool of [miner.mempool, explorer.ex.mempool, listener.mempool])
      assert.deepEqual(
        pool.all().map((e) => hashToHex(e.txid)),
        [idOf(valid)],
      );
    assert.ok(session.db.incomingRecord(idOf(valid)), 'the wallet recorded the payment');
    // Each refusal's reason once, though the zero-fee one was heard twice.
    const once = (out: string, line: string) => out.split(line).length - 1;
    assert.equal(once(minerOut.out, `rejected tx ${idOf(zeroFee).slice(0, 16)}…: min relay fee not met`), 1);
    assert.equal(once(walletOut.err, `ignored transaction ${idOf(zeroFee)} paying bob: min relay fee not met`), 1);
    // The explorer's POST /api/tx goes through the same intake: Core's reason, as sendrawtransaction gives it.
    const posted = await get(explorer.url, '/api/tx', {
      method: 'POST',
      body: Buffer.from(encodeTx({ ...forged, locktime: 1 })).toString('hex'),
    });
    assert.equal(posted.status, 400);
    assert.match(posted.text, /"code":-26,"message":"mandatory-script-verify-flag-failed/);
  });

  /** Sends `frames` from one socket, waiting (bounded) for the miner to have heard each batch: no datagram lost to a full kernel buffer. */
  async function flood(sock: dgram.Socket, frames: readonly Uint8Array[], batch = 250): Promise<void> {
    for (let from = 0; from < frames.length; from += batch) {
      const heard = miner.stats.txReceived;
      const part = frames.slice(from, from + batch);
      await Promise.all(part.map((f) => new Promise((r) => sock.send(f, settings.transactionPort, LOOPBACK_BROADCAST, r))));
      await waitFor(
        () => miner.stats.txReceived >= heard + part.length,
        10_000,
        () => `miner heard ${miner.stats.txReceived - heard} of ${part.length}`,
      );
    }
  }

  it('issue 18.5: a replay flood from the honest sender’s own address (127.0.0.1) does not keep its new payment out of any pool', async () => {
    // Replays of everything the first test sent: one accepted, the others refused at this tip.
    const replays = [pay(0, COIN), pay(1, COIN, 0n), pay(0, 2n * COIN)].map((tx) => encodeFrame(settings.params, MsgType.Tx, encodeTx(tx)));
    const frames = Array.from({ length: 3000 }, (_, i) => replays[i % replays.length]!);
    const honest = pay(3, COIN);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.setBroadcast(true);
    try {
      const known0 = miner.intake.stats.known;
      const refused0 = miner.intake.stats.recentlyRejected;
      // Before the fix, 1 000 datagrams from one address emptied its bucket (200/s after that): this payment was dropped unread.
      await flood(sock, frames.slice(0, 1500));
      await new Promise((r) =>
        sock.send(encodeFrame(settings.params, MsgType.Tx, encodeTx(honest)), settings.transactionPort, LOOPBACK_BROADCAST, r),
      );
      await flood(sock, frames.slice(1500));
      for (const [app, pool] of [
        ['miner', miner.mempool],
        ['explorer', explorer.ex.mempool],
        ['wallet sync', listener.mempool],
      ] as const) {
        await waitFor(
          () => pool.has(txid(honest)),
          20_000,
          () => `${app}: the honest payment not in the pool`,
        );
      }
      assert.ok(miner.intake.stats.known - known0 >= 1000, 'replays of the pool transaction: known at step 4');
      assert.ok(miner.intake.stats.recentlyRejected - refused0 >= 2000, 'replays of refused ones: recently rejected at step 5');
      for (const [app, intake] of apps()) assert.equal(intake.stats.dropped, 0, `${app}: nothing dropped`);
    } finally {
      sock.close();
    }
  });

  it('issue 18.5: replays forged from 5 000 addresses, and a forged-signature flood from one, do not keep an honest payment out; the flood loses only its own share', async () => {
    const intake = miner.intake;
    const replays = [pay(0, COIN), pay(1, COIN, 0n)].map(encodeTx);
    for (let i = 0; i < 5000; i++) intake.offer(replays[i % 2]!, `10.${(i >> 8) & 255}.${i & 255}.1`);
    // Fresh txids spending a real coin, each with the right key's signature of another message: one check each.
    const template = pay(4, COIN);
    const sig = pay(0, COIN).inputs[0]!.scriptSig;
    const forged = (i: number): Uint8Array =>
      encodeTx({
        ...template,
        inputs: [{ ...template.inputs[0]!, scriptSig: sig }],
        outputs: [p2pkhOutput(COIN + BigInt(i), bobPkh), template.outputs[1]!],
      });
    const dropped0 = intake.stats.dropped;
    for (let i = 0; i < 1500; i++) intake.offer(forged(i), '10.200.0.1');
    assert.ok(intake.queued <= 1000, `queue capped in total: ${intake.queued}`);
    // 1 500 offered: one is being checked, 1 000 wait, the rest were dropped from the flood's own line.
    assert.equal(
      intake.stats.dropped - dropped0,
      1500 - 1 - intake.queued,
      `the flood beyond the cap is dropped: ${JSON.stringify(intake.stats)}, ${intake.queued} queued`,
    );
    const honest = pay(5, COIN);
    const verdict = intake.submit(encodeTx(honest), '127.0.0.1');
    for (let i = 1500; i < 2000; i++) intake.offer(forged(i), '10.200.0.1');
    assert.equal(shown(await verdict), 'accepted');
    assert.ok(miner.mempool.has(txid(honest)));
  });

  it('a payment and its child sent back to back: the child waits behind its parent instead of being refused for missing inputs', async () => {
    const parent = pay(6, COIN);
    const change = parent.outputs[1]!.value;
    const child = signP2pkhTx([{ prevTxid: txid(parent), vout: 1, secretKey: payer.secretKey }], [p2pkhOutput(change - FEE, payer.pkh)]);
    const intake = explorer.ex.intake;
    const [p, c] = [intake.submit(encodeTx(parent), '127.0.0.1'), intake.submit(encodeTx(child), '127.0.0.1')];
    assert.equal(intake.queued, 1, 'the child waits while its parent is checked');
    assert.deepEqual([shown(await p), shown(await c)], ['accepted', 'accepted']);
    assert.deepEqual([...explorer.ex.mempool.get(txid(child))!.parents], [toHex(txid(parent))]);
  });
});

describe('per-source state is bounded by what it holds, not by the addresses it names', () => {
  it('a full budget table gives a newcomer a bucket that filled up again, or the oldest as it stands: cycling addresses mints no tokens', () => {
    let now = 0;
    const limiter = new SourceRateLimiter({ ratePerSecond: 1, burst: 10 }, () => now, 4);
    for (const s of ['a', 'b', 'c', 'd']) limiter.spend(s, 10);
    let started = 0;
    for (let i = 0; i < 100; i++) if (limiter.hasCredit(`forged ${i}`)) started++;
    assert.equal(started, 0, 'no forged newcomer starts work on a spent table');
    assert.equal(limiter.sources, 4);
    now = 20_000; // the spent buckets have filled up again: forgetting one loses nothing
    assert.ok(limiter.hasCredit('honest'));
    limiter.spend('honest', 15);
    assert.ok(!limiter.hasCredit('honest'), 'in debt');
    assert.equal(limiter.msUntilCredit('honest'), 5001);
  });

  it('a full queue takes from the longest line: a flood keeps its own share, a quiet source always finds a place, lines are served in turn', () => {
    const q = new FairQueue<string>(10);
    const dropped: string[] = [];
    for (let i = 0; i < 15; i++) {
      const d = q.push('flood', `f${i}`);
      if (d) dropped.push(d);
    }
    assert.deepEqual(dropped, ['f10', 'f11', 'f12', 'f13', 'f14'], 'the newcomers of the longest line');
    assert.equal(q.push('quiet', 'q0'), 'f9', 'room made at the flood’s newest');
    assert.equal(q.size, 10);
    assert.deepEqual([q.shift()!.item, q.shift()!.item, q.shift()!.item], ['f0', 'q0', 'f1']);
    assert.deepEqual([...q.sources()], ['flood']);
    assert.equal(
      q.shift((s) => s !== 'flood'),
      undefined,
      'a line held back keeps its place',
    );
    assert.equal(q.clear().length, 7);
  });
});

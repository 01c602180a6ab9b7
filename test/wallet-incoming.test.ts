// Incoming payments: a receiving wallet's `sync` hears transactions on the transaction port,
// validates those paying its keys against its own chain and shows them as + pending until they are
// mined; forged ones are never recorded; a mined double spend, a vanished input or age drops them.
// Loopback test network (broadcast 127.255.255.255, free ports), an in-process miner-like peer,
// waits on output lines and events with bounded timeouts.
import type { AddressRow } from '../src/shared/node/json-rows.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { decodeAddress } from '../src/shared/core/address.js';
import { p2pkhOutput, signP2pkhTx } from '../src/shared/core/builder.js';
import { fromHex, hashToHex } from '../src/shared/core/bytes.js';
import { KeyStore } from '../src/shared/node/store/keystore.js';
import { MsgType } from '../src/shared/node/net/protocol.js';
import { sendOnce } from '../src/shared/node/net/udp.js';
import { p2pkhScript } from '../src/shared/core/script.js';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { displayOutpoint, outpointKey } from '../src/shared/core/outpoint.js';
import { INCOMING_TTL_MS, type IncomingRecord, WalletDb } from '../src/wallet/db/index.js';
import { LOOPBACK_BROADCAST, removeDir, tempDir } from './kit/procs.js';
import { Capture, type CliResult, TestMiner, testNetSets, wallet, walletProcess } from './kit/wallet-net.js';

/** Base units per coin (Core's COIN), written out. */
const COIN = 100_000_000n;

const MINER_PKH = new Uint8Array(20).fill(5);

type Row = AddressRow;

interface Key {
  address: string;
  pkh: Uint8Array;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('wallet: incoming payments heard on the LAN', function () {
  this.timeout(60_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let aliceDir: string;
  let bobDir: string;
  const running: { ac: AbortController; done: Promise<CliResult> }[] = [];

  beforeEach(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    aliceDir = tempDir('wallet-alice');
    bobDir = tempDir('wallet-bob');
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.ac.abort();
      await r.done;
    }
    await miner.stop();
    removeDir(aliceDir);
    removeDir(bobDir);
  });

  const alice = (args: string[]) => wallet(aliceDir, sets, args);
  /** A command on bob's wallet as its own process, beside bob's running sync (as a user would). */
  const bob = (args: string[]) => walletProcess(bobDir, sets, args);

  async function newAddress(datadir: string, name: string): Promise<Key> {
    const r = await wallet(datadir, sets, ['new-address', name, '--json']);
    assert.equal(r.code, 0, r.err);
    const { address } = JSON.parse(r.out) as { address: string };
    return { address, pkh: decodeAddress(address).hash160 };
  }
  async function rows(r: CliResult): Promise<Record<string, Row>> {
    assert.equal(r.code, 0, r.err);
    return Object.fromEntries((JSON.parse(r.out) as Row[]).map((x) => [x.name, x]));
  }
  async function send(to: string, amount: string): Promise<string> {
    const r = await alice(['send', 'alice', amount, to]);
    assert.equal(r.code, 0, r.err);
    return r.out.trim();
  }
  /** Alice with 7 mature coins of 50 on a chain of 12 blocks, synced; bob with an empty wallet. */
  async function setup(): Promise<{ a: Key; b: Key; aliceCoinbase: Tx; secret: Uint8Array }> {
    const a = await newAddress(aliceDir, 'alice');
    const b = await newAddress(bobDir, 'bob');
    const blocks = miner.mine(7, a.pkh);
    miner.mine(5, MINER_PKH);
    assert.equal((await alice(['sync', '--once'])).code, 0);
    return { a, b, aliceCoinbase: blocks[0]!.txs[0]!, secret: new KeyStore(join(aliceDir, 'keys')).secret('alice') };
  }
  /** bob's `sync` loop, in-process, caught up with the miner. */
  async function startBobSync(extra: string[] = []): Promise<Capture> {
    const cap = new Capture();
    const ac = new AbortController();
    const done = wallet(bobDir, sets, ['sync', ...extra], { capture: cap, signal: ac.signal });
    running.push({ ac, done });
    await cap.waitLine(new RegExp(`^block ${miner.tip.height} `));
    return cap;
  }
  async function stopBobSync(): Promise<CliResult> {
    const r = running.pop()!;
    r.ac.abort();
    return r.done;
  }
  const broadcast = (payload: Uint8Array) =>
    sendOnce(miner.settings.params, MsgType.Tx, payload, miner.settings.transactionPort, [LOOPBACK_BROADCAST]);
  const incomingLine = (amount: string, from: string, id: string) =>
    new RegExp(`^incoming payment \\+${esc(amount)} to bob from ${from}, pending; txid ${id}$`);

  it('a payment from another wallet: + pending on the receiver as soon as its sync hears it, confirmed once mined', async () => {
    const { a, b } = await setup();
    const sync = await startBobSync();
    const id = await send(b.address, '1');
    await sync.waitLine(incomingLine('1.00000000', a.address, id));

    let bobRows = await rows(await bob(['list-addresses', '--json']));
    assert.deepEqual(bobRows['bob'], {
      name: 'bob',
      address: b.address,
      balance: '0.00000000',
      pending: '+1.00000000',
      immature: '0.00000000',
      height: bobRows['bob']!.height,
    });
    const table = await bob(['list-addresses']);
    assert.match(table.out, /bob\s+│\s+0\.00000000 │\s+\+1\.00000000 │/);
    assert.match(
      table.out,
      /pending: 1 incoming payment\(s\) not yet mined; \+ counts payments between this wallet's own addresses and payments from anyone that this wallet's sync heard on the LAN and validated/,
    );
    // The sender sees its side (−) as before.
    const fee = JSON.parse((await alice(['status', id, '--json'])).out)['fee'] as string;
    assert.equal((await rows(await alice(['list-addresses', '--json'])))['alice']!.pending, `-1.${fee.slice(2)}`);

    const hist = JSON.parse((await bob(['history', '--json'])).out) as Record<string, unknown>[];
    assert.deepEqual(
      hist.map((h) => [h['txid'], h['direction'], h['status'], h['amount'], h['counterparty'], h['height']]),
      [[id, 'in', 'pending', '+1.00000000', a.address, null]],
    );
    assert.match(
      (await bob(['history'])).out,
      new RegExp(`│ in\\s+│\\s+\\+1\\.00000000 │ ${a.address} │ bob\\s+│ pending │ ${id.slice(0, 16)}`),
    );
    const st = JSON.parse((await bob(['status', id, '--json'])).out) as Record<string, unknown>;
    assert.equal(st['status'], 'pending');
    assert.equal(st['incoming'], true);
    assert.equal(st['from'], a.address);
    assert.equal(st['amount'], '1.00000000');
    assert.equal(st['net'], '+1.00000000');
    const stText = await bob(['status', id.slice(0, 12)]);
    assert.match(stText.out, /pending \(incoming\): not yet mined/);
    assert.match(stText.out, new RegExp(`received \\+1\\.00000000 on bob from ${a.address}`));

    const tx = await miner.waitTx(id);
    miner.mine(1, MINER_PKH, { txs: [tx] });
    await sync.waitLine(new RegExp(`^confirmed payment ${id} in block 13 \\(.*\\): incoming \\+1\\.00000000 to bob$`));
    bobRows = await rows(await bob(['list-addresses', '--json']));
    assert.deepEqual(bobRows['bob'], {
      name: 'bob',
      address: b.address,
      balance: '1.00000000',
      pending: '0.00000000',
      immature: '0.00000000',
      height: bobRows['bob']!.height,
    });
    const after = JSON.parse((await bob(['status', id, '--json'])).out) as Record<string, unknown>;
    assert.deepEqual([after['status'], after['height'], after['incoming']], ['confirmed', 13, undefined]);
    const hist2 = JSON.parse((await bob(['history', '--json'])).out) as Record<string, unknown>[];
    assert.deepEqual(
      hist2.map((h) => [h['txid'], h['direction'], h['status'], h['amount']]),
      [[id, 'in', 'confirmed', '+1.00000000']],
    );
    assert.doesNotMatch(sync.out, /^received /m, 'the confirmation line covers it, not a second "received" line');

    const stopped = await stopBobSync();
    assert.equal(stopped.code, 0, stopped.err);
    // A later sync --once of bob's finds nothing left pending.
    const once = await wallet(bobDir, sets, ['sync', '--once', '--json']);
    assert.equal(once.code, 0, once.err);
    assert.equal(JSON.parse(once.out)['incomingPending'], 0);
  });

  it('forged or invalid transactions paying bob are heard and never recorded', async () => {
    const { a, b, aliceCoinbase, secret } = await setup();
    const sync = await startBobSync(['--verbose']);
    const coin = { prevTxid: txid(aliceCoinbase), vout: 0, secretKey: secret };
    const good = signP2pkhTx([coin], [p2pkhOutput(10n * COIN, b.pkh), p2pkhOutput(39n * COIN, a.pkh)]);
    const bobSecret = new KeyStore(join(bobDir, 'keys')).secret('bob');
    const cases: [string, Tx, RegExp][] = [
      [
        'a coin that does not exist',
        signP2pkhTx([{ ...coin, prevTxid: new Uint8Array(randomBytes(32)) }], [p2pkhOutput(5n * COIN, b.pkh)]),
        /bad-txns-inputs-missingorspent/,
      ],
      [
        'a signature that does not cover the outputs (amount raised after signing)',
        { ...good, outputs: [p2pkhOutput(10n * COIN + COIN / 2n, b.pkh), good.outputs[1]!] },
        /mandatory-script-verify-flag-failed: \(Script evaluated without error but finished with a false\/empty top stack element\)/,
      ],
      [
        "alice's coin signed with bob's key",
        signP2pkhTx([{ ...coin, secretKey: bobSecret }], [p2pkhOutput(5n * COIN, b.pkh)]),
        /mandatory-script-verify-flag-failed: \(Script failed an OP_EQUALVERIFY operation\)/,
      ],
      ['more out than in', signP2pkhTx([coin], [p2pkhOutput(60n * COIN, b.pkh)]), /bad-txns-in-belowout/],
      ['no fee at all', signP2pkhTx([coin], [p2pkhOutput(50n * COIN, b.pkh)]), /min relay fee not met/],
    ];
    await broadcast(new Uint8Array(randomBytes(120))); // not a transaction at all
    for (const [what, tx, reason] of cases) {
      await broadcast(encodeTx(tx));
      const line = await sync.waitLine(new RegExp(`^ignored transaction ${hashToHex(txid(tx))} paying bob: `));
      assert.match(line, reason, what);
    }
    // A valid one afterwards is recorded: the listener works, and only what is valid counts.
    const goodId = hashToHex(txid(good));
    await broadcast(encodeTx(good));
    await sync.waitLine(incomingLine('10.00000000', a.address, goodId));
    assert.equal((await rows(await bob(['list-addresses', '--json'])))['bob']!.pending, '+10.00000000');
    for (const [, tx] of cases) {
      const st = await bob(['status', hashToHex(txid(tx))]);
      assert.equal(st.code, 1);
      assert.match(st.err, /unknown transaction/);
    }
    assert.deepEqual(
      (JSON.parse((await bob(['history', '--json'])).out) as { txid: string }[]).map((h) => h.txid),
      [goodId],
    );
    const stopped = await stopBobSync();
    assert.equal(stopped.code, 0, stopped.err);
    assert.match(
      stopped.err,
      /transaction port \d+: 7 transaction\(s\) heard, 1 undecodable, 0 not ours, 0 known, 5 invalid, 0 conflicting, 1 incoming recorded/,
    );
  });

  it('an incoming payment conflicted by a mined double spend disappears from pending', async () => {
    const { a, b, secret } = await setup();
    const sync = await startBobSync(['--verbose']);
    const id = await send(b.address, '1');
    const tx = await miner.waitTx(id);
    await sync.waitLine(incomingLine('1.00000000', a.address, id));
    assert.equal((await rows(await bob(['list-addresses', '--json'])))['bob']!.pending, '+1.00000000');

    // The same coin spent elsewhere, and that is what gets mined.
    const input = tx.inputs[0]!;
    const conflict = signP2pkhTx([{ prevTxid: input.prevTxid, vout: input.vout, secretKey: secret }], [p2pkhOutput(49n * COIN, MINER_PKH)]);
    const cid = hashToHex(txid(conflict));
    // A second payment to bob spending the same coin is not recorded beside the first (first seen
    // wins): the wallet's pool refuses it as a miner's does.
    const rival = signP2pkhTx(
      [{ prevTxid: input.prevTxid, vout: input.vout, secretKey: secret }],
      [p2pkhOutput(2n * COIN, b.pkh), p2pkhOutput(47n * COIN, a.pkh)],
    );
    await broadcast(encodeTx(rival));
    await sync.waitLine(
      new RegExp(`^ignored transaction ${hashToHex(txid(rival))} paying bob: txn-mempool-conflict: input already spent by ${id}$`),
    );
    miner.mine(1, MINER_PKH, { txs: [conflict] });
    await sync.waitLine(
      new RegExp(
        `^dropped incoming payment ${id}: its input ${displayOutpoint(input.prevTxid, input.vout)} was spent by ${cid} in block 13$`,
      ),
    );
    const bobRows = await rows(await bob(['list-addresses', '--json']));
    assert.deepEqual([bobRows['bob']!.balance, bobRows['bob']!.pending], ['0.00000000', '0.00000000']);
    const st = await bob(['status', id]);
    assert.equal(st.code, 1);
    assert.match(st.err, /unknown transaction/);
    assert.deepEqual(JSON.parse((await bob(['history', '--json'])).out), []);
    // If alice's wallet rebroadcasts its (now failed) payment, bob's sync does not take it back.
    await broadcast(encodeTx(tx));
    await sync.waitLine(new RegExp(`^ignored transaction ${id} paying bob: bad-txns-inputs-missingorspent`));
    const stopped = await stopBobSync();
    assert.equal(stopped.code, 0, stopped.err);
    assert.equal((await rows(await wallet(bobDir, sets, ['list-addresses', '--json'])))['bob']!.pending, '0.00000000');
  });

  it('sync --once listens too, while it waits for the chain', async () => {
    const { a, b } = await setup();
    assert.equal((await wallet(bobDir, sets, ['sync', '--once'])).code, 0);
    await miner.stop(); // from now on no miner: bob's --once keeps waiting for one
    const id = await send(b.address, '2.5');
    // Alice's sync rebroadcasts the pending payment, as it does until it is mined.
    const aliceCap = new Capture();
    const aliceAc = new AbortController();
    running.push({ ac: aliceAc, done: wallet(aliceDir, sets, ['sync'], { capture: aliceCap, signal: aliceAc.signal }) });
    const cap = new Capture();
    const ac = new AbortController();
    const once = wallet(bobDir, sets, ['sync', '--once', '--timeout', '30'], { capture: cap, signal: ac.signal });
    running.push({ ac, done: once });
    await cap.waitLine(incomingLine('2.50000000', a.address, id));
    ac.abort();
    const r = await once;
    assert.equal(r.code, 130);
    assert.match(r.out, /incoming: 1 pending \(1 heard now\)$/m);
    assert.equal((await rows(await wallet(bobDir, sets, ['list-addresses', '--json'])))['bob']!.pending, '+2.50000000');
  });

  it('incoming records expire after INCOMING_TTL_MS and drop when an input leaves the UTXO set', () => {
    const d = tempDir('wallet-incoming-db');
    const store = new LmdbChainStore(join(d, 'chain'), 'test');
    const db = new WalletDb(store);
    try {
      const pkh = 'ab'.repeat(20);
      const coinTxid = new Uint8Array(32).fill(1);
      store.commit({
        entries: [],
        blocks: [],
        undo: [],
        coins: [0, 1].map((vout) => ({
          txid: coinTxid,
          vout,
          coin: { value: 5n * COIN, scriptPubKey: p2pkhScript(fromHex(pkh)), height: 1, coinbase: false },
        })),
      });
      const rec = (n: number, seenAt: number, vout: number): IncomingRecord => ({
        txid: String(n).repeat(64),
        raw: '',
        seenAt,
        fromAddress: null,
        toPkhs: [pkh],
        amount: '100',
        fee: '0',
        size: 0,
        inputs: [{ outpoint: outpointKey(coinTxid, vout), value: (5n * COIN).toString(), pkh: null }],
        outputs: [{ pkh, value: '100' }],
      });
      const now = Date.now();
      assert.deepEqual(db.putIncoming(rec(1, now, 0)), { stored: true });
      assert.deepEqual(db.putIncoming(rec(2, now, 0)), {
        stored: false,
        reason: `conflicts with incoming payment ${'1'.repeat(64)} heard first`,
      });
      assert.deepEqual(db.putIncoming(rec(3, now - INCOMING_TTL_MS - 1000, 1)), { stored: true });
      assert.deepEqual(
        db.incomingPending().map((r) => r.txid),
        ['1'.repeat(64)],
        'the old one no longer shows',
      );
      db.events.splice(0);
      db.pruneIncoming();
      assert.deepEqual(
        db.events.splice(0).map((e) => [e.kind, e.kind === 'reorg' ? '' : e.txid, e.kind === 'incoming-dropped' ? e.reason : '']),
        [['incoming-dropped', '3'.repeat(64), 'expired']],
      );
      assert.equal(db.allIncoming().length, 1);
      // Its input disappears (a reorganisation took away the block that made it): dropped at that commit.
      db.attachHook();
      store.commit({
        entries: [],
        blocks: [],
        undo: [],
        coins: [{ txid: coinTxid, vout: 0, coin: null }],
        tip: new Uint8Array(32).fill(9),
      });
      assert.deepEqual(
        db.events.splice(0).map((e) => [e.kind, e.kind === 'reorg' ? '' : e.txid, e.kind === 'incoming-dropped' ? e.reason : '']),
        [['incoming-dropped', '1'.repeat(64), 'missing']],
      );
      assert.deepEqual(db.allIncoming(), []);
    } finally {
      db.close();
      removeDir(d);
    }
  });
});

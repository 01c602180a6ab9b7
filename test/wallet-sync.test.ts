// The wallet against an in-process miner-like peer on a loopback test network: sync, balances,
// payments and their life (pending, confirmed, undone by a reorganisation, failed by a conflict).
import type { AddressRow } from '../src/shared/node/json-rows.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAddress, encodeAddress } from '../src/shared/core/address.js';
import { signP2pkhTx, p2pkhOutput } from '../src/shared/core/builder.js';
import { hashToHex } from '../src/shared/core/bytes.js';
import { KeyStore } from '../src/shared/node/store/keystore.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { hash160 } from '../src/shared/core/hash.js';
import { pemToSecret } from '../src/shared/node/store/keystore.js';
import { txid } from '../src/shared/core/tx.js';
import net from 'node:net';
import {
  FrameReader,
  MsgType,
  decodeGetHeaders,
  encodeFrame,
  encodeHeaders,
  encodeStatus,
  maxPayloadBytes,
} from '../src/shared/node/net/protocol.js';
import { sendOnce } from '../src/shared/node/net/udp.js';
import { freePorts, removeDir, tempDir } from './kit/procs.js';
import { TestMiner, testNetSets, wallet } from './kit/wallet-net.js';
import { displayOutpoint } from '../src/shared/core/outpoint.js';

/** Base units per coin (Core's COIN), written out. */
const COIN = 100_000_000n;

const MINER_PKH = new Uint8Array(20).fill(7);

type Row = AddressRow;

describe('wallet sync and payments (in-process miner peer)', function () {
  this.timeout(60_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let dir: string;
  const dirs: string[] = [];
  const w = (args: string[], env: NodeJS.ProcessEnv = {}, datadir = dir) => wallet(datadir, sets, args, { env });

  beforeEach(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    dir = tempDir('wallet-sync');
    dirs.push(dir);
  });
  afterEach(async () => {
    await miner.stop();
    for (const d of dirs.splice(0)) removeDir(d);
  });

  async function newAddress(name: string, env: NodeJS.ProcessEnv = {}, datadir = dir): Promise<{ address: string; pkh: Uint8Array }> {
    const r = await w(['new-address', name, ...(env['MVB_PASSPHRASE'] ? ['--encrypt'] : []), '--json'], env, datadir);
    assert.equal(r.code, 0, r.err);
    const { address } = JSON.parse(r.out) as { address: string };
    return { address, pkh: decodeAddress(address).hash160 };
  }
  async function syncOnce(
    datadir = dir,
  ): Promise<{ height: number; confirmed: string[]; failed: string[]; unconfirmed: string[]; pending: number; synced: boolean }> {
    const r = await w(['sync', '--once', '--json'], {}, datadir);
    assert.equal(r.code, 0, `sync --once failed: ${r.err}`);
    return JSON.parse(r.out);
  }
  async function list(datadir = dir): Promise<Record<string, Row>> {
    const r = await w(['list-addresses', '--json'], {}, datadir);
    assert.equal(r.code, 0, r.err);
    return Object.fromEntries((JSON.parse(r.out) as Row[]).map((x) => [x.name, x]));
  }
  async function status(id: string, datadir = dir): Promise<Record<string, unknown>> {
    const r = await w(['status', id, '--json'], {}, datadir);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out);
  }
  async function send(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const r = await w(['send', ...args], env);
    assert.equal(r.code, 0, r.err);
    const id = r.out.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    return id;
  }

  it('sync --once exits non-zero with a clear message when no miner is heard', async () => {
    await miner.stop();
    const r = await w(['sync', '--once', '--timeout', '0.5']);
    assert.equal(r.code, 1);
    assert.match(r.err, /error: no miner heard on UDP port \d+ within 0\.5 s/);
  });

  it('sync --once does not claim to be synced when the best announced chain cannot be fetched', async () => {
    await miner.stop();
    const settings = miner.settings;
    const [closed] = await freePorts(1);
    const status = encodeStatus({
      tipHash: new Uint8Array(32).fill(1),
      height: 99,
      chainWork: 1n << 80n,
      blockServerPort: closed!,
      nodeId: new Uint8Array(8).fill(3),
      mempoolSize: 0,
    });
    const announce = () =>
      void sendOnce(settings.params, MsgType.Status, status, settings.statusPort, [settings.broadcastAddress]).catch(() => {});
    const t = setInterval(announce, 50);
    try {
      const r = await w(['sync', '--once', '--timeout', '1']);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /^error: could not catch up \(no progress for 1 s\): at height 0, best heard 99 from 127\.0\.0\.1:\d+; last problem: sync with .* failed: .*ECONNREFUSED/m,
      );
      assert.match(r.out, /not synced: height 0/);
    } finally {
      clearInterval(t);
    }
  });

  it('sync --once does not claim to be synced when its only peer serves the headers of the chain it announces but not the blocks', async () => {
    miner.mine(5, MINER_PKH);
    await miner.stop();
    const settings = miner.settings;
    // A block server that answers GETHEADERS with the miner's real headers (valid proof of work:
    // it is then a peer that has served us) and hangs up at GETBLOCKS.
    const socks: net.Socket[] = [];
    const srv = net.createServer((s) => {
      socks.push(s.on('error', () => {}));
      const reader = new FrameReader(settings.params, maxPayloadBytes(settings.params));
      s.on('data', (chunk: Buffer) => {
        for (const f of reader.push(new Uint8Array(chunk))) {
          if (f.type !== MsgType.GetHeaders) return void s.destroy();
          const { locator, max } = decodeGetHeaders(f.payload);
          s.write(encodeFrame(settings.params, MsgType.Headers, encodeHeaders(miner.chain.headersAfter(locator, max))));
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const status = encodeStatus({
      tipHash: miner.tip.hash,
      height: miner.tip.height,
      chainWork: miner.tip.chainWork,
      blockServerPort: (srv.address() as net.AddressInfo).port,
      nodeId: new Uint8Array(8).fill(4),
      mempoolSize: 0,
    });
    const announce = () =>
      void sendOnce(settings.params, MsgType.Status, status, settings.statusPort, [settings.broadcastAddress]).catch(() => {});
    const t = setInterval(announce, 50);
    try {
      const r = await w(['sync', '--once', '--timeout', '1']);
      assert.equal(r.code, 1, r.out);
      assert.match(
        r.err,
        /^error: could not catch up \(no progress for 1 s\): at height 0, best heard 5 from 127\.0\.0\.1:\d+; last problem: /m,
      );
      assert.match(r.out, /not synced: height 0/);
    } finally {
      clearInterval(t);
      socks.forEach((s) => s.destroy());
      srv.close();
    }
  });

  it('works on the shipped devnet rules too (real genesis and proof of work)', async () => {
    await miner.stop();
    const real = { ...sets };
    delete real['powLimitBits'];
    delete real['genesis'];
    sets = real;
    miner = await TestMiner.start(sets);
    const alice = await newAddress('alice');
    miner.mine(2, alice.pkh);
    assert.equal((await syncOnce()).height, 2);
    assert.equal((await list())['alice']!.balance, '100.00000000');
    const r = await w(['send', 'alice', '1', 'alice']);
    assert.equal(
      r.err,
      'error: funds not yet mature: 50.00000000 coins mature in 3 blocks (mined rewards need 5 confirmations); alice can spend 0.00000000 now',
    );
  });

  it('sync --once catches up; list-addresses shows mined rewards, immature ones included and flagged', async () => {
    const alice = await newAddress('alice');
    await newAddress('bob');
    miner.mine(7, alice.pkh);
    const s = await syncOnce();
    assert.equal(s.height, 7);
    assert.equal(s.synced, true);
    const rows = await list();
    assert.deepEqual(rows['alice'], {
      name: 'alice',
      address: alice.address,
      balance: '350.00000000',
      pending: '0.00000000',
      immature: '200.00000000',
      height: 7,
    });
    assert.equal(rows['bob']!.balance, '0.00000000');
    const text = await w(['list-addresses']);
    assert.match(text.out, /alice\s+│\s+350\.00000000 │\s+0\.00000000 │ D/);
    assert.match(text.out, /total\s+│\s+350\.00000000/);
    assert.match(text.out, /of which 200\.00000000 are mined rewards not yet mature \(all mature within 4 blocks\)/);
    assert.match(text.out, /chain: height 7 of 7 heard from 1 miner .*synced/);
    const hist = JSON.parse((await w(['history', 'alice', '--json'])).out) as {
      direction: string;
      counterparty: string;
      amount: string;
      height: number;
    }[];
    assert.equal(hist.length, 7);
    assert.deepEqual(
      hist.map((h) => h.height),
      [7, 6, 5, 4, 3, 2, 1],
      'newest first',
    );
    assert.ok(hist.every((h) => h.direction === 'in' && h.counterparty === 'coinbase' && h.amount === '+50.00000000'));
    // Caught up already: a second run is quick and changes nothing.
    assert.equal((await syncOnce()).height, 7);
  });

  it('send refuses bad input with one clear line and stores nothing', async () => {
    const alice = await newAddress('alice');
    const bob = await newAddress('bob');
    miner.mine(7, alice.pkh); // 3 mature coins (150), 4 immature (200)
    await syncOnce();
    const bad = bob.address.slice(0, -1) + (bob.address.endsWith('a') ? 'b' : 'a');
    const cases: [string[], RegExp][] = [
      [
        ['alice', '1000', 'bob'],
        /^error: insufficient funds: alice has 150\.00000000 spendable, 200\.00000000 not yet mature; this payment needs 1000\.00000000 plus the fee$/,
      ],
      [['alice', '200', 'bob'], /^error: funds not yet mature: 100\.00000000 coins mature in 2 blocks/],
      [['carol', '1', 'bob'], /^error: no local address named "carol"/],
      [['alice', '1', 'dave'], /^error: "dave" is neither a local address name nor an address$/],
      [['alice', '1', bad], /^error: invalid address ".*": checksum mismatch/],
      [
        ['alice', '1', encodeAddress(bob.pkh, 0)],
        /^error: address ".*" belongs to another network: version byte 0, network devnet uses 30$/,
      ],
      [['alice', '1', encodeAddress(bob.pkh, 50)], /belongs to another network: version byte 50/],
      [['alice', '1', '0OIl'.repeat(9)], /^error: invalid address "0OIl.*": not Base58/],
      [['alice', '1.123456789', 'bob'], /^error: invalid amount "1\.123456789": at most 8 decimals/],
      [['alice', '-1', 'bob'], /^error: invalid amount "-1": must not be negative$/],
      [['alice', 'abc', 'bob'], /^error: invalid amount "abc"/],
      [['alice', '1e3', 'bob'], /^error: invalid amount "1e3"/],
      [['alice', '0', 'bob'], /^error: invalid amount "0": must be more than 0$/],
      [
        ['alice', '1', 'bob', '--fee', '0.00000001'],
        /^error: fee 0\.00000001 is below the minimum relay fee: 0\.00000\d{3} for \d+ bytes at 1 base units per byte$/,
      ],
      [['alice', '1', 'bob', '--fee', '-2'], /invalid fee/],
    ];
    for (const [args, re] of cases) {
      const r = await w(['send', ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.out, '', args.join(' '));
      assert.equal(r.err.split('\n').length, 1, `one line: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
    }
    const rows = await list();
    assert.equal(rows['alice']!.pending, '0.00000000');
    assert.equal(rows['bob']!.pending, '0.00000000');
    assert.equal(miner.txs.length, 0, 'nothing broadcast');
    const hist = JSON.parse((await w(['history', '--json'])).out) as { status: string }[];
    assert.ok(
      hist.every((h) => h.status === 'confirmed'),
      'no payment stored',
    );
  });

  it('never overspends: a second send that would need coins held by a pending one is refused', async () => {
    const alice = await newAddress('alice');
    await newAddress('bob');
    miner.mine(7, alice.pkh);
    miner.mine(5, MINER_PKH); // all 7 of alice's coins mature: 350
    await syncOnce();
    const first = await send(['alice', '200', 'bob']); // 5 coins held, change comes back only when mined
    const second = await w(['send', 'alice', '200', 'bob']);
    assert.equal(second.code, 1);
    assert.equal(
      second.err,
      'error: insufficient funds: alice has 100.00000000 spendable, 250.00000000 more held by pending payments; this payment needs 200.00000000 plus the fee',
    );
    // Two at once (serialised by the store's write transactions): exactly one gets through.
    const both = await Promise.all([w(['send', 'alice', '60', 'bob']), w(['send', 'alice', '60', 'bob'])]);
    assert.deepEqual(both.map((r) => r.code).sort(), [0, 1]);
    assert.match(both.find((r) => r.code === 1)!.err, /insufficient funds: alice has 0\.00000000 spendable, 350\.00000000 more held/);
    const fees = await Promise.all(
      [first, both.find((r) => r.code === 0)!.out.trim()].map(async (id) => BigInt(String((await status(id))['fee']).replace('.', ''))),
    );
    const out = 260n * COIN + fees[0]! + fees[1]!;
    const rows = await list();
    assert.equal(rows['alice']!.pending, `-${out / COIN}.${(out % COIN).toString().padStart(8, '0')}`);
    assert.equal(rows['bob']!.pending, '+260.00000000');
    assert.equal(rows['alice']!.balance, '350.00000000');
  });

  it('a payment: pending (- and +), broadcast, confirmed in a block, seen by both wallets; history and status', async () => {
    const alice = await newAddress('alice', { MVB_PASSPHRASE: 'pw' });
    const bob = await newAddress('bob');
    const other = tempDir('wallet-other');
    dirs.push(other);
    const carol = await newAddress('carol', {}, other);
    miner.mine(7, alice.pkh);
    await syncOnce();
    await syncOnce(other);

    const id = await send(['alice', '10', bob.address], { MVB_PASSPHRASE: 'pw' });
    const tx = await miner.waitTx(id);
    assert.equal(hashToHex(txid(tx)), id);
    const st = await status(id);
    assert.equal(st['status'], 'pending');
    assert.equal(st['amount'], '10.00000000');
    const fee = st['fee'] as string;
    assert.match(fee, /^0\.00000\d{3}$/);
    let rows = await list();
    assert.equal(rows['alice']!.pending, `-10.${fee.slice(2)}`);
    assert.equal(rows['bob']!.pending, '+10.00000000');
    assert.equal(rows['alice']!.balance, '350.00000000');

    // A payment to another wallet: only the sender sees it before it is mined (the other wallet's
    // sync is not running, so nothing hears it there; see wallet-incoming.test.ts).
    const id2 = await send(['alice', '5', carol.address], { MVB_PASSPHRASE: 'pw' });
    const tx2 = await miner.waitTx(id2);
    assert.equal((await list(other))['carol']!.pending, '0.00000000');

    miner.mine(1, MINER_PKH, { txs: [tx, tx2] });
    const s = await syncOnce();
    assert.deepEqual([...s.confirmed].sort(), [id, id2].sort());
    assert.equal(s.pending, 0);
    const after = await status(id);
    assert.equal(after['status'], 'confirmed');
    assert.equal(after['height'], 8);
    assert.equal(after['confirmations'], 1);
    assert.equal(after['blockHash'], miner.chain.atHeight(8)!.hashHex.match(/../g)!.reverse().join(''));
    rows = await list();
    assert.equal(rows['bob']!.balance, '10.00000000');
    assert.equal(rows['bob']!.pending, '0.00000000');
    assert.equal(rows['alice']!.pending, '0.00000000');
    const fee2 = (await status(id2))['fee'] as string;
    const spent = 15n * COIN + BigInt(fee.replace('.', '')) + BigInt(fee2.replace('.', ''));
    const aliceLeft = 350n * COIN - spent;
    assert.equal(rows['alice']!.balance, `${aliceLeft / COIN}.${(aliceLeft % COIN).toString().padStart(8, '0')}`);
    // The other wallet sees its coins once mined.
    await syncOnce(other);
    assert.equal((await list(other))['carol']!.balance, '5.00000000');
    const theirs = JSON.parse((await w(['history', '--json'], {}, other)).out) as Record<string, unknown>[];
    assert.equal(theirs.length, 1);
    assert.equal(theirs[0]!['direction'], 'in');
    assert.equal(theirs[0]!['amount'], '+5.00000000');
    assert.equal(theirs[0]!['counterparty'], alice.address);

    miner.mine(2, MINER_PKH);
    await syncOnce();
    assert.equal((await status(id))['confirmations'], 3);
    const prefix = await w(['status', id.slice(0, 10)]);
    assert.match(prefix.out, /confirmed in block [0-9a-f]{64} at height 8, 3 confirmations/);

    const hAlice = JSON.parse((await w(['history', 'alice', '--json'])).out) as Record<string, unknown>[];
    const out1 = hAlice.find((h) => h['txid'] === id)!;
    assert.deepEqual(
      {
        direction: out1['direction'],
        amount: out1['amount'],
        fee: out1['fee'],
        counterparty: out1['counterparty'],
        status: out1['status'],
        height: out1['height'],
      },
      { direction: 'out', amount: `-10.${fee.slice(2)}`, fee, counterparty: bob.address, status: 'confirmed', height: 8 },
    );
    const hBob = JSON.parse((await w(['history', 'bob', '--json'])).out) as Record<string, unknown>[];
    assert.deepEqual(
      hBob.map((h) => [h['txid'], h['direction'], h['amount'], h['counterparty']]),
      [[id, 'in', '+10.00000000', alice.address]],
    );
    const hAll = JSON.parse((await w(['history', '--json'])).out) as Record<string, unknown>[];
    assert.equal(hAll.find((h) => h['txid'] === id)!['direction'], 'self');
    assert.equal(hAll.find((h) => h['txid'] === id2)!['direction'], 'out');
    const table = await w(['history']);
    assert.match(table.out, /Counterparty/);
    assert.equal((await w(['history', 'nobody'])).code, 1);
    assert.match((await w(['status', 'ffffffffffff'])).err, /unknown transaction/);
    assert.match((await w(['status', 'xyz'])).err, /invalid txid/);
  });

  it('a reorganisation that drops the payment makes it pending again; it confirms again later', async () => {
    const alice = await newAddress('alice');
    const bob = await newAddress('bob');
    miner.mine(7, alice.pkh);
    await syncOnce();
    const id = await send(['alice', '10', 'bob']);
    const tx = await miner.waitTx(id);
    const fork = miner.tip; // height 7
    miner.mine(1, MINER_PKH, { txs: [tx] });
    assert.deepEqual((await syncOnce()).confirmed, [id]);
    assert.equal((await list())['bob']!.balance, '10.00000000');

    // A heavier branch from height 7 without the payment.
    miner.mine(2, MINER_PKH, { parent: fork });
    assert.equal(miner.tip.height, 9);
    const s = await syncOnce();
    assert.equal(s.height, 9);
    assert.deepEqual(s.unconfirmed, [id]);
    assert.equal(s.pending, 1);
    assert.equal((await status(id))['status'], 'pending');
    const rows = await list();
    assert.equal(rows['bob']!.balance, '0.00000000');
    assert.equal(rows['bob']!.pending, '+10.00000000');
    assert.equal(rows['alice']!.balance, '350.00000000');
    assert.equal(JSON.parse((await w(['history', 'bob', '--json'])).out)[0].status, 'pending');
    // It was rebroadcast, and it is mined again on the new branch.
    miner.mine(1, MINER_PKH, { txs: [tx] });
    assert.deepEqual((await syncOnce()).confirmed, [id]);
    const st = await status(id);
    assert.equal(st['status'], 'confirmed');
    assert.equal(st['height'], 10);
    assert.equal((await list())['bob']!.balance, '10.00000000');
    assert.equal(bob.address, (await list())['bob']!.address);
  });

  it('a reorganisation that takes a block paying us says so: list-addresses and history name the block and the balance change', async () => {
    const alice = await newAddress('alice');
    miner.mine(3, alice.pkh);
    const fork = miner.tip; // height 3
    miner.mine(1, alice.pkh);
    await syncOnce();
    assert.equal((await list())['alice']!.balance, '200.00000000');
    const gone = hashToHex(miner.tip.hash);
    miner.mine(2, MINER_PKH, { parent: fork });
    await syncOnce();
    assert.equal((await list())['alice']!.balance, '150.00000000');
    const say = new RegExp(
      `reorganisation: block 4 \\(${gone.slice(0, 12)}…\\) left the best chain; your balance -50\\.00000000; a mined reward of 50\\.00000000 is gone`,
    );
    assert.match((await w(['list-addresses'])).out, say);
    const h = (await w(['history'])).out;
    assert.match(h, /reorganisations that changed this wallet \(the last 1 of 1\):/);
    assert.match(h, say);
  });

  it('a payment whose input another mined transaction spent is marked failed, and its coins freed', async () => {
    const alice = await newAddress('alice');
    await newAddress('bob');
    miner.mine(8, alice.pkh); // 4 mature coins
    await syncOnce();
    const id = await send(['alice', '10', 'bob']);
    const tx = await miner.waitTx(id);
    // The same coin spent elsewhere (the same key used by another wallet, say).
    const secret = new KeyStore(join(dir, 'keys')).secret('alice');
    const input = tx.inputs[0]!;
    const conflict = signP2pkhTx([{ prevTxid: input.prevTxid, vout: input.vout, secretKey: secret }], [p2pkhOutput(49n * COIN, MINER_PKH)]);
    const cid = hashToHex(txid(conflict));
    const fork = miner.tip;
    miner.mine(1, MINER_PKH, { txs: [conflict] });
    const r = await w(['sync', '--once']);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      new RegExp(`failed: payment ${id}: its input ${displayOutpoint(input.prevTxid, input.vout)} was spent by ${cid} in block 9`),
    );
    assert.match(r.out, /1 failed now/);
    const st = await status(id);
    assert.equal(st['status'], 'failed');
    assert.equal(st['conflictingTxid'], cid);
    assert.match(String(st['reason']), /was spent by/);
    const rows = await list();
    assert.equal(rows['alice']!.pending, '0.00000000');
    assert.equal(rows['bob']!.pending, '0.00000000');
    assert.equal(rows['alice']!.balance, '350.00000000', 'one of the 8 coins is gone');
    const hist = JSON.parse((await w(['history', 'alice', '--json'])).out) as Record<string, unknown>[];
    assert.equal(hist.find((h) => h['txid'] === id)!['status'], 'failed');
    assert.equal(hist.find((h) => h['txid'] === cid)!['direction'], 'out', 'the conflicting spend shows as it was mined');

    // The block with the conflicting spend is reorganised away: the payment is valid again.
    miner.mine(2, MINER_PKH, { parent: fork });
    const text = await w(['sync', '--once']);
    assert.equal(text.code, 0, text.err);
    assert.equal((await status(id))['status'], 'pending');
    assert.equal((await list())['alice']!.balance, '400.00000000');
    miner.mine(1, MINER_PKH, { txs: [tx] });
    assert.deepEqual((await syncOnce()).confirmed, [id]);
    // A failed payment holds nothing: here the others' coins stayed spendable throughout.
    await send(['alice', '140', 'bob']);
  });

  it('a key added after its coins were mined finds them (rescan on import)', async () => {
    await newAddress('alice');
    const kp = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pkh = hash160(publicKeyOf(pemToSecret(kp)));
    miner.mine(3, pkh);
    await syncOnce();
    assert.equal((await list())['alice']!.balance, '0.00000000');
    const file = join(dir, 'old.pem');
    writeFileSync(file, kp);
    const r = await w(['import-key', 'old', file]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /found 3 unspent output\(s\) worth 150\.00000000/);
    assert.equal((await list())['old']!.balance, '150.00000000');
    assert.equal(JSON.parse((await w(['history', 'old', '--json'])).out).length, 3);
    // And the index keeps following it.
    miner.mine(1, pkh);
    await syncOnce();
    assert.equal((await list())['old']!.balance, '200.00000000');
  });
});

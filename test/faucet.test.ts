// The classroom faucet in a real explorer (in-process, fed by a test miner on loopback): it pays only
// from confirmed, mature coins; a flood from one requester gets one grant and then refusals while
// other requesters are paid at once; every hostile request (a bad address, another network's, no or
// a wrong or a reused stamp, an old challenge) is refused with one line and its status; an empty
// faucet says so politely (503). Hashcash stamps are checked against the core function that makes them.
import assert from 'node:assert/strict';
import { decodeAddress, encodeAddress } from '../src/shared/core/address.js';
import { hash160 } from '../src/shared/core/hash.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { makeStamp, stampValid } from '../src/shared/core/hashcash.js';
import { txid } from '../src/shared/core/tx.js';
import { hashToHex } from '../src/shared/core/bytes.js';
import { Faucet } from '../src/explorer/faucet.js';
import { HttpError } from '../src/explorer/params.js';
import { type PageNet, startPageNet } from './kit/explorer-page.js';
import { waitHeight } from './kit/explorer.js';
import { removeDir, tempDir } from './kit/procs.js';

const STAMP_BITS = 8;
const addressOf = (seed: number, version: number) => encodeAddress(hash160(publicKeyOf(new Uint8Array(32).fill(seed))), version);

/** The HTTP status a refused grant throws. */
async function refusal(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, message: e.message };
    throw e;
  }
  assert.fail('the grant was not refused');
}

describe('the classroom faucet', function () {
  this.timeout(120_000);
  let net: PageNet;
  let keysDir: string;
  let faucet: Faucet;
  let version: number;

  before(async () => {
    net = await startPageNet();
    keysDir = tempDir('faucet-keys');
    faucet = new Faucet(net.run.ex, { keysDir, amount: 10_0000_0000n, maxPerHour: 1000, stampBits: STAMP_BITS, feeRate: 2 });
    version = net.run.ex.settings.params.addressVersion;
  });
  after(async () => {
    await net?.stop();
    if (keysDir) removeDir(keysDir);
  });

  const stamped = (to: string) => {
    const challenge = faucet.info().challenge;
    return { challenge, nonce: makeStamp(challenge, to, STAMP_BITS)! };
  };

  it('an empty faucet (no mature coin yet) refuses politely with 503', async () => {
    const to = addressOf(1, version);
    const r = await refusal(faucet.grant(to, '127.0.0.50', stamped(to)));
    assert.equal(r.status, 503);
    assert.match(r.message, /no free coin .* try again in a minute/);
  });

  it('a flood from one requester gets one grant; the others are paid at once; hostile requests get one line each', async () => {
    // Fund it: 12 coinbases to the faucet's key, then maturity.
    const faucetPkh = decodeAddress(faucet.address).hash160;
    net.miner.mine(12, faucetPkh);
    net.miner.mine(6, hash160(publicKeyOf(new Uint8Array(32).fill(77))));
    await waitHeight(net.run.ex, 18);
    assert.notEqual(faucet.info().spendable, '0.00000000');

    const flood: { status: number }[] = [];
    let granted = 0;
    for (let i = 0; i < 200; i++) {
      const to = addressOf(100 + (i % 50), version);
      try {
        await faucet.grant(to, '127.0.0.66', stamped(to));
        granted++;
      } catch (e) {
        assert.ok(e instanceof HttpError, String(e));
        flood.push({ status: e.status });
      }
    }
    console.log(
      `    flood from one requester: ${granted} granted, ${flood.length} refused (statuses ${[...new Set(flood.map((f) => f.status))].join(', ')})`,
    );
    assert.equal(granted, 1);
    assert.equal(flood.length, 199);
    assert.ok(flood.every((f) => f.status === 429));

    const paid: string[] = [];
    for (let k = 0; k < 5; k++) {
      const to = addressOf(10 + k, version);
      const g = await faucet.grant(to, `127.0.1.${k + 1}`, stamped(to));
      paid.push(g.txid);
      assert.equal(g.amount, '10.00000000');
    }
    assert.equal(paid.length, 5);
    for (const id of paid)
      assert.ok(
        net.run.ex.mempool.all().some((e) => hashToHex(txid(e.tx)) === id),
        `${id} in the pool`,
      );

    const to = addressOf(30, version);
    const other = encodeAddress(hash160(publicKeyOf(new Uint8Array(32).fill(31))), 0);
    const good = stamped(to);
    const to32 = addressOf(32, version);
    let wrong = 0;
    while (stampValid(good.challenge, to32, String(wrong), STAMP_BITS)) wrong++;
    const hostile: [string, () => Promise<unknown>, number, RegExp][] = [
      ['not an address', () => faucet.grant('hello', '127.0.2.1', good), 400, /invalid address/],
      ["another network's address", () => faucet.grant(other, '127.0.2.2', stamped(other)), 400, /another network/],
      ['no stamp', () => faucet.grant(to, '127.0.2.3', { challenge: good.challenge, nonce: '' }), 400, /leading zero bits/],
      [
        'a wrong stamp',
        () => faucet.grant(to32, '127.0.2.4', { challenge: good.challenge, nonce: String(wrong) }),
        400,
        /leading zero bits/,
      ],
      [
        'an unknown challenge',
        () => faucet.grant(to, '127.0.2.5', { challenge: 'ab'.repeat(16), nonce: good.nonce }),
        400,
        /old challenge/,
      ],
    ];
    for (const [why, call, status, msg] of hostile) {
      const r = await refusal(call());
      assert.equal(r.status, status, why);
      assert.match(r.message, msg, why);
      assert.doesNotMatch(r.message, /\n/, why);
    }
    assert.equal(hostile.length, 5);
    await faucet.grant(to, '127.0.2.6', good);
    const reused = await refusal(faucet.grant(to, '127.0.2.7', good));
    assert.equal(reused.status, 429, 'the address was just paid');
  });

  it('chains grants on its own change: one mature coinbase serves a class that joins at once, up to its value, then 503', async () => {
    const dir = tempDir('faucet-chain-keys');
    try {
      const chained = new Faucet(net.run.ex, { keysDir: dir, amount: 10_0000_0000n, maxPerHour: 1000, stampBits: STAMP_BITS, feeRate: 2 });
      const stamp = (to: string) => {
        const challenge = chained.info().challenge;
        return { challenge, nonce: makeStamp(challenge, to, STAMP_BITS)! };
      };
      const h = net.run.ex.chain.height;
      net.miner.mine(1, decodeAddress(chained.address).hash160);
      net.miner.mine(5, hash160(publicKeyOf(new Uint8Array(32).fill(78))));
      await waitHeight(net.run.ex, h + 6);
      // 50 coins pay four grants of 10 and their fees, each from the change of the one before.
      assert.equal(chained.info().grantsReady, 4);
      const ids: string[] = [];
      for (let k = 0; k < 4; k++) {
        const to = addressOf(60 + k, version);
        ids.push((await chained.grant(to, `127.0.3.${k + 1}`, stamp(to))).txid);
        assert.equal(chained.info().grantsReady, 3 - k, `after grant ${k + 1}`);
      }
      const pool = net.run.ex.mempool.all();
      for (let k = 1; k < 4; k++) {
        const e = pool.find((x) => hashToHex(txid(x.tx)) === ids[k]);
        assert.ok(e, `grant ${k + 1} in the pool`);
        assert.equal(hashToHex(e.tx.inputs[0]!.prevTxid), ids[k - 1], `grant ${k + 1} spends grant ${k}'s change`);
        assert.equal(e.tx.inputs[0]!.vout, 1);
      }
      const to = addressOf(70, version);
      const r = await refusal(chained.grant(to, '127.0.3.9', stamp(to)));
      assert.equal(r.status, 503);
    } finally {
      removeDir(dir);
    }
  });

  it('stamps: makeStamp finds one that stampValid accepts, and a changed byte fails', () => {
    let checked = 0;
    for (const bits of [0, 1, 4, 8, 12]) {
      const n = makeStamp('c0ffee', 'Dsomeaddress', bits)!;
      assert.ok(stampValid('c0ffee', 'Dsomeaddress', n, bits), `bits ${bits}`);
      if (bits >= 8) assert.equal(stampValid('c0ffef', 'Dsomeaddress', n, bits), false, `bits ${bits}, another challenge`);
      checked++;
    }
    assert.equal(checked, 5);
    assert.equal(stampValid('c', 'r', '12a', 0), false, 'a nonce of digits only');
  });
});

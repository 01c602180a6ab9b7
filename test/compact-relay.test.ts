// BIP152 compact blocks between real miner processes on loopback (devnet, broadcast
// 127.255.255.255): a block found by one miner is rebuilt by the others from the compact block
// on the status port and their mempools, a payment one of them refused is fetched with
// getblocktxn from the announcer, and forged or garbage compact datagrams are dropped and counted
// while the nodes go on. What happened is read from each miner's `--events` log ('compact' and
// 'compact-dropped' lines, see net/compact-relay.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAddress } from '../src/shared/core/address.js';
import { Writer, hashToHex } from '../src/shared/core/bytes.js';
import { p2pkhOutput, signP2pkhTx } from '../src/shared/core/builder.js';
import { encodeCompactBlock } from '../src/shared/core/compact-block.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { hash160 } from '../src/shared/core/hash.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { encodeCompactAnnouncement } from '../src/shared/node/net/compact-relay.js';
import { MsgType } from '../src/shared/node/net/protocol.js';
import { sendOnce } from '../src/shared/node/net/udp.js';
import { fetchChain } from './kit/chain-fetch.js';
import { LoopbackNet } from './kit/loopback-net.js';
import { type MinerProc, waitFor } from './kit/procs.js';

const secret = new Uint8Array(32).fill(7);
const pkh = hash160(publicKeyOf(secret));

interface CompactEvent {
  ev: string;
  hash?: string;
  outcome?: string;
  fetched?: number;
  fromMempool?: number;
  reason?: string;
}

function events(file: string): CompactEvent[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CompactEvent);
}

const compactOf = (file: string, hash: string) => events(file).find((e) => e.ev === 'compact' && e.hash === hash);

/** A payment of a coinbase's reward, less 1 000 base units of fee (about 5 per byte). */
function spendCoinbase(cb: Tx): Tx {
  return signP2pkhTx([{ prevTxid: txid(cb), vout: 0, secretKey: secret }], [p2pkhOutput(cb.outputs[0]!.value - 1000n, pkh)]);
}

/**
 * Compact-block datagrams a forger sends: too short for the envelope, an undecodable cmpctblock,
 * and a well-formed one on our tip whose header claims far more work than it did (nBits of a
 * hard target its hash does not meet: its proof of work fails).
 */
function forgedDatagrams(tipHash: Uint8Array, tx: Tx, blockServerPort: number): Uint8Array[] {
  const header = {
    version: 1,
    prevHash: tipHash,
    merkleRoot: new Uint8Array(32).fill(1),
    time: Math.floor(Date.now() / 1000),
    bits: 0x1b00ffff,
    nonce: 1,
  };
  const forged = encodeCompactBlock({ header, nonce: 5n, shortIds: [1, 2, 3], prefilled: [{ index: 0, tx }] });
  const node = new Writer().u32(0xdeadbeef).u32(1).finish();
  return [
    new Uint8Array([1, 2, 3, 4, 5]),
    encodeCompactAnnouncement(node, 1, new Uint8Array(200).fill(0xff)),
    encodeCompactAnnouncement(node, blockServerPort, forged),
  ];
}

describe('compact block relay (real processes, loopback)', function () {
  this.timeout(120_000);
  let loop: LoopbackNet;

  beforeEach(async () => {
    loop = await LoopbackNet.open();
  });
  afterEach(async () => {
    await loop.close();
  });

  async function miner(name: string, args: string[], sets: Record<string, unknown> = {}): Promise<{ m: MinerProc; log: string }> {
    const dir = loop.tempDir(`compact-${name}`);
    const log = join(dir, 'events.jsonl');
    const address = encodeAddress(pkh, loop.settings.params.addressVersion);
    const m = await loop.miner({ address, args: ['--events', log, ...args], sets, datadir: join(dir, 'd') });
    return { m, log };
  }

  it('rebuilds a found block from the mempool; fetches a refused payment with getblocktxn; drops forged datagrams', async () => {
    const { settings, ports, watcher } = loop;
    const a = await miner('a', []);
    const b = await miner('b', ['--no-mine']);
    // c refuses the payment below (its fee rate is under c's relay floor): it must fetch it.
    const c = await miner('c', ['--no-mine'], { minRelayFeeRate: 1000 });
    const ids = [a, b, c].map((x) => x.m.info.nodeId);
    const s = await watcher.converged(ids, settings.params.coinbaseMaturity + 2, 60_000);

    // Blocks so far reached b and c as compact blocks, each rebuilt from the coinbase alone.
    const tipHex = hashToHex(s.tipHash);
    await waitFor(
      () => compactOf(b.log, tipHex) && compactOf(c.log, tipHex),
      20_000,
      () => `no compact event for tip ${tipHex}:\n${readFileSync(b.log, 'utf8').slice(-2000)}`,
    );
    for (const x of [b, c]) assert.equal(compactOf(x.log, tipHex)!.outcome, 'rebuilt');

    // A payment broadcast to all: a and b take it, c refuses it; a mines it.
    const { blocks } = await fetchChain(settings.params, '127.0.0.1', a.m.blockServerPort);
    const pay = spendCoinbase(blocks[0]!.txs[0]!);
    const payId = hashToHex(txid(pay));
    await sendOnce(settings.params, MsgType.Tx, encodeTx(pay), ports.transactionPort, ['127.255.255.255']);
    const mined = await waitFor(
      () => events(b.log).find((e) => e.ev === 'connected' && (e as unknown as { txids: string[] }).txids.includes(payId)),
      60_000,
      () => `payment not mined:\n${a.m.output().slice(-2000)}`,
    );
    const hash = mined!.hash!;
    await waitFor(
      () => compactOf(c.log, hash),
      20_000,
      () => `c has no compact event for ${hash}:\n${c.m.output().slice(-2000)}`,
    );
    const atB = compactOf(b.log, hash)!;
    const atC = compactOf(c.log, hash)!;
    assert.equal(atB.outcome, 'rebuilt', 'b held the payment: nothing fetched');
    assert.equal(atB.fetched, 0);
    assert.ok(atB.fromMempool! >= 1);
    assert.equal(atC.outcome, 'completed', 'c lacked the payment: getblocktxn');
    assert.equal(atC.fetched, 1);
    for (const x of [b, c]) assert.match(x.m.output(), /compact blocks: \d+ rebuilt/);

    // Forged datagrams: garbage, and a compact block whose header claims more work than it did.
    const tip = watcher.of(a.m.info.nodeId)!;
    const datagrams = forgedDatagrams(tip.tipHash, pay, a.m.blockServerPort);
    for (const d of datagrams) await sendOnce(settings.params, MsgType.CompactBlock, d, ports.statusPort, ['127.255.255.255']);
    await waitFor(
      () => events(b.log).filter((e) => e.ev === 'compact-dropped').length >= 3,
      20_000,
      () => `b did not count the forged datagrams: ${JSON.stringify(events(b.log).filter((e) => e.ev === 'compact-dropped'))}`,
    );
    const reasons = events(b.log)
      .filter((e) => e.ev === 'compact-dropped')
      .map((e) => e.reason!);
    assert.ok(
      reasons.some((r) => r.startsWith('header: ')),
      `a header failing its proof of work: ${reasons}`,
    );
    assert.equal(reasons.filter((r) => r.startsWith('undecodable')).length, 2, `${reasons}`);
    // They go on: a later block still arrives compactly, and nobody exited.
    const after = await watcher.converged(ids, tip.height + 2, 60_000);
    const afterHex = hashToHex(after.tipHash);
    await waitFor(
      () => compactOf(b.log, afterHex),
      20_000,
      () => 'no compact block after the forged ones',
    );
    for (const x of [a, b, c]) assert.equal(x.m.child.exitCode, null);
  });
});

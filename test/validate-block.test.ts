// The node's verdict on an edited block (the tamper lesson's POST /api/mvb/validate-block), as data:
// each named edit of a real block of the explorer's chain, and the Core reason it must get. Nothing
// posted is stored: the chain is the same after every verdict.
import assert from 'node:assert/strict';
import { type Block, encodeBlock } from '../src/shared/core/block.js';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import type { Tx } from '../src/shared/core/tx.js';
import { failPow, withTxs } from './kit/blockgen.js';
import { get } from './kit/explorer.js';
import { type PageNet, minePayment, startPageNet } from './kit/explorer-page.js';

/** A transaction with output `vout`'s value changed. */
const withValue = (tx: Tx, vout: number, value: bigint): Tx => ({
  ...tx,
  outputs: tx.outputs.map((o, i) => (i === vout ? { ...o, value } : o)),
});

describe('POST /api/mvb/validate-block: the node judges an edited block with Core reason codes, storing nothing', function () {
  this.timeout(60_000);
  let net: PageNet;
  let block: Block;
  before(async () => {
    net = await startPageNet();
    await minePayment(net, 6); // height 7 holds a payment
    block = net.run.ex.store.getBlock(net.run.ex.chain.atHeight(7)!.hash)!;
  });
  after(async () => net?.stop());

  const verdict = async (b: Block) => {
    const r = await get(net.run.url, '/api/mvb/validate-block', { method: 'POST', body: toHex(encodeBlock(b)) });
    assert.equal(r.status, 200, r.text);
    return JSON.parse(r.text) as { valid: boolean; reason?: string; hash: string };
  };

  it('every named edit gets its reason; the unedited block is valid', async () => {
    const [coinbase, pay] = block.txs as [Tx, Tx];
    const cases: [string, Block, string | null][] = [
      ['unedited', block, null],
      [
        'an output value changed, nothing else',
        { header: block.header, txs: [coinbase, withValue(pay, 0, pay.outputs[0]!.value + 1n)] },
        'bad-txnmrklroot',
      ],
      [
        'the Merkle root fixed, not mined again',
        failPow(withTxs(block, [coinbase, withValue(pay, 0, pay.outputs[0]!.value - 1n)])),
        'high-hash',
      ],
      [
        'mined again: the signature no longer covers the outputs',
        withTxs(block, [coinbase, withValue(pay, 0, pay.outputs[0]!.value - 1n)]),
        'mandatory-script-verify-flag-failed',
      ],
      [
        'mined again: more out than in',
        withTxs(block, [coinbase, withValue(pay, 0, pay.outputs[0]!.value + 10n ** 12n)]),
        'bad-txns-in-belowout',
      ],
      [
        'mined again: the coinbase pays itself more',
        withTxs(block, [withValue(coinbase, 0, coinbase.outputs[0]!.value + 10n ** 8n), pay]),
        'bad-cb-amount',
      ],
    ];
    const tipBefore = hashToHex(net.run.ex.chain.tip.hash);
    for (const [name, b, reason] of cases) {
      const v = await verdict(b);
      console.log(`      ${name}: ${v.valid ? 'valid' : v.reason}`);
      if (reason === null) assert.equal(v.valid, true, name);
      else assert.equal(v.reason, reason, name);
    }
    assert.equal(cases.length, 6);
    assert.equal(hashToHex(net.run.ex.chain.tip.hash), tipBefore, 'nothing connected');
    assert.equal(net.run.ex.chain.getEntry(block.header.prevHash)!.children.length, 1, 'nothing stored');
  });

  it('refuses what is not a block with one line', async () => {
    for (const body of ['zz', '00', '']) {
      const r = await get(net.run.url, '/api/mvb/validate-block', { method: 'POST', body });
      assert.equal(r.status, 400, body);
      assert.doesNotMatch(r.text.trim(), /\n/);
    }
  });
});

// Miner names in coinbase tags: what a named miner writes reads back at every height form (OP_N and
// pushed heights), a real mainnet pool tag reads as explorers show it, and a hostile tag (markup, a
// long banner, unprintable bytes, no delimiters) names nobody.
import assert from 'node:assert/strict';
import { decodeBlock } from '../src/shared/core/block.js';
import { makeCoinbase } from '../src/shared/core/builder.js';
import { fromHex } from '../src/shared/core/bytes.js';
import {
  MAX_MINER_NAME_BYTES,
  MinerNameError,
  checkMinerName,
  coinbaseMinerName,
  coinbaseText,
  minerTag,
} from '../src/shared/core/coinbase-tag.js';
import { loadVector } from './kit/vectors.js';

const withExtra = (height: number, extra: Uint8Array) => makeCoinbase(height, [], extra);
const tagged = (height: number, name: string) =>
  withExtra(height, new Uint8Array([...minerTag(name), ...Uint8Array.of(0x2f, 0x41, 0x00, 0xff, 0x7f, 0x20, 0x2f, 0x09)]));

describe('core: miner names in coinbase tags', () => {
  it('a name written by minerTag reads back at heights 0, 1, 16, 17, 255, 65 536 and 2^31-1', () => {
    const heights = [0, 1, 16, 17, 255, 65_536, 2 ** 31 - 1];
    const names = ['alice', 'Bob 2', 'x', 'a'.repeat(MAX_MINER_NAME_BYTES), 'team #3 (back row)'.slice(0, 20)];
    let checked = 0;
    for (const h of heights)
      for (const n of names) {
        assert.equal(coinbaseMinerName(tagged(h, n)), n.trim(), `height ${h}, name ${n}`);
        checked++;
      }
    assert.equal(checked, heights.length * names.length);
  });

  it("reads a real pool's tag from a mainnet coinbase (bitcoinjs block.json, KnCMiner)", () => {
    const file = loadVector<{ valid: { description: string; hex: string }[] }>('bitcoinjs/block.json');
    const v = file.valid.find((b) => b.description === 'Headers + Coinbase');
    assert.ok(v, 'fixture present');
    const coinbase = decodeBlock(fromHex(v.hex)).txs[0]!;
    assert.equal(coinbaseText(coinbase), 'KnCMinerBQR');
    assert.equal(coinbaseMinerName(coinbase), undefined, 'no /name/ delimiters: text only');
  });

  it('a hostile tag names nobody: markup, a banner, unprintable bytes, empty or unclosed names', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const hostile: [string, Uint8Array][] = [
      ['markup', enc('/<script>alert(1)</script>/')],
      ['over 20 characters', enc(`/${'a'.repeat(21)}/`)],
      ['a 99-byte banner', enc('/' + 'b'.repeat(97) + '/')],
      ['a control byte inside', Uint8Array.of(0x2f, 0x61, 0x07, 0x62, 0x2f)],
      ['empty', enc('//')],
      ['unclosed', enc('/alice')],
      ['no leading slash', enc('alice/')],
      ['padded with spaces', enc('/ alice /')],
      ['the unnamed default', enc('mvb')],
    ];
    for (const [why, extra] of hostile) assert.equal(coinbaseMinerName(withExtra(300, extra)), undefined, why);
    assert.equal(hostile.length, 9);
  });

  it('coinbaseText stops at the first unprintable byte and at 100 characters', () => {
    assert.equal(coinbaseText(withExtra(300, Uint8Array.of(0x41, 0x42, 0x00, 0x43))), 'AB');
    assert.equal(coinbaseText(withExtra(300, new TextEncoder().encode('z'.repeat(150)))).length, 100);
  });

  it('checkMinerName trims and refuses what cannot be a tag, with one line each', () => {
    assert.equal(checkMinerName('  alice '), 'alice');
    for (const bad of ['', '   ', 'a/b', 'x'.repeat(21), 'é', 'tab\there', '<b>'])
      assert.throws(() => checkMinerName(bad), MinerNameError, JSON.stringify(bad));
  });
});

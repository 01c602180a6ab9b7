// The three forms of an outpoint (src/shared/core/outpoint.ts): key, bytes and display.
import assert from 'node:assert/strict';
import {
  OutpointError,
  displayOutpoint,
  displayOutpointKey,
  outpointBytes,
  outpointKey,
  parseOutpointBytes,
  parseOutpointKey,
} from '../src/shared/core/outpoint.js';
import { toHex } from '../src/shared/core/bytes.js';

describe('core: outpoint forms', () => {
  // Internal order 00 01 .. 1f; display order is the reverse, as txids are shown.
  const txid = Uint8Array.from({ length: 32 }, (_, i) => i);
  const internal = toHex(txid);
  const display = toHex(txid.slice().reverse());

  it('key: internal-order hex and the index, and back', () => {
    assert.equal(outpointKey(txid, 7), `${internal}:7`);
    const o = parseOutpointKey(outpointKey(txid, 4294967295));
    assert.equal(toHex(o.txid), internal);
    assert.equal(o.vout, 4294967295);
  });

  it('bytes: 36 bytes, the txid then the index big-endian', () => {
    assert.equal(toHex(outpointBytes(txid, 0x01020304)), internal + '01020304');
    const back = parseOutpointBytes(outpointBytes(txid, 0x01020304));
    assert.equal(toHex(back.txid), internal);
    assert.equal(back.vout, 0x01020304);
    assert.throws(() => parseOutpointBytes(new Uint8Array(35)), OutpointError);
  });

  it('display: the txid reversed, as bitcoin-cli prints it', () => {
    assert.equal(displayOutpoint(txid, 2), `${display}:2`);
    assert.equal(displayOutpointKey(outpointKey(txid, 2)), `${display}:2`);
  });

  it('refuses what outpointKey never writes', () => {
    for (const bad of [
      '',
      'ab:1',
      `${internal}`,
      `${internal}:`,
      `${internal}:-1`,
      `${internal}:4294967296`,
      `${internal.toUpperCase()}:1`,
      `${internal}:1:2`,
    ]) {
      assert.throws(() => parseOutpointKey(bad), OutpointError, bad);
    }
  });
});

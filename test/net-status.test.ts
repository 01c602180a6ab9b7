// The status payload (shared/node/net/protocol.ts): what a node encodes reads back, with and without
// the miner's name; an old 82-byte status (no name) still decodes; a name that breaks the coinbase-tag
// rules reads as no name, and a length byte past the name's limit or past the payload is a DecodeError.
import assert from 'node:assert/strict';
import { DecodeError } from '../src/shared/core/bytes.js';
import { MAX_MINER_NAME_BYTES } from '../src/shared/core/coinbase-tag.js';
import { decodeStatus, encodeStatus, type Status } from '../src/shared/node/net/protocol.js';

const base: Status = {
  tipHash: new Uint8Array(32).map((_, i) => i),
  height: 1234,
  chainWork: 2n ** 200n + 17n,
  blockServerPort: 8334,
  nodeId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
  mempoolSize: 42,
};

/** A status whose name bytes are written as given, bypassing encodeStatus' check (what an attacker sends). */
function withRawName(bytes: number[]): Uint8Array {
  return Uint8Array.from([...encodeStatus(base), ...bytes]);
}

describe('net: the status payload', () => {
  it('round-trips with no name and with names of 1 to MAX_MINER_NAME_BYTES characters', () => {
    const names = [undefined, 'a', 'alice', 'team #3 (back row)', 'z'.repeat(MAX_MINER_NAME_BYTES)];
    for (const name of names) {
      const s = decodeStatus(encodeStatus({ ...base, name }));
      assert.deepEqual(s, { ...base, name }, `name ${name}`);
    }
    assert.equal(encodeStatus(base).length, 82, 'a status without a name is the old 82 bytes');
    assert.equal(encodeStatus({ ...base, name: 'alice' }).length, 82 + 1 + 5);
  });

  it('reads a hostile name as no name, and a bad length byte as a DecodeError', () => {
    const text = (t: string) => [...new TextEncoder().encode(t)];
    const hostile = ['<b>x</b>', 'a/b', ' alice', 'tab\there', '\u0000\u0001'];
    for (const h of hostile) {
      const b = text(h);
      assert.equal(decodeStatus(withRawName([b.length, ...b])).name, undefined, JSON.stringify(h));
    }
    const bad = [
      [0],
      [MAX_MINER_NAME_BYTES + 1, ...new Array<number>(MAX_MINER_NAME_BYTES + 1).fill(0x61)],
      [5, 0x61, 0x62],
      [3, 0x61, 0x62, 0x63, 0x00],
    ];
    for (const b of bad) assert.throws(() => decodeStatus(withRawName(b)), DecodeError, JSON.stringify(b));
    assert.throws(() => encodeStatus({ ...base, name: 'a/b' }), /may hold letters/);
  });
});

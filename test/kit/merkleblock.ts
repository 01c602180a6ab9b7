// BIP37's merkleblock decoded for tests, written from the BIP and independently of the explorer's
// builder (shared/core/partial-merkle.ts): the header, then the partial tree walked depth first.
import assert from 'node:assert/strict';
import { Reader, hashToHex } from '../../src/shared/core/bytes.js';
import { sha256d } from '../../src/shared/core/hash.js';
import { decodeHeader } from '../../src/shared/core/header.js';

/** BIP37's merkleblock (or, withHeader false, the partial tree alone) decoded; returns the root and the matched txids. */
export function decodeMerkleBlock(
  bytes: Uint8Array,
  withHeader = true,
): { header: ReturnType<typeof decodeHeader> | undefined; root: Uint8Array; matched: string[] } {
  const header = withHeader ? decodeHeader(bytes.subarray(0, 80)) : undefined;
  const r = new Reader(bytes.subarray(withHeader ? 80 : 0));
  const count = r.u32('count');
  const hashes = Array.from({ length: r.compactSize('hashes') }, () => r.bytes(32, 'hash'));
  const flags = r.bytes(r.compactSize('flags'), 'flags');
  assert.equal(r.remaining, 0, 'nothing after the flag bytes');
  const width = (h: number) => (count + (1 << h) - 1) >> h;
  let height = 0;
  while (width(height) > 1) height++;
  let bit = 0;
  let used = 0;
  const matched: string[] = [];
  const walk = (h: number, pos: number): Uint8Array => {
    assert.ok(bit < flags.length * 8, 'ran out of flag bits');
    const parentOfMatch = ((flags[bit >> 3]! >> (bit & 7)) & 1) === 1;
    bit++;
    if (h === 0 || !parentOfMatch) {
      assert.ok(used < hashes.length, 'ran out of hashes');
      const x = hashes[used++]!;
      if (h === 0 && parentOfMatch) matched.push(hashToHex(x));
      return x;
    }
    const left = walk(h - 1, pos * 2);
    const right = pos * 2 + 1 < width(h - 1) ? walk(h - 1, pos * 2 + 1) : left;
    const both = new Uint8Array(64);
    both.set(left, 0);
    both.set(right, 32);
    return sha256d(both);
  };
  const root = walk(height, 0);
  assert.equal(used, hashes.length, 'every hash used');
  assert.equal(Math.ceil(bit / 8), flags.length, 'no spare flag byte');
  return { header, root, matched };
}

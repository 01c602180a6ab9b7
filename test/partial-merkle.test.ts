// BIP37 partial Merkle trees (shared/core/partial-merkle.ts) against an independent decoder
// (test/kit/merkleblock.ts): for every block size from 1 to 40 transactions and every choice of
// one matched transaction, plus several matched at once and none, the tree's root is the block's
// Merkle root (shared/core/merkle.ts) and exactly the matched txids come out, in block order.
import assert from 'node:assert/strict';
import { hashToHex } from '../src/shared/core/bytes.js';
import { sha256 } from '../src/shared/core/hash.js';
import { merkleRoot } from '../src/shared/core/merkle.js';
import { buildPartialMerkleTree, encodePartialMerkleTree, treeHeight } from '../src/shared/core/partial-merkle.js';
import { decodeMerkleBlock } from './kit/merkleblock.js';

const ids = (n: number) => Array.from({ length: n }, (_x, i) => sha256(Uint8Array.of(i, n)));

function check(txids: Uint8Array[], matched: boolean[]): void {
  const bytes = encodePartialMerkleTree(buildPartialMerkleTree(txids, matched));
  const d = decodeMerkleBlock(bytes, false);
  assert.equal(hashToHex(d.root), hashToHex(merkleRoot(txids)));
  assert.deepEqual(d.matched, txids.filter((_t, i) => matched[i]).map(hashToHex));
}

describe('BIP37 partial Merkle trees', () => {
  it('prove any one transaction of blocks of 1 to 40', () => {
    for (let n = 1; n <= 40; n++) {
      const t = ids(n);
      for (let k = 0; k < n; k++)
        check(
          t,
          t.map((_x, i) => i === k),
        );
    }
  });

  it('prove several transactions at once, and none (the root alone)', () => {
    for (const n of [2, 3, 7, 16, 17, 33]) {
      const t = ids(n);
      check(
        t,
        t.map((_x, i) => i % 3 === 0),
      );
      check(
        t,
        t.map(() => true),
      );
      const none = buildPartialMerkleTree(
        t,
        t.map(() => false),
      );
      assert.equal(none.hashes.length, 1, 'an unmatched tree is its root');
      check(
        t,
        t.map(() => false),
      );
    }
    assert.deepEqual([1, 2, 3, 4, 5, 8, 9].map(treeHeight), [0, 1, 2, 2, 3, 3, 4]);
  });
});

// Merkle root over txids, as Core's ComputeMerkleRoot: pair up hashes level by level with
// HASH256(left || right); an odd level duplicates its last hash. That duplication is what makes
// CVE-2012-2459 possible, so callers must also reject blocks with duplicate txids.
import { equalBytes } from './bytes.js';
import { sha256d } from './hash.js';

export function merkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  return merkleRootMutated(txids).root;
}

/** Merkle root plus Core's "mutated" flag: true when some level paired two identical hashes. */
export function merkleRootMutated(txids: readonly Uint8Array[]): { root: Uint8Array; mutated: boolean } {
  let mutated = false;
  let level = txids.slice();
  if (level.length === 0) return { root: new Uint8Array(32), mutated };
  const pair = new Uint8Array(64);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1] ?? left;
      if (i + 1 < level.length && equalBytes(left, right)) mutated = true;
      pair.set(left, 0);
      pair.set(right, 32);
      next.push(sha256d(pair));
    }
    level = next;
  }
  return { root: level[0]!, mutated };
}

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

/** Longest Merkle branch accepted: a tree over 2^32 leaves (more transactions than any block can hold). */
export const MAX_MERKLE_BRANCH = 32;

/**
 * The Merkle root a txid's branch leads to (the white paper's section 8; Core's
 * ComputeMerkleRootFromBranch, once in src/consensus/merkle.cpp): at each level the bit of pos says
 * whether our hash is the right (1) or left (0) of the pair. Undefined for a branch longer than
 * MAX_MERKLE_BRANCH or a pos that does not fit it (a position past the tree cannot be proven).
 */
export function merkleRootFromBranch(leaf: Uint8Array, branch: readonly Uint8Array[], pos: number): Uint8Array | undefined {
  if (branch.length > MAX_MERKLE_BRANCH || !Number.isInteger(pos) || pos < 0 || pos >= 2 ** branch.length) return undefined;
  const pair = new Uint8Array(64);
  let h = leaf;
  let index = pos;
  for (const sibling of branch) {
    const right = index % 2 === 1;
    pair.set(right ? sibling : h, 0);
    pair.set(right ? h : sibling, 32);
    h = sha256d(pair);
    index = Math.floor(index / 2);
  }
  return h;
}

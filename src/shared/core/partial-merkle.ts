// BIP37's partial Merkle tree, as Core's CPartialMerkleTree (merkleblock.cpp): the hashes and flag
// bits that prove some transactions are in a block without sending the others. What Core's
// gettxoutproof returns and a light client checks: a header, then this tree, whose root must be
// the header's Merkle root. Built depth first: a flag bit per node visited (1: an ancestor of a
// matched txid), a hash wherever the walk stops (a leaf, or a subtree without a match).
import { Writer } from './bytes.js';
import { sha256d } from './hash.js';

const pairHash = (left: Uint8Array, right: Uint8Array): Uint8Array => {
  const both = new Uint8Array(64);
  both.set(left, 0);
  both.set(right, 32);
  return sha256d(both);
};

/** Nodes at this height above the leaves (Core's CalcTreeWidth). */
const treeWidth = (count: number, height: number): number => (count + (1 << height) - 1) >> height;

/** The tree's height: levels above the leaves up to the root. */
export function treeHeight(count: number): number {
  let h = 0;
  while (treeWidth(count, h) > 1) h++;
  return h;
}

export interface PartialMerkleTree {
  readonly txCount: number;
  /** Internal byte order, as serialized. */
  readonly hashes: Uint8Array[];
  readonly bits: boolean[];
}

/** The tree proving the txids whose `matched` flag is set (txids in internal order). */
export function buildPartialMerkleTree(txids: readonly Uint8Array[], matched: readonly boolean[]): PartialMerkleTree {
  const count = txids.length;
  const hashes: Uint8Array[] = [];
  const bits: boolean[] = [];
  const memo = new Map<string, Uint8Array>();
  const hashAt = (height: number, pos: number): Uint8Array => {
    if (height === 0) return txids[pos]!;
    const k = `${height}:${pos}`;
    const hit = memo.get(k);
    if (hit) return hit;
    const left = hashAt(height - 1, pos * 2);
    const right = pos * 2 + 1 < treeWidth(count, height - 1) ? hashAt(height - 1, pos * 2 + 1) : left;
    const h = pairHash(left, right);
    memo.set(k, h);
    return h;
  };
  // An explicit stack of nodes (height, pos), left child visited first: the depth-first order of Core's TraverseAndBuild.
  const stack: [number, number][] = [[treeHeight(count), 0]];
  while (stack.length) {
    const [height, pos] = stack.pop()!;
    let parentOfMatch = false;
    for (let p = pos << height; p < Math.min((pos + 1) << height, count) && !parentOfMatch; p++) parentOfMatch = matched[p] === true;
    bits.push(parentOfMatch);
    if (height === 0 || !parentOfMatch) hashes.push(hashAt(height, pos));
    else {
      if (pos * 2 + 1 < treeWidth(count, height - 1)) stack.push([height - 1, pos * 2 + 1]);
      stack.push([height - 1, pos * 2]);
    }
  }
  return { txCount: count, hashes, bits };
}

/** Core's serialization: the transaction count (uint32), the hashes (compact size, 32 bytes each), the flag bits (compact size, LSB first). */
export function encodePartialMerkleTree(t: PartialMerkleTree): Uint8Array {
  const flags = new Uint8Array(Math.ceil(t.bits.length / 8));
  t.bits.forEach((b, i) => {
    if (b) flags[i >> 3]! |= 1 << (i & 7);
  });
  const w = new Writer(4 + 9 + 32 * t.hashes.length + 9 + flags.length);
  w.u32(t.txCount);
  w.compactSize(t.hashes.length);
  for (const h of t.hashes) w.bytes(h);
  w.compactSize(flags.length);
  w.bytes(flags);
  return w.finish();
}

// The Electrum protocol's header checkpoints (1.4, blockchain.block.header with cp_height): the
// Merkle tree of the active chain's header hashes at heights 0..cp_height, built as Bitcoin's
// transaction tree is (HASH256 of each pair, an odd level's last hash paired with itself), and the
// branch from one header's hash up to its root. Hashes go out in display (reversed) hex, as
// ElectrumX sends them. A tree is kept for the last few checkpoints asked (each costs one hash
// per header to build), keyed by the checkpoint block's hash so a reorganisation is never served
// a stale tree.
import { hashToHex } from '../../shared/core/bytes.js';
import type { Chain } from '../../shared/core/chain.js';
import { sha256d } from '../../shared/core/hash.js';

/** Trees kept (their levels hold about twice cp_height hashes each). */
const TREES_KEPT = 4;

export interface HeaderProof {
  readonly root: string;
  readonly branch: string[];
}

export class HeaderProofs {
  private readonly trees = new Map<string, Uint8Array[][]>();

  constructor(private readonly chain: Chain) {}

  /** The proof of the header at `height` against checkpoint `cpHeight` (height <= cpHeight <= tip, checked by the caller). */
  proof(height: number, cpHeight: number): HeaderProof {
    const levels = this.levels(cpHeight);
    const branch: string[] = [];
    let i = height;
    for (let d = 0; d < levels.length - 1; d++) {
      const level = levels[d]!;
      branch.push(hashToHex(level[i ^ 1] ?? level[i]!));
      i >>= 1;
    }
    return { root: hashToHex(levels[levels.length - 1]![0]!), branch };
  }

  private levels(cpHeight: number): Uint8Array[][] {
    const key = hashToHex(this.chain.atHeight(cpHeight)!.hash);
    const hit = this.trees.get(key);
    if (hit) return hit;
    const leaves: Uint8Array[] = [];
    for (let h = 0; h <= cpHeight; h++) leaves.push(this.chain.atHeight(h)!.hash);
    const levels = [leaves];
    const pair = new Uint8Array(64);
    for (let cur = leaves; cur.length > 1;) {
      const next: Uint8Array[] = [];
      for (let j = 0; j < cur.length; j += 2) {
        pair.set(cur[j]!, 0);
        pair.set(cur[j + 1] ?? cur[j]!, 32);
        next.push(sha256d(pair));
      }
      levels.push(next);
      cur = next;
    }
    if (this.trees.size >= TREES_KEPT) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(key, levels);
    return levels;
  }
}

// Rebuilding a block from its compact form and the transactions we hold (Core's
// PartiallyDownloadedBlock, blockencodings.cpp): the prefilled transactions go in place, each
// candidate's short id is looked up among the block's, and what is left is asked for by index
// (getblocktxn). Collisions as BIP152 says: two short ids equal in one compact block fail the
// whole (fetch the full block); two candidates matching one short id leave that slot empty (it is
// fetched); a rebuilt block whose Merkle root does not match is a collision we could not see, and
// is fetched whole, never judged invalid (the header's proof of work was real).
import { equalBytes } from './bytes.js';
import type { Block } from './block.js';
import { type CompactBlock, shortId, shortIdKey } from './compact-block.js';
import { merkleRootMutated } from './merkle.js';
import { type Tx, txid } from './tx.js';

/** A transaction we hold, with its txid (the mempool has both). */
export interface Candidate {
  readonly tx: Tx;
  readonly txid: Uint8Array;
}

export type RebuildStart =
  | { readonly status: 'partial'; readonly partial: PartialBlock }
  /** The compact block cannot be rebuilt from short ids: fetch the full block. */
  | { readonly status: 'failed'; readonly reason: string };

export interface PartialBlock {
  readonly compact: CompactBlock;
  /** The block's transactions so far, undefined where still missing. */
  readonly slots: (Tx | undefined)[];
  /** Indexes still missing, increasing (what getblocktxn asks for). */
  readonly missing: number[];
  /** Slots filled from our candidates (not prefilled). */
  readonly fromMempool: number;
}

/** Places the prefilled transactions, then the candidates by short id. */
export function startRebuild(compact: CompactBlock, candidates: Iterable<Candidate>): RebuildStart {
  const total = compact.shortIds.length + compact.prefilled.length;
  const slots: (Tx | undefined)[] = new Array(total).fill(undefined);
  for (const p of compact.prefilled) slots[p.index] = p.tx;
  // Short id -> slot index, over the slots not prefilled, in order.
  const bySid = new Map<number, number>();
  let k = 0;
  for (let i = 0; i < total; i++) {
    if (slots[i]) continue;
    const sid = compact.shortIds[k++]!;
    if (bySid.has(sid)) return { status: 'failed', reason: 'duplicate short ids' }; // Core: READ_STATUS_FAILED
    bySid.set(sid, i);
  }
  const key = shortIdKey(compact.header, compact.nonce);
  const collided = new Set<number>();
  let fromMempool = 0;
  for (const c of candidates) {
    if (bySid.size === 0) break;
    const i = bySid.get(shortId(key, c.txid));
    if (i === undefined || collided.has(i)) continue;
    if (slots[i]) {
      slots[i] = undefined; // two of ours share the short id: neither is trusted, the slot is fetched
      collided.add(i);
      fromMempool--;
      continue;
    }
    slots[i] = c.tx;
    fromMempool++;
  }
  const missing: number[] = [];
  for (let i = 0; i < total; i++) if (!slots[i]) missing.push(i);
  return { status: 'partial', partial: { compact, slots, missing, fromMempool } };
}

/**
 * The block once the missing transactions are in: `fetched` are the blocktxn answer's, in the
 * order of `missing`. Undefined when their count is wrong or the Merkle root does not match (a
 * short-id collision or a wrong answer): the caller fetches the full block.
 */
export function finishRebuild(partial: PartialBlock, fetched: readonly Tx[] = []): Block | undefined {
  if (fetched.length !== partial.missing.length) return undefined;
  const txs = partial.slots.slice();
  partial.missing.forEach((i, k) => (txs[i] = fetched[k]));
  const full = txs as Tx[];
  const { root, mutated } = merkleRootMutated(full.map(txid));
  if (mutated || !equalBytes(root, partial.compact.header.merkleRoot)) return undefined;
  return { header: partial.compact.header, txs: full };
}

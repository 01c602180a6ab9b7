// Core's package rules (policy/packages.cpp) for a package submitted whole (Core's submitpackage):
// at most 25 transactions and 101 kvB together, no duplicates, parents before children, no two
// spending the same output, and the shape Core accepts: one child with its parents, the parents
// not spending each other. Pure checks on decoded transactions; the pool then takes them in order.
import { toHex } from './bytes.js';
import { outpointKey } from './outpoint.js';
import { type Tx, txid } from './tx.js';

/** Core's MAX_PACKAGE_COUNT and MAX_PACKAGE_WEIGHT / 4 (no witnesses here: bytes). */
export const MAX_PACKAGE_COUNT = 25;
export const MAX_PACKAGE_BYTES = 101_000;

/**
 * Core's reason why this package is not well formed (IsWellFormedPackage, then submitpackage's
 * IsChildWithParentsTree), or undefined. sizes: each transaction's serialized size.
 */
export function packageError(txs: readonly Tx[], sizes: readonly number[]): string | undefined {
  if (txs.length > MAX_PACKAGE_COUNT) return 'package-too-many-transactions';
  if (sizes.reduce((a, n) => a + n, 0) > MAX_PACKAGE_BYTES) return 'package-too-large';
  const ids = txs.map((t) => toHex(txid(t)));
  if (new Set(ids).size !== ids.length) return 'package-contains-duplicates';
  const position = new Map(ids.map((id, i) => [id, i]));
  const spent = new Set<string>();
  for (let i = 0; i < txs.length; i++) {
    for (const inp of txs[i]!.inputs) {
      const from = position.get(toHex(inp.prevTxid));
      if (from !== undefined && from >= i) return 'package-not-sorted';
      const k = outpointKey(inp.prevTxid, inp.vout);
      if (spent.has(k)) return 'conflict-in-package';
      spent.add(k);
    }
  }
  return childWithParents(txs, ids) ? undefined : 'package-not-child-with-parents';
}

/** The last transaction spends an output of every other, and no other spends one of the package's. */
function childWithParents(txs: readonly Tx[], ids: readonly string[]): boolean {
  if (txs.length === 1) return true;
  const inPackage = new Set(ids);
  const childSpends = new Set(txs[txs.length - 1]!.inputs.map((i) => toHex(i.prevTxid)));
  for (let i = 0; i < txs.length - 1; i++) {
    if (!childSpends.has(ids[i]!)) return false;
    if (txs[i]!.inputs.some((inp) => inPackage.has(toHex(inp.prevTxid)))) return false;
  }
  return true;
}

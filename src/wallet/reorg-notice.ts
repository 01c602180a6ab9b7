// Says what a reorganisation did to the wallet, in one sentence a student can follow: which blocks
// left the best chain, how the balance changed because their transactions are not in the new chain
// (a mined reward of a replaced block is simply gone: the new chain's block pays someone else), and
// which of our payments are pending again. Used by sync's output, list-addresses and history.
import { formatCoins, formatSigned } from '../shared/core/amount.js';
import type { ReorgNotice } from '../shared/node/store/schema.js';

/** The sentence for one notice. */
export function reorgSentence(n: ReorgNotice): string {
  const first = n.left[n.left.length - 1] ?? n.left[0];
  const blocks =
    n.left.length === 1
      ? `block ${n.left[0]!.height} (${n.left[0]!.hash.slice(0, 12)}…) left the best chain`
      : `${n.left.length} blocks (heights ${first?.height}-${n.left[0]?.height}) left the best chain`;
  const parts = [`your balance ${formatSigned(BigInt(n.change))}`];
  const lost = BigInt(n.rewardsLost);
  if (lost > 0n)
    parts.push(
      `a mined reward of ${formatCoins(lost)} is gone with ${n.left.length === 1 ? 'it' : 'them'}: the new chain's block pays its own miner`,
    );
  if (n.pendingAgain.length)
    parts.push(
      `payment(s) ${n.pendingAgain.map((t) => t.slice(0, 12) + '…').join(', ')} pending again (rebroadcast, they may be mined again)`,
    );
  if (n.gone.length) parts.push(`incoming ${n.gone.map((t) => t.slice(0, 12) + '…').join(', ')} not in the new chain`);
  return `reorganisation: ${blocks}; ${parts.join('; ')}`;
}

/** The notices of the last `ms` milliseconds before now, newest first. */
export function recentNotices(all: readonly ReorgNotice[], now: number, ms: number): ReorgNotice[] {
  return all.filter((n) => now - n.at <= ms).reverse();
}

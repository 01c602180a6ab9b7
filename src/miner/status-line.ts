// Why: a miner's one line of news every few seconds, the figures getmininginfo would give: height,
// tip, difficulty (Core's GetDifficulty of the tip's nBits, core/pow.ts, shown as the explorer shows
// it), the hash rate, the mempool and the miners heard. Bad input is dropped and counted, never
// thrown, so the counts of what was dropped or refused ride along on the same line, and so do the
// compact blocks heard (how each was rebuilt, and how many transactions had to be fetched).
import type { ChalkInstance } from 'chalk';
import { hashToHex } from '../shared/core/bytes.js';
import type { ChainEntry } from '../shared/core/chain.js';
import { difficulty, formatDifficulty } from '../shared/core/pow.js';
import type { CompactStats } from '../shared/node/net/compact-relay.js';

export interface StatusFigures {
  readonly tip: ChainEntry;
  readonly powLimit: bigint;
  /** "12.3 kH/s", or "not mining". */
  readonly rate: string;
  readonly mempoolSize: number;
  /** Miners heard, ourselves included. */
  readonly miners: number;
  readonly drops: DropCounts;
  /** Compact blocks (BIP152) heard and what became of them (net/compact-relay.ts). */
  readonly compact?: Pick<CompactStats, 'rebuilt' | 'completed' | 'txsFetched' | 'fullBlocks' | 'fellBack' | 'dropped'>;
}

export interface DropCounts {
  /** Datagrams the node dropped, by reason ('rate': over a sender's status-port limit). */
  readonly datagrams: Readonly<Record<string, number>>;
  /** Transactions that did not decode. */
  readonly undecodableTxs: number;
  readonly invalidTxs: number;
  /** "Already known / conflicted" refusals (a rebroadcast, a payment already mined). */
  readonly knownTxs: number;
  /** Transactions dropped because the intake's queue was full. */
  readonly queueFullTxs: number;
  readonly bans: number;
}

/** "height N tip <16 hex>… difficulty D <rate> mempool M miners K (counts)". */
export function statusLine(f: StatusFigures, c: ChalkInstance): string {
  const shown = formatDifficulty(difficulty(f.tip.header.bits, f.powLimit));
  return `height ${c.bold(String(f.tip.height))} tip ${hashToHex(f.tip.hash).slice(0, 16)}… difficulty ${shown} ${f.rate} mempool ${f.mempoolSize} miners ${f.miners}${compactSummary(f.compact)}${dropSummary(f.drops, c)}`;
}

/** " compact blocks: R rebuilt, C completed (T tx fetched), F full, B fell back, D dropped" once any was heard. */
export function compactSummary(k: StatusFigures['compact']): string {
  if (!k || k.rebuilt + k.completed + k.fullBlocks + k.fellBack + k.dropped === 0) return '';
  return ` compact blocks: ${k.rebuilt} rebuilt, ${k.completed} completed (${k.txsFetched} tx fetched), ${k.fullBlocks} full, ${k.fellBack} fell back, ${k.dropped} dropped`;
}

/** The counts, in parentheses (nothing when all are zero). */
export function dropSummary(d: DropCounts, c: ChalkInstance): string {
  const { rate = 0, ...malformed } = d.datagrams;
  const bad = Object.values(malformed).reduce((a, b) => a + b, 0) + d.undecodableTxs;
  const parts = [
    bad ? `${bad} bad datagrams dropped` : '',
    d.invalidTxs ? `${d.invalidTxs} invalid tx rejected` : '',
    d.bans ? `${d.bans} peer(s) ignored` : '',
    d.knownTxs ? `${d.knownTxs} tx already known/conflicted` : '',
    d.queueFullTxs ? `${d.queueFullTxs} tx dropped (queue full)` : '',
    rate ? `${rate} status datagrams over a sender's rate limit dropped` : '',
  ].filter(Boolean);
  return parts.length ? c.gray(` (${parts.join(', ')})`) : '';
}

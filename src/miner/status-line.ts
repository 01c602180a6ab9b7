// Why: a miner's one line of news every few seconds, the figures getmininginfo would give: height,
// tip, difficulty (Core's GetDifficulty of the tip's nBits, core/pow.ts, shown as the explorer shows
// it), the hash rate, the mempool and the miners heard. Bad input is dropped and counted, never
// thrown, so the counts of what was dropped or refused ride along on the same line.
import type { ChalkInstance } from 'chalk';
import { hashToHex } from '../shared/core/bytes.js';
import type { ChainEntry } from '../shared/core/chain.js';
import { difficulty, formatDifficulty } from '../shared/core/pow.js';

export interface StatusFigures {
  readonly tip: ChainEntry;
  readonly powLimit: bigint;
  /** "12.3 kH/s", or "not mining". */
  readonly rate: string;
  readonly mempoolSize: number;
  /** Miners heard, ourselves included. */
  readonly miners: number;
  readonly drops: DropCounts;
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
  return `height ${c.bold(String(f.tip.height))} tip ${hashToHex(f.tip.hash).slice(0, 16)}… difficulty ${shown} ${f.rate} mempool ${f.mempoolSize} miners ${f.miners}${dropSummary(f.drops, c)}`;
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

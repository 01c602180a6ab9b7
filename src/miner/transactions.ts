// Why: the miner's use of the node layer's transaction intake (shared/node/mempool/intake.ts),
// which does the work, the same for the explorer and a wallet's sync. Every transaction heard on
// the port goes in; each verdict comes back here to be counted for the status line ("already
// known / conflicted" apart from invalid), logged (each refusal once, gray; --quiet hides them)
// and, for a new pool transaction, written to the --events log and put into the next template.
import type { ChalkInstance } from 'chalk';
import { hashToHex } from '../shared/core/bytes.js';
import { ALREADY_KNOWN_CODES } from '../shared/core/policy.js';
import type { EventLog } from '../shared/node/events.js';
import { type TxVerdict, TxIntake } from '../shared/node/mempool/intake.js';
import type { Mempool } from '../shared/node/mempool/pool.js';
import type { ChainNode } from '../shared/node/net/node.js';

export interface TxCounts {
  txReceived: number;
  txRejected: number;
  txKnown: number;
  txBad: number;
  txQueueFull: number;
  ownTxHeard: number;
}

export interface MinerIntakeOptions {
  readonly node: ChainNode;
  readonly mempool: Mempool;
  /** Counted into (the miner's stats). */
  readonly counts: TxCounts;
  readonly log: (line: string, level?: 'info' | 'warn') => void;
  readonly c: ChalkInstance;
  readonly events?: EventLog;
  /** A transaction entered the pool: rebuild the template. */
  readonly onAccepted: () => void;
}

/** The intake, fed by the node's transaction port and answered by onVerdict. */
export function openMinerIntake(o: MinerIntakeOptions): TxIntake {
  const intake = new TxIntake({
    mempool: o.mempool,
    log: (line) => o.log(o.c.gray(line)),
    warn: (line) => o.log(o.c.red(line), 'warn'),
  });
  intake.on('verdict', (v) => onVerdict(o, v));
  o.node.on('tx', (raw, from) => {
    o.counts.txReceived++;
    intake.offer(raw, from.address);
  });
  return intake;
}

function onVerdict(o: MinerIntakeOptions, v: TxVerdict): void {
  const n = o.counts;
  switch (v.kind) {
    case 'undecodable':
      return void n.txBad++;
    case 'known':
      return void n.ownTxHeard++;
    case 'dropped':
      return void n.txQueueFull++;
    case 'rejected':
      if (ALREADY_KNOWN_CODES.has(v.error.code)) n.txKnown++;
      else n.txRejected++;
      return;
    case 'failed':
      return o.log(o.c.red(`transaction admission failed: ${v.error.message}`), 'warn');
    case 'accepted':
      o.events?.write('tx', { txid: hashToHex(v.entry.txid) });
      o.log(`mempool +${v.txid.slice(0, 16)}… fee ${v.entry.fee} (${v.entry.feeRate.toFixed(1)}/byte), ${o.mempool.size} waiting`);
      return o.onAccepted();
  }
}

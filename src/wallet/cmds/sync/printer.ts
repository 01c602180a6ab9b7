// What sync prints: a line per event as it happens (NDJSON with --json when running
// continuously; with --once only the summary), warnings on stderr, and a progress bar on a
// terminal while far behind. The bar is stopped before any final line, so the two never share one.
import cliProgress from 'cli-progress';
import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../../../shared/node/cli/runner.js';
import { formatCoins, formatSigned } from '../../../shared/core/amount.js';
import type { WalletEvent } from '../../db/index.js';
import { colours, isTerminal, shortHash } from '../../terminal.js';
import { reorgSentence } from '../../reorg-notice.js';

/** What this run saw happen to payments (the --once summary). */
export interface SyncTally {
  readonly confirmed: string[];
  readonly failed: string[];
  readonly unconfirmed: string[];
  readonly incoming: string[];
  received: bigint;
}

export function eventJson(ev: WalletEvent): Record<string, unknown> {
  switch (ev.kind) {
    case 'confirmed':
      return {
        event: 'confirmed',
        txid: ev.txid,
        height: ev.block.height,
        blockHash: ev.block.hash,
        ...(ev.incoming ? { incoming: true, amount: formatCoins(ev.incoming.amount) } : {}),
      };
    case 'unconfirmed':
      return { event: 'unconfirmed', txid: ev.txid, height: ev.height };
    case 'failed':
      return { event: 'failed', txid: ev.txid, reason: ev.detail };
    case 'revived':
      return { event: 'revived', txid: ev.txid };
    case 'received':
      return { event: 'received', txid: ev.txid, amount: formatCoins(ev.amount), height: ev.block.height, coinbase: ev.coinbase };
    case 'incoming':
      return { event: 'incoming', txid: ev.txid, amount: formatCoins(ev.amount), from: ev.from };
    case 'incoming-dropped':
      return { event: 'incoming-dropped', txid: ev.txid, reason: ev.reason, detail: ev.detail };
    case 'reorg':
      return { event: 'reorg', ...ev.notice };
  }
}

export class SyncPrinter {
  readonly c: ChalkInstance;
  /** NDJSON lines as they happen (--json without --once). */
  readonly streamJson: boolean;
  readonly tally: SyncTally = { confirmed: [], failed: [], unconfirmed: [], incoming: [], received: 0n };
  private bar: cliProgress.SingleBar | undefined;

  constructor(
    private readonly ctx: CommandContext,
    private readonly once: boolean,
    private readonly verbose: boolean,
  ) {
    this.c = colours(ctx);
    this.streamJson = ctx.json && !once;
  }

  say(line: string, json?: Record<string, unknown>): void {
    if (this.streamJson) {
      if (json) this.ctx.io.out(JSON.stringify(json));
    } else if (!this.ctx.json) this.ctx.io.out(line);
  }

  warn(msg: string): void {
    this.stopBar();
    this.ctx.io.err(`warning: ${msg}`);
  }

  /** Network details, with --verbose only. */
  detail(msg: string): void {
    if (this.verbose) this.ctx.io.err(msg);
  }

  /** Prints the wallet's events (and counts them for the summary). */
  events(evs: readonly WalletEvent[], who: (pkhs: readonly string[]) => string): void {
    for (const ev of evs) this.event(ev, who);
  }

  private event(ev: WalletEvent, who: (pkhs: readonly string[]) => string): void {
    const { c, tally } = this;
    const j = eventJson(ev);
    if (ev.kind === 'confirmed') {
      tally.confirmed.push(ev.txid);
      const inc = ev.incoming ? `: incoming ${formatSigned(ev.incoming.amount)} to ${who(ev.incoming.pkhs)}` : '';
      this.say(`${c.green('confirmed')} payment ${ev.txid} in block ${ev.block.height} (${shortHash(ev.block.hash)})${inc}`, j);
    } else if (ev.kind === 'unconfirmed') {
      tally.unconfirmed.push(ev.txid);
      this.say(`${c.yellow('pending again')}: payment ${ev.txid} (its block ${ev.height} was replaced by a reorganisation)`, j);
    } else if (ev.kind === 'failed') {
      tally.failed.push(ev.txid);
      this.ctx.io.err(`${c.red('failed')}: payment ${ev.txid}: ${ev.detail}`);
      if (this.streamJson) this.ctx.io.out(JSON.stringify(j));
    } else if (ev.kind === 'revived') {
      this.say(`${c.yellow('pending again')}: payment ${ev.txid} (the transaction that beat it was reorganised away)`, j);
    } else if (ev.kind === 'incoming') {
      tally.incoming.push(ev.txid);
      this.say(
        `incoming payment ${c.green(formatSigned(ev.amount))} to ${who(ev.pkhs)} from ${ev.from ?? 'an unknown address'}, ${c.yellow('pending')}; txid ${ev.txid}`,
        j,
      );
    } else if (ev.kind === 'incoming-dropped') {
      this.say(`${c.yellow('dropped')} incoming payment ${ev.txid}: ${ev.detail}`, j);
    } else if (ev.kind === 'reorg') {
      this.say(c.yellow(reorgSentence(ev.notice)), j);
    } else {
      tally.received += ev.amount;
      if (!this.once)
        this.say(
          `received ${formatCoins(ev.amount)} on ${who(ev.pkhs)} in block ${ev.block.height}${ev.coinbase ? ' (mined reward)' : ''}`,
          j,
        );
    }
  }

  /** The bar while far behind (on a terminal, without --json); gone once caught up. */
  progress(height: number, bestHeight: number | undefined, farBehind: boolean): void {
    if (farBehind && bestHeight !== undefined && isTerminal(this.ctx) && !this.ctx.json) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { format: 'syncing |{bar}| {value}/{total} blocks', stream: process.stderr, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(bestHeight, height);
      } else {
        this.bar.setTotal(bestHeight);
        this.bar.update(height);
      }
    } else if (this.bar) {
      this.bar.update(height);
      this.stopBar();
    }
  }

  /** Ends the bar and clears its line (before a final line, a warning, or Ctrl-C). */
  stopBar(): void {
    const b = this.bar;
    this.bar = undefined;
    b?.stop();
  }
}

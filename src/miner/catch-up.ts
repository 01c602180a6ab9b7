// Why a miner sometimes does not mine: far behind the best chain it knows of (Core's initial
// block download), mining on its own tip would only make blocks everyone has long left behind,
// so it fetches and validates until it is caught up, showing progress (a bar on a terminal, else
// a line per thousand blocks). A catch-up that makes no progress (headers whose blocks nobody
// serves) ends after a while, so a lying peer cannot stop a miner for ever. The miner asks this
// state machine at each status, chain update and status line; it tells the miner when to stop
// and when to resume mining.
import chalk, { type ChalkInstance } from 'chalk';
import cliProgress from 'cli-progress';
import type { Chain } from '../shared/core/chain.js';
import type { ChainNode } from '../shared/node/net/node.js';

/**
 * Behind the best header (proof-of-work checked) by more than this many blocks, a miner
 * is catching up (Core's initial block download): it fetches and validates, and does not mine on
 * a tip everyone has long left behind.
 */
export const CATCH_UP_BLOCKS_BEHIND = 10;
/** While catching up without a terminal: at most one progress line per this many blocks. */
export const CATCH_UP_LINE_BLOCKS = 1000;
/** Catching up with no new block for this long ends (mining resumes on our tip). */
export const CATCH_UP_STALL_SECONDS = 30;

export interface CatchUpHooks {
  readonly chain: Chain;
  readonly node: ChainNode;
  readonly log: (line: string, level?: 'info' | 'warn') => void;
  readonly c?: ChalkInstance;
  /** Draw a progress bar on stderr instead of progress lines. */
  readonly progressBar?: boolean;
  /** Whether the miner mines at all (the "caught up" line says it resumes). */
  readonly mining: () => boolean;
  /** Catching up began: stop mining on our tip. */
  readonly pause: () => void;
  /** Catching up ended (caught up, or stalled): mine again. */
  readonly resume: () => void;
}

interface Progress {
  readonly since: number;
  readonly fromHeight: number;
  lastLineHeight: number;
  progressAt: number;
  progressHeight: number;
  bar?: cliProgress.SingleBar;
}

export class CatchUp {
  /** Set while far behind (see CATCH_UP_BLOCKS_BEHIND). */
  private progress?: Progress;
  /** After a stalled catch-up: not entered again until a better header than this one arrives. */
  private stallUntilHeader = -1;
  private readonly c: ChalkInstance;

  constructor(private readonly h: CatchUpHooks) {
    this.c = h.c ?? chalk;
  }

  get active(): boolean {
    return this.progress !== undefined;
  }

  /**
   * How far the chain goes: the decision uses our best header only (headers carry their proof of
   * work: a status is just a claim, and a classmate announcing a made-up height must not stop every
   * miner); the display also counts the best tip an unbanned peer announces (headers come 2000 at
   * a time).
   */
  private bestKnown(): { header: number; shown: number } {
    const header = this.h.chain.bestHeader().height;
    let shown = header;
    for (const p of this.h.node.activePeers()) if (!this.h.node.isBanned(p.key)) shown = Math.max(shown, p.status.height);
    return { header, shown };
  }

  /** Enters or leaves catching up, and reports progress while in it (a bar, or a line per thousand blocks). */
  check(): void {
    const height = this.h.chain.height;
    const best = this.bestKnown();
    const cu = this.progress;
    // Entered when far behind, left only at the best header: the last blocks are no line each.
    const behind = cu ? best.header > height : best.header - height > CATCH_UP_BLOCKS_BEHIND && best.header > this.stallUntilHeader;
    if (behind && !cu) this.enter(height, best.shown);
    else if (cu && behind) this.report(cu, height, best.shown);
    else if (cu) {
      this.end();
      const s = Math.round((Date.now() - cu.since) / 100) / 10;
      this.h.log(
        this.c.green(`caught up at height ${height} (${height - cu.fromHeight} blocks in ${s} s)${this.h.mining() ? '; mining' : ''}`),
      );
      this.h.resume();
    }
  }

  private enter(height: number, shown: number): void {
    this.h.log(this.c.yellow(`catching up: height ${height} of ${shown}; mining waits until caught up`));
    const bar = this.h.progressBar
      ? new cliProgress.SingleBar(
          { format: 'catching up |{bar}| {value}/{total} blocks', stream: process.stderr, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(shown, height);
    this.progress = { since: Date.now(), fromHeight: height, lastLineHeight: height, progressAt: Date.now(), progressHeight: height, bar };
    this.h.pause();
  }

  private report(cu: Progress, height: number, shown: number): void {
    if (height !== cu.progressHeight) {
      cu.progressHeight = height;
      cu.progressAt = Date.now();
    }
    if (cu.bar) {
      cu.bar.setTotal(shown);
      cu.bar.update(height);
    } else if (height - cu.lastLineHeight >= CATCH_UP_LINE_BLOCKS) {
      cu.lastLineHeight = height;
      this.h.log(`catching up: height ${height} of ${shown}`);
    }
  }

  /**
   * Catching up that makes no progress (headers whose blocks nobody serves) must not stop mining
   * for ever: after CATCH_UP_STALL_SECONDS the miner mines on its own tip again, and says why.
   */
  checkStall(): void {
    const cu = this.progress;
    if (!cu || Date.now() - cu.progressAt < CATCH_UP_STALL_SECONDS * 1000) return;
    this.end();
    const { chain } = this.h;
    this.h.log(
      this.c.yellow(
        `no progress catching up for ${CATCH_UP_STALL_SECONDS} s (tip ${chain.height}, best header ${chain.bestHeader().height}): mining on our tip`,
      ),
      'warn',
    );
    this.stallUntilHeader = chain.bestHeader().height;
    this.h.resume();
  }

  /** Leaves catching up (and takes the bar off the terminal). */
  end(): void {
    const bar = this.progress?.bar;
    this.progress = undefined;
    bar?.stop();
  }
}

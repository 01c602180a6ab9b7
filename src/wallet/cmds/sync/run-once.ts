// sync --once: catch up with the best work announced (after at least one status), rebroadcast
// pending payments once, print a summary and exit: 0 synced, 1 no miner heard or could not catch
// up, 130 interrupted.
import { hashToHex } from '../../../shared/core/bytes.js';
import { type CommandContext, CliError } from '../../../shared/node/cli/runner.js';
import { printJson, shortHash } from '../../terminal.js';
import { drainEvents, showProgress } from './follow.js';
import type { IncomingListener } from './incoming-listener.js';
import type { SyncPrinter } from './printer.js';
import type { Rebroadcaster } from './rebroadcaster.js';
import { type SyncSession, noMinerHint } from './session.js';
import { DEFAULT_ONCE_DEADLINE_SECONDS } from './options.js';

export type OnceEnd = 'synced' | 'timeout' | 'aborted';

/**
 * --once's deadline, in one place: 'timeout' after timeoutSeconds without a first status, and
 * then without progress (a long catch-up that keeps connecting blocks is not cut off half-way);
 * 'synced' as soon as a miner was heard and we have its work. check() is called on every event.
 */
export function onceDeadline(
  session: SyncSession,
  timeoutSeconds: number,
  signal: AbortSignal,
  deadlineSeconds = DEFAULT_ONCE_DEADLINE_SECONDS,
): { done: Promise<OnceEnd>; check: () => void; cancel: () => void } {
  let resolveEnd!: (e: OnceEnd) => void;
  const done = new Promise<OnceEnd>((r) => (resolveEnd = r));
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => resolveEnd('timeout'), timeoutSeconds * 1000);
  };
  let lastHeight = session.chain.height;
  const check = () => {
    if (session.heard && session.caughtUp()) resolveEnd('synced');
    else if (session.chain.height !== lastHeight) {
      lastHeight = session.chain.height;
      arm();
    }
  };
  const onAbort = () => resolveEnd('aborted');
  signal.addEventListener('abort', onAbort, { once: true });
  arm();
  // The hard deadline: however peers behave (a status forged every second), --once ends.
  const hard = setTimeout(() => resolveEnd('timeout'), deadlineSeconds * 1000);
  // A peer set aside can make us caught up without any new block or status: look every second.
  const poll = setInterval(check, 1000);
  void done.then(() => {
    clearTimeout(hard);
    clearInterval(poll);
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  });
  return { done, check, cancel: () => resolveEnd('aborted') };
}

export async function runOnce(
  ctx: CommandContext,
  session: SyncSession,
  printer: SyncPrinter,
  rebroadcaster: Rebroadcaster,
  listener: IncomingListener,
  deadline: { done: Promise<OnceEnd>; check: () => void },
  timeoutSeconds: number,
): Promise<number> {
  deadline.check();
  const finished = await deadline.done;
  const problem = session.lastProblem;
  await listener.stop();
  await session.stopNode();
  printer.detail(listener.summary(session.settings.transactionPort));
  drainEvents(session, printer);
  showProgress(session, printer);
  session.db.ensureIndex(session.pkhs());
  const rebroadcast = await rebroadcaster.run();
  printer.stopBar();
  const out = summary(session, printer, rebroadcast);
  printSummary(ctx, printer, out);
  if (finished === 'aborted') return 130;
  const s = session.settings;
  if (!session.heard) throw new CliError(`no miner heard on UDP port ${s.statusPort} within ${timeoutSeconds} s: ${noMinerHint(s)}`);
  if (!out.synced) {
    const b = session.best();
    const why = problem ? `; last problem: ${problem}` : '';
    throw new CliError(
      `could not catch up (no progress for ${timeoutSeconds} s): at height ${out.height}, best heard ${b?.status.height ?? '?'} from ${b ? `${b.address}:${b.port}` : '?'}${why}`,
    );
  }
  return 0;
}

function summary(session: SyncSession, printer: SyncPrinter, rebroadcast: number) {
  const { chain, db, node } = session;
  const b = session.best();
  const t = printer.tally;
  return {
    height: chain.height,
    tip: hashToHex(chain.tip.hash),
    blocks: chain.height - session.startHeight,
    bestHeard: b ? { height: b.status.height, miners: node.activePeers().length } : null,
    synced: session.heard && session.caughtUp(),
    pending: db.pendingPayments().length,
    rebroadcast,
    confirmed: t.confirmed,
    failed: t.failed,
    unconfirmed: t.unconfirmed,
    incomingPending: db.incomingPending().length,
    incomingHeard: t.incoming,
  };
}

function printSummary(ctx: CommandContext, printer: SyncPrinter, out: ReturnType<typeof summary>): void {
  if (ctx.json) return printJson(ctx, out);
  const { c } = printer;
  const miners = out.bestHeard?.miners ?? 0;
  const heardText = out.bestHeard
    ? `best heard height ${out.bestHeard.height} from ${miners} miner${miners === 1 ? '' : 's'}`
    : 'no miner heard';
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  ctx.io.out(
    `${out.synced ? c.green('synced') : c.yellow('not synced')}: height ${out.height} (tip ${shortHash(out.tip)}), ${plural(out.blocks, 'new block')}; ${heardText}`,
  );
  const back = out.unconfirmed.length ? `, ${out.unconfirmed.length} back to pending` : '';
  const incoming =
    out.incomingPending || out.incomingHeard.length
      ? `; incoming: ${out.incomingPending} pending (${out.incomingHeard.length} heard now)`
      : '';
  ctx.io.out(
    `payments: ${out.pending} pending${out.rebroadcast ? ` (rebroadcast)` : ''}, ${out.confirmed.length} confirmed now, ${out.failed.length} failed now${back}${incoming}`,
  );
}

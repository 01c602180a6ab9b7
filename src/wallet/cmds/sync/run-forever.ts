// sync without --once: follows the chain until Ctrl-C. Every transactionBroadcastIntervalSeconds
// it picks up new keys, prunes stale incoming payments, prints queued events and rebroadcasts
// pending payments. While it hears no miner it says so within a few status intervals, and again
// while that lasts: a classroom Wi-Fi that isolates clients looks exactly like this.
import type { CommandContext } from '../../../shared/node/cli/runner.js';
import { drainEvents, showProgress } from './follow.js';
import type { IncomingListener } from './incoming-listener.js';
import type { SyncPrinter } from './printer.js';
import type { Rebroadcaster } from './rebroadcaster.js';
import { type SyncSession, noMinerHint } from './session.js';

/** Status intervals without a miner before the first warning, and between repeats. */
export const NO_MINER_WARN_INTERVALS = 3;
export const NO_MINER_REPEAT_INTERVALS = 12;

export async function runForever(
  ctx: CommandContext,
  session: SyncSession,
  printer: SyncPrinter,
  rebroadcaster: Rebroadcaster,
  listener: IncomingListener,
): Promise<number> {
  const s = session.settings;
  const { chain, node } = session;
  const payments = node.listensForTransactions ? ` and for payments on UDP port ${s.transactionPort}` : '';
  printer.say(
    `syncing ${s.network} from height ${chain.height}; listening for miners on UDP port ${s.statusPort}${payments}; Ctrl-C to stop`,
    { event: 'start', height: chain.height, network: s.network },
  );
  const tick = ticker(session, printer, rebroadcaster);
  await tick();
  const timers = [setInterval(() => void tick(), s.transactionBroadcastIntervalSeconds * 1000), watchForMiners(session, printer)];
  try {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    for (const t of timers) clearInterval(t);
  }
  await listener.stop();
  await session.stopNode();
  printer.detail(listener.summary(s.transactionPort));
  drainEvents(session, printer);
  printer.stopBar();
  printer.say(`stopped at height ${chain.height}`, { event: 'stop', height: chain.height });
  return 0;
}

/** The periodic work; one run at a time (a slow rebroadcast is not overtaken by the next). */
function ticker(session: SyncSession, printer: SyncPrinter, rebroadcaster: Rebroadcaster): () => Promise<void> {
  let ticking = false;
  return async () => {
    if (ticking) return;
    ticking = true;
    try {
      const r = session.db.ensureIndex(session.pkhs());
      if (r.added || r.removed || r.rebuilt) {
        session.refreshNames();
        printer.say(`key set changed: coin index updated`, { event: 'rescan', added: r.added, removed: r.removed });
      }
      session.db.pruneIncoming();
      drainEvents(session, printer);
      showProgress(session, printer);
      await rebroadcaster.run();
    } catch (e) {
      printer.warn((e as Error).message);
    } finally {
      ticking = false;
    }
  };
}

/**
 * Warns when no miner has been heard for NO_MINER_WARN_INTERVALS status intervals, again every
 * NO_MINER_REPEAT_INTERVALS while that lasts, and says when miners are heard again.
 */
export function watchForMiners(session: SyncSession, printer: SyncPrinter): NodeJS.Timeout {
  const s = session.settings;
  const intervalMs = s.statusBroadcastIntervalSeconds * 1000;
  const startedAt = Date.now();
  let warnedAt = 0;
  return setInterval(() => {
    const now = Date.now();
    const active = session.node.activePeers();
    if (active.length) {
      if (warnedAt)
        printer.say(`hearing ${active.length} miner${active.length === 1 ? '' : 's'} again`, { event: 'miners', count: active.length });
      warnedAt = 0;
      return;
    }
    let lastHeard = startedAt;
    for (const p of session.node.peers.values()) lastHeard = Math.max(lastHeard, p.lastSeenMs);
    const silentMs = now - lastHeard;
    if (silentMs < NO_MINER_WARN_INTERVALS * intervalMs) return;
    if (warnedAt && now - warnedAt < NO_MINER_REPEAT_INTERVALS * intervalMs) return;
    const seconds = Math.round(silentMs / 100) / 10;
    printer.warn(`${warnedAt ? 'still no miner heard' : 'no miner heard'} for ${seconds} s on UDP port ${s.statusPort}: ${noMinerHint(s)}`);
    warnedAt = now;
  }, intervalMs);
}

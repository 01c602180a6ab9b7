// sync: follows the best chain. A ChainNode (no block server) over the wallet's LMDB chain store
// hears miners' status broadcasts, fetches headers then blocks from the one announcing the most
// work and validates them fully, reorganising as needed; the wallet's commit hook keeps coins,
// history and payment states in the same transactions. The same node listens on the transaction
// port: payments to our keys go through the same intake and mempool checks as a miner's, against our
// own chain, and are kept as incoming pending payments until mined (incoming-listener.ts). Pending payments are rebroadcast
// (rebroadcaster.ts). Runs until Ctrl-C (run-forever.ts), or with --once until caught up with the
// best chain heard (run-once.ts).
import { command } from '../../../shared/node/cli/command.js';
import { createWalletHint } from '../../datadir.js';
import { followChain } from './follow.js';
import { IncomingListener } from './incoming-listener.js';
import { SYNC_OPTIONS, parseSyncOptions } from './options.js';
import { SyncPrinter } from './printer.js';
import { Rebroadcaster } from './rebroadcaster.js';
import { runForever } from './run-forever.js';
import { onceDeadline, runOnce } from './run-once.js';
import { SyncSession } from './session.js';
import { drainEvents } from './follow.js';

export const sync = command({
  name: 'sync',
  readsDataDir: createWalletHint,
  describe: 'follow the best chain, track payments, rebroadcast pending ones and hear incoming ones (until Ctrl-C)',
  options: SYNC_OPTIONS,
  async handler(_args, given, ctx) {
    const opts = parseSyncOptions(given);
    const printer = new SyncPrinter(ctx, opts.once, opts.verbose);
    // The lock: one sync per data directory (other commands open the store shared; see db.ts).
    const session = SyncSession.open(
      ctx,
      (level, msg) => (level === 'warn' ? printer.warn(msg) : printer.detail(`${level}: ${msg}`)),
      opts.events,
    );
    try {
      const rescan = session.db.ensureIndex(session.pkhs());
      if (rescan.rebuilt) printer.say(`rebuilt the wallet index from the local chain`);
      else if (rescan.added) printer.say(`scanned the local chain for ${rescan.added} new key${rescan.added === 1 ? '' : 's'}`);
      session.db.pruneIncoming();
      const rebroadcaster = new Rebroadcaster(ctx.settings, session.db, printer, !opts.once);
      const listener = new IncomingListener(session, printer, () => drainEvents(session, printer));
      const deadline = opts.once ? onceDeadline(session, opts.timeoutSeconds, ctx.signal, opts.deadlineSeconds) : undefined;
      followChain(session, printer, { blockLines: !opts.once, after: () => deadline?.check() });
      try {
        await session.node.start('optional');
        if (!deadline) return await runForever(ctx, session, printer, rebroadcaster, listener);
        return await runOnce(ctx, session, printer, rebroadcaster, listener, deadline, opts.timeoutSeconds);
      } finally {
        deadline?.cancel();
        await listener.stop();
      }
    } finally {
      printer.stopBar();
      await session.close();
    }
  },
});

// Following the chain, for both run modes: the node's events become lines (a line per block
// unless far behind, where the progress bar stands in), the wallet's events are printed as they
// come, and a caller's check runs after each (--once's "are we done yet").
import { hashToHex } from '../../../shared/core/bytes.js';
import { shortHash } from '../../terminal.js';
import type { SyncPrinter } from './printer.js';
import type { SyncSession } from './session.js';

/** The peer table is looked at on a status at most this often. */
const STATUS_LOOK_MS = 100;

/** Prints what the wallet's commit hook has queued (confirmations, incoming payments, ...). */
export function drainEvents(session: SyncSession, printer: SyncPrinter): void {
  printer.events(session.db.events.splice(0), (pkhs) => session.who(pkhs));
}

export function showProgress(session: SyncSession, printer: SyncPrinter): void {
  printer.progress(session.chain.height, session.best()?.status.height, session.farBehind());
}

/** Wires the node's events; `after` runs after each one. */
export function followChain(session: SyncSession, printer: SyncPrinter, o: { blockLines: boolean; after: () => void }): void {
  const n = session.node;
  let lookedAt = 0;
  n.on('status', () => {
    session.heard = true;
    // A flood of statuses (forged ones, from hundreds of addresses) must not cost a look at the
    // whole peer table each: at most every STATUS_LOOK_MS (--once also looks every second).
    if (Date.now() - lookedAt < STATUS_LOOK_MS) return;
    lookedAt = Date.now();
    session.saveBest();
    showProgress(session, printer);
    o.after();
  });
  n.on('update', (u) => {
    if (o.blockLines && !session.farBehind()) {
      if (u.disconnected.length)
        printer.say(`reorganisation: ${u.disconnected.length} block(s) replaced`, { event: 'reorg', disconnected: u.disconnected.length });
      for (const x of u.connected) {
        const hash = hashToHex(x.entry.hash);
        printer.say(`block ${x.entry.height} ${shortHash(hash)} (${x.block.txs.length} tx)`, {
          event: 'block',
          height: x.entry.height,
          hash,
        });
      }
    }
    drainEvents(session, printer);
    showProgress(session, printer);
    o.after();
  });
  n.on('synced', () => o.after());
}

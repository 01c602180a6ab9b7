// Pending payments are sent again on the transaction port until mined (a miner that was down, or
// a datagram lost on Wi-Fi, must not lose a payment): the loop every
// transactionBroadcastIntervalSeconds, --once once at the end.
import { MsgType } from '../../../shared/node/net/protocol.js';
import { sendOnce } from '../../../shared/node/net/udp.js';
import type { Settings } from '../../../shared/node/cli/config.js';
import type { WalletDb } from '../../db/index.js';
import { txDestinations } from '../send.js';
import type { SyncPrinter } from './printer.js';

export class Rebroadcaster {
  private readonly announced = new Set<string>();
  private failures = 0;

  constructor(
    private readonly settings: Settings,
    private readonly db: WalletDb,
    private readonly printer: SyncPrinter,
    /** Name each payment the first time it is sent (the loop; --once only counts). */
    private readonly announce: boolean,
  ) {}

  /** Sends every pending payment once; returns how many there were. */
  async run(): Promise<number> {
    const s = this.settings;
    const pending = this.db.pendingPayments();
    for (const p of pending) {
      if (!this.announced.has(p.txid)) {
        this.announced.add(p.txid);
        if (this.announce) this.printer.say(`broadcasting pending payment ${p.txid}`, { event: 'broadcast', txid: p.txid });
      }
      try {
        await sendOnce(s.params, MsgType.Tx, Buffer.from(p.raw, 'hex'), s.transactionPort, txDestinations(s));
      } catch (e) {
        if (this.failures++ === 0) this.printer.warn(`broadcast failed: ${(e as Error).message}`);
      }
    }
    return pending.length;
  }
}

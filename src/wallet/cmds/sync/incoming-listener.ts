// Incoming payments: every transaction the ChainNode hears on the transaction port is checked
// against our own chain (incoming.ts: pays one of our keys, valid, relayable); those that pass
// are kept as incoming pending payments until mined. A transaction that failed is not checked
// again (no signature work) until the tip moves. Everything heard is counted, for --verbose.
import { hashToHex } from '../../../shared/core/bytes.js';
import { type Tx, decodeTx, txid } from '../../../shared/core/tx.js';
import { examineIncoming } from '../../incoming.js';
import type { SyncPrinter } from './printer.js';
import type { SyncSession } from './session.js';

/** Failed txids remembered at most (then forgotten all at once: a flood costs memory only up to here). */
const MAX_REJECTED_REMEMBERED = 10_000;

export class IncomingListener {
  readonly heard = { frames: 0, undecodable: 0, notOurs: 0, known: 0, invalid: 0, conflicting: 0, recorded: 0 };
  /** txid -> tip (hex) at which it failed. */
  private readonly rejectedAt = new Map<string, string>();
  private readonly listener = (payload: Uint8Array) => this.onTx(payload);

  constructor(
    private readonly session: SyncSession,
    private readonly printer: SyncPrinter,
    /** Called when a payment was recorded (its event is waiting in the wallet's queue). */
    private readonly onRecorded: () => void,
  ) {
    session.node.on('tx', this.listener);
  }

  stop(): void {
    this.session.node.off('tx', this.listener);
  }

  private onTx(payload: Uint8Array): void {
    this.heard.frames++;
    let tx: Tx;
    try {
      tx = decodeTx(payload);
    } catch {
      this.heard.undecodable++;
      this.session.node.dropTransaction('payload');
      return;
    }
    try {
      this.examine(tx);
    } catch (e) {
      this.printer.warn(`incoming transaction: ${(e as Error).message}`);
    }
  }

  private examine(tx: Tx): void {
    const { chain, db, settings: s } = this.session;
    const tip = chain.tip;
    const id = hashToHex(txid(tx));
    if (this.rejectedAt.get(id) === tip.hashHex) return;
    const ex = examineIncoming(db, tx, {
      params: s.params,
      view: this.session.store,
      tipHeight: tip.height,
      medianTimePast: chain.medianTimePast(tip),
      minRelayFeeRate: s.minRelayFeeRate,
      keyset: new Set(db.keyset()),
      now: Date.now(),
    });
    if (ex.kind === 'not-ours') return void this.heard.notOurs++;
    if (ex.kind === 'known') return void this.heard.known++;
    let reason: string;
    let pays: readonly string[];
    if (ex.kind === 'valid') {
      const r = db.putIncoming(ex.record);
      if (r.stored) {
        this.heard.recorded++;
        this.onRecorded();
        return;
      }
      this.heard.conflicting++;
      reason = r.reason;
      pays = ex.record.toPkhs;
    } else {
      this.heard.invalid++;
      reason = ex.reason;
      pays = ex.pkhs;
    }
    if (this.rejectedAt.size >= MAX_REJECTED_REMEMBERED) this.rejectedAt.clear();
    this.rejectedAt.set(id, tip.hashHex);
    this.printer.detail(`ignored transaction ${id} paying ${this.session.who(pays)}: ${reason}`);
  }

  /** One line of counts (--verbose). */
  summary(port: number): string {
    const d = this.heard;
    return `transaction port ${port}: ${d.frames} transaction(s) heard, ${d.undecodable} undecodable, ${d.notOurs} not ours, ${d.known} known, ${d.invalid} invalid, ${d.conflicting} conflicting, ${d.recorded} incoming recorded`;
  }
}

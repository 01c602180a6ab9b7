// Incoming payments: every transaction the ChainNode hears on the transaction port goes through
// the node layer's TxIntake into a mempool of our own, the same checks as a miner's against our
// own chain (see incoming.ts): the wallet's screen first (pays one of our keys, not ours already),
// then the pool's cheap checks, then the signatures. Those the pool takes are kept as incoming
// pending payments until mined. A refused txid is not checked again (no signature work) until the
// tip moves: the pool's recent rejects, the one such filter. Everything heard is counted, for
// --verbose; each refusal is printed once (--verbose).
import type { ChainUpdate } from '../../../shared/core/chain.js';
import type { Tx } from '../../../shared/core/tx.js';
import { type RejectedVerdict, type TxVerdict, TxIntake } from '../../../shared/node/mempool/intake.js';
import { Mempool } from '../../../shared/node/mempool/pool.js';
import { incomingRecord, paidKeys, screenIncoming } from '../../incoming.js';
import type { SyncPrinter } from './printer.js';
import type { SyncSession } from './session.js';

export class IncomingListener {
  readonly heard = { frames: 0, undecodable: 0, notOurs: 0, known: 0, invalid: 0, conflicting: 0, dropped: 0, recorded: 0 };
  /** Payments to us that a miner would take: only confirmed coins spent (a child waits for its parent's block). */
  readonly mempool: Mempool;
  readonly intake: TxIntake;
  private readonly onFrame = (payload: Uint8Array, from: { address: string }) => {
    this.heard.frames++;
    this.intake.offer(payload, from.address);
  };
  private readonly onUpdate = (u: ChainUpdate) => void this.mempool.update(u);

  constructor(
    private readonly session: SyncSession,
    private readonly printer: SyncPrinter,
    /** Called when a payment was recorded (its event is waiting in the wallet's queue). */
    private readonly onRecorded: () => void,
  ) {
    const s = session.settings;
    this.mempool = new Mempool(session.chain, {
      minRelayFeeRate: s.minRelayFeeRate,
      maxBytes: s.mempoolMaxBytes,
      confirmedInputsOnly: true,
    });
    this.intake = new TxIntake({
      mempool: this.mempool,
      screen: (tx) => {
        const r = screenIncoming(session.db, tx, this.keyset());
        return r.kind === 'not-ours' ? 'ignore' : r.kind === 'known' ? 'known' : undefined;
      },
      log: (_line, v) => this.printRefusal(v),
      warn: (line) => printer.warn(`incoming transaction: ${line}`),
    });
    this.intake.on('verdict', (v) => this.onVerdict(v));
    session.node.on('tx', this.onFrame);
    session.node.on('update', this.onUpdate);
  }

  /** Stops listening; waits for a payment whose signatures are being checked. */
  async stop(): Promise<void> {
    this.session.node.off('tx', this.onFrame);
    this.session.node.off('update', this.onUpdate);
    await this.intake.stop();
  }

  private keyset(): ReadonlySet<string> {
    return new Set(this.session.db.keyset());
  }

  private onVerdict(v: TxVerdict): void {
    const d = this.heard;
    switch (v.kind) {
      case 'undecodable':
        d.undecodable++;
        return this.session.node.dropTransaction('payload');
      case 'ignored':
        return void d.notOurs++;
      case 'known':
        return void d.known++;
      case 'dropped':
        return void d.dropped++;
      case 'rejected':
        if (v.error.code === 'txn-mempool-conflict') d.conflicting++;
        else d.invalid++;
        return;
      case 'failed':
        return this.printer.warn(`incoming transaction ${v.txid}: ${v.error.message}`);
      case 'accepted':
        return this.record(v.tx, v.txid, v.entry.fee);
    }
  }

  /** A payment our pool took: kept in the wallet (unless it conflicts with a payment of ours). */
  private record(tx: Tx, id: string, fee: bigint): void {
    const { db, settings: s } = this.session;
    const rec = incomingRecord(tx, fee, { params: s.params, view: this.session.store, keyset: this.keyset(), now: Date.now() });
    const r = rec ? db.putIncoming(rec) : { stored: false as const, reason: 'an input is not in our chain' };
    if (r.stored) {
      this.heard.recorded++;
      this.onRecorded();
      return;
    }
    this.heard.conflicting++;
    this.printer.detail(`ignored transaction ${id} paying ${this.session.who(paidKeys(tx, this.keyset()))}: ${r.reason}`);
  }

  private printRefusal(v: RejectedVerdict): void {
    this.printer.detail(`ignored transaction ${v.txid} paying ${this.session.who(paidKeys(v.tx, this.keyset()))}: ${v.error.message}`);
  }

  /** One line of counts (--verbose). */
  summary(port: number): string {
    const d = this.heard;
    return `transaction port ${port}: ${d.frames} transaction(s) heard, ${d.undecodable} undecodable, ${d.notOurs} not ours, ${d.known} known, ${d.invalid} invalid, ${d.conflicting} conflicting, ${d.recorded} incoming recorded, ${d.dropped} dropped (queue full)`;
  }
}

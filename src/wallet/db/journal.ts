// The payment journal: every payment `send` stores is also appended, fsynced, to a JSON-lines file
// beside the chain store (DATADIR/payments.ndjson), so that `resync` can keep payments when the
// store itself is damaged and has to be rebuilt. Only `send` appends; readers skip a torn line.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PaymentRecord } from './records.js';

/** The payment journal of a chain store directory (DATADIR/chain -> DATADIR/payments.ndjson). */
export function paymentJournalPath(chainStoreDir: string): string {
  return join(dirname(chainStoreDir), 'payments.ndjson');
}

/**
 * Payments in the journal, the last line for a txid winning; lines that do not parse (a write
 * cut short by a crash) are skipped. Bounded by the file, which only `send` appends to.
 */
export function readPaymentJournal(chainStoreDir: string): PaymentRecord[] {
  let text: string;
  try {
    text = readFileSync(paymentJournalPath(chainStoreDir), 'utf8');
  } catch {
    return [];
  }
  const byId = new Map<string, PaymentRecord>();
  for (const line of text.split('\n')) {
    try {
      const p = JSON.parse(line) as PaymentRecord;
      if (typeof p?.txid === 'string' && typeof p.raw === 'string' && Array.isArray(p.inputs)) byId.set(p.txid, p);
    } catch {
      /* a torn last line */
    }
  }
  return [...byId.values()];
}

/** Appends one payment as a JSON line and fsyncs it. */
export function appendPaymentJournal(chainStoreDir: string, p: PaymentRecord): void {
  const fd = openSync(paymentJournalPath(chainStoreDir), 'a', 0o600);
  try {
    writeSync(fd, JSON.stringify(p) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

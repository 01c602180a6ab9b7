// Unconfirmed transactions a datadir knows: an explorer's persisted mempool view, a wallet's
// pending and incoming payments. A miner keeps its mempool in memory only.
import { fromHex } from '../../../shared/core/bytes.js';
import { type Tx, decodeTx } from '../../../shared/core/tx.js';
import { type IncomingRecord, type PaymentRecord, type PersistedMempoolTx, openAppDb } from '../../../shared/node/store/schema.js';
import type { OpenDatadir } from './datadir.js';

export interface PooledTx {
  readonly txid: string;
  readonly tx: Tx;
  readonly fee: bigint;
  readonly size: number;
  readonly seenAt: number;
  /** Which record it came from. */
  readonly source: 'explorer mempool' | 'wallet payment' | 'wallet incoming';
}

/** What is read of the three databases' records (schema.ts); checked before use, since the file may be damaged. */
type Stored = Pick<PersistedMempoolTx, 'raw' | 'fee' | 'size'> &
  Partial<Pick<PaymentRecord, 'txid' | 'status' | 'createdAt'> & Pick<IncomingRecord, 'seenAt'>>;

/** The databases whose records hold unconfirmed transactions. */
type PoolDb = 'explorer-mempool' | 'wallet-payments' | 'wallet-incoming';

/** At most this many records are read from each database. */
const MAX_RECORDS = 10_000;

export function pooledTxs(d: OpenDatadir): PooledTx[] {
  const out: PooledTx[] = [];
  const read = (db: PoolDb, source: PooledTx['source'], keep: (v: Stored) => boolean) => {
    let n = 0;
    for (const { key, value: record } of openAppDb(d.store, db).getRange()) {
      const value: Stored | undefined = record;
      if (++n > MAX_RECORDS) break;
      if (!value || typeof value.raw !== 'string' || !keep(value)) continue;
      try {
        out.push({
          txid: value.txid ?? key,
          tx: decodeTx(fromHex(value.raw)),
          fee: BigInt(value.fee),
          size: value.size,
          seenAt: value.seenAt ?? value.createdAt ?? 0,
          source,
        });
      } catch {
        /* a damaged record: skipped */
      }
    }
  };
  read('explorer-mempool', 'explorer mempool', () => true);
  read('wallet-payments', 'wallet payment', (v) => v.status === 'pending');
  read('wallet-incoming', 'wallet incoming', () => true);
  return out;
}

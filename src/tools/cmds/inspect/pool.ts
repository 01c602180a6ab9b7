// Unconfirmed transactions a datadir knows: an explorer's persisted mempool view, a wallet's
// pending and incoming payments. A miner keeps its mempool in memory only.
import { fromHex } from '../../../shared/core/bytes.js';
import { type Tx, decodeTx } from '../../../shared/core/tx.js';
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

interface Stored {
  readonly txid?: string;
  readonly raw: string;
  readonly fee: string;
  readonly size: number;
  readonly status?: string;
  readonly seenAt?: number;
  readonly createdAt?: number;
}

/** At most this many records are read from each database. */
const MAX_RECORDS = 10_000;

export function pooledTxs(d: OpenDatadir): PooledTx[] {
  const out: PooledTx[] = [];
  const read = (db: string, source: PooledTx['source'], keep: (v: Stored) => boolean) => {
    let n = 0;
    for (const { key, value } of d.store.openJson<Stored>(db).getRange()) {
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

// Run as a child process by `mvb-wallet resync`: reads what payments it can from a damaged
// chain store and prints them as one JSON line. A child, because the native LMDB library may
// crash on a damaged file rather than fail; the parent then only loses this best effort.
import { WalletDb } from './db/index.js';

const dir = process.argv[2];
const out: unknown[] = [];
if (dir) {
  try {
    const db = WalletDb.openShared(dir);
    try {
      for (const p of db.allPayments()) out.push(p);
    } finally {
      db.close();
    }
  } catch {
    /* nothing more to save */
  }
}
process.stdout.write(JSON.stringify(out) + '\n');

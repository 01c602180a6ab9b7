// resync: rebuilds a damaged chain store from the network. The keys (DATADIR/keys) are separate
// files and stay as they are; payments are kept from the payment journal (DATADIR/payments.ndjson,
// which `send` appends to) and from whatever of the old store can still be read (in a child
// process: a damaged file may crash the native library). The old store is moved aside, not
// deleted; the payments go into a fresh store as pending, and a `sync --once` then follows the
// best chain from genesis, confirming those that were mined and rebroadcasting the rest.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, command, stringOption } from '../../shared/node/cli/command.js';
import { LmdbChainStore } from '../../shared/node/store/lmdb-store.js';
import { type PaymentRecord, WalletDb, readPaymentJournal } from '../db/index.js';
import { chainDir, runningSyncPid } from '../datadir.js';
import { sync } from './sync/index.js';

/** How long the child reading the old store may take. */
const SALVAGE_TIMEOUT_MS = 30_000;

function salvageFromStore(dir: string): PaymentRecord[] {
  const child = fileURLToPath(new URL('../salvage-child.js', import.meta.url));
  const r = spawnSync(process.execPath, [child, dir], {
    encoding: 'utf8',
    timeout: SALVAGE_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024,
  });
  try {
    const v = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as PaymentRecord[];
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export const resync = command({
  name: 'resync',
  describe: 'rebuild a damaged chain store from the network, keeping keys and payments',
  options: {
    timeout: stringOption('--timeout <seconds>', 'give up after this long without hearing a miner, or without progress', '10'),
    deadline: stringOption('--deadline <seconds>', 'stop after this long in all', '300'),
  },
  async handler(_args, opts, ctx) {
    const dir = chainDir(ctx.datadir);
    const running = runningSyncPid(ctx.datadir);
    if (running) throw new CliError(`a sync (pid ${running}) is using ${ctx.datadir}: stop it first`);
    const byId = new Map<string, PaymentRecord>();
    for (const p of readPaymentJournal(dir)) byId.set(p.txid, p);
    if (existsSync(dir)) for (const p of salvageFromStore(dir)) byId.set(p.txid, p);
    let aside: string | undefined;
    if (existsSync(dir)) {
      aside = `${dir}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dir, aside);
    }
    const db = new WalletDb(new LmdbChainStore(dir, 'mvb-wallet resync'));
    try {
      db.write(() => {
        for (const p of byId.values()) {
          const { block: _b, failure: _f, ...rest } = p;
          db.putPayment({ ...rest, status: 'pending' });
        }
      });
    } finally {
      db.close();
    }
    ctx.io.err(
      `${aside ? `moved the old chain store to ${aside}; ` : ''}kept ${byId.size} payment(s) and every key; rebuilding from the network`,
    );
    return sync.handler([], { once: true, timeout: opts.timeout, deadline: opts.deadline, verbose: false, events: undefined }, ctx);
  },
});

// `mvb verify <datadir>` reads the network the data directory remembers (as --datadir would), and
// is read-only: it never creates a store, nor writes another network's genesis into an empty one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { Chain } from '../src/shared/core/chain.js';
import { loadSettings } from '../src/shared/node/cli/config.js';
import { MVB_BIN, WALLET_BIN, removeDir, runNode, tempDir } from './kit/procs.js';

const LOOPBACK = ['--set', 'broadcastAddress=127.255.255.255'];
const run = (bin: string, args: string[]) => runNode([bin, ...args], 30_000);

describe('mvb verify <datadir>', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('verify-datadir');
  });
  afterEach(() => removeDir(dir));

  it('a missing store is named, not created', () => {
    const r = run(MVB_BIN, ['verify', join(dir, 'nothing')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: no chain store in .*nothing\/chain \(a misspelt data directory\?\)\n$/);
  });

  it("a devnet wallet's datadir is verified as devnet without --network, and stays a devnet wallet", () => {
    const w = join(dir, 'w');
    assert.equal(run(WALLET_BIN, ['--datadir', w, '--network', 'devnet', ...LOOPBACK, 'new-address', 'alice']).code, 0);
    const empty = run(MVB_BIN, ['verify', w]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /no blocks stored yet, nothing to verify/);
    // A devnet chain in the store (what a sync leaves), then verify without --network.
    const store = new LmdbChainStore(join(w, 'chain'), 'test');
    try {
      new Chain(loadSettings({ network: 'devnet' }).params, store);
    } finally {
      store.close();
    }
    const ok = run(MVB_BIN, ['verify', w]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /consistent\n$/);
    const other = run(MVB_BIN, ['verify', w, '--network', 'lan']);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /belongs to network devnet, not lan: use --network devnet/);
    const list = run(WALLET_BIN, ['--datadir', w, ...LOOPBACK, 'list-addresses', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.match((JSON.parse(list.stdout) as { address: string }[])[0]!.address, /^D/);
  });
});

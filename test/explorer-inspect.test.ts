// The inspect commands (mvb block, tx, chain, mempool) read an explorer's datadir while it runs
// (shared LMDB open), on a chain with a stale branch; and `mvb explorer` as a process prints its
// URL, serves, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import { encodeTx, txid } from '../src/shared/core/tx.js';
import { runCli } from '../src/shared/node/cli/runner.js';
import { mvbCommands } from '../src/tools/commands.js';
import { alice, bob, carol, coinbaseCoin, transfer } from './kit/blockgen.js';
import { type RunningExplorer, get, startExplorer, waitHeight } from './kit/explorer.js';
import { MVB_BIN, removeDir, setArgs, tempDir, waitFor } from './kit/procs.js';
import { Capture, TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';

describe('inspect commands on an explorer datadir, and mvb explorer as a process', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let sets: Record<string, unknown>;
  let payId: string;
  let staleHash: string;

  const mvb = async (args: string[]) => {
    const cap = new Capture();
    const code = await runCli(
      'mvb',
      mvbCommands,
      [args[0]!, '--datadir', dirname(run.ex.store.dir), '--network', 'devnet', ...setArgs(sets), ...args.slice(1)],
      { app: 'tool', io: cap.io, env: {} },
    );
    return { code, out: cap.out, err: cap.err };
  };

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    const a = miner.mine(6, alice.pkh);
    await waitHeight(run.ex, 6);
    staleHash = hashToHex(miner.chain.atHeight(6)!.hash);
    miner.mine(2, carol.pkh, { parent: miner.chain.atHeight(5)! }); // a reorganisation: block 6 of branch A goes stale
    await waitHeight(run.ex, 7);
    const pay = transfer(coinbaseCoin(a[0]!), bob, 1500n);
    payId = hashToHex(txid(pay));
    assert.equal((await get(run.url, '/api/tx', { method: 'POST', body: toHex(encodeTx(pay)) })).status, 200);
  });
  after(async () => {
    await run?.stop();
    await miner?.stop();
  });

  it('mvb chain draws the best chain and the stale branch; --json lists both', async () => {
    const r = await mvb(['chain', '--last', '4']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0]!, /^height +best chain +stale branches/);
    assert.match(
      lines.find((l) => /^ +6 /.test(l))!,
      /● \S+ 1 tx .*○ \S+ 1 tx .*┘5/,
    );
    assert.equal(lines.filter((l) => /^ +\d+ /.test(l)).length, 4);
    const j = JSON.parse((await mvb(['chain', '--json', '--last', '3'])).out);
    assert.equal(j.height, 7);
    assert.match(r.out, /reorganisations \(newest first\):\n .*fork at 5, 1 block\(s\) left the best chain, 2 came/);
    assert.equal(j.blocks.filter((b: any) => !b.active).length, 1);
    assert.equal((await mvb(['chain', '--last', '0'])).code, 2);
  });

  it('mvb block shows the header fields and transactions, by height and by hash', async () => {
    const r = await mvb(['block', '6']);
    assert.equal(r.code, 0, r.err);
    for (const f of ['version', 'prevHash', 'merkleRoot', 'time', 'bits', 'nonce'])
      assert.match(r.out, new RegExp(`^ +\\d+-\\d+ +${f} `, 'm'));
    const j = JSON.parse((await mvb(['block', staleHash, '--json'])).out);
    assert.equal(j.inBestChain, false);
    assert.equal(j.fields[5].name, 'nonce');
    const bad = await mvb(['block', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /neither a height nor/);
  });

  it('mvb tx annotates bytes and the sighash; mvb mempool lists the explorer’s pool', async () => {
    const cb = hashToHex(txid(miner.chain.getBlock(miner.chain.atHeight(1)!.hash)!.txs[0]!));
    const c = await mvb(['tx', cb]);
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /confirmed in block 1/);
    assert.match(c.out, /vin\[0\]\.scriptSig\.coinbase/);
    const pr = await mvb(['tx', payId, '--json']);
    assert.equal(pr.code, 0, pr.err);
    const p = JSON.parse(pr.out);
    assert.equal(p.confirmed, false);
    assert.equal(p.fee, '1500');
    assert.ok(p.fields.some((f: any) => f.name === 'vin[0].scriptSig.sig.der.s'));
    assert.equal(p.sighash[0].preimage.length > 0, true);
    const m = await mvb(['mempool']);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, new RegExp(`${payId} .* explorer mempool`));
    assert.equal(JSON.parse((await mvb(['mempool', '--json'])).out).count, 1);
    const none = await mvb(['tx', 'ab'.repeat(32)]);
    assert.equal(none.code, 1);
    assert.match(none.err, /not in this datadir/);
  });

  it('mvb explorer prints its URL, serves the API and stops cleanly on SIGTERM', async () => {
    const dir = tempDir('mvb-explorer');
    const s = await testNetSets();
    const child = spawn(
      process.execPath,
      [MVB_BIN, 'explorer', '--http', '127.0.0.1:0', '--datadir', dir, '--network', 'devnet', ...setArgs(s)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      const url = await waitFor(
        () => /explorer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1],
        20_000,
        () => out,
        exited,
      );
      assert.equal((await get(url, 'api/blocks/tip/height')).text, '0');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      assert.match(out, /stopping explorer at height 0/);
    } finally {
      child.kill('SIGKILL');
      removeDir(dir);
    }
  });
});

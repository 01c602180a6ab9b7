// The `mvb` tools as a user runs them: `npm run demo`'s command, `mvb devnet start|status|stop`,
// `mvb simulate` with the shipped scenarios and with invalid ones. Real processes on loopback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MVB_BIN, ROOT, WALLET_BIN, removeDir, runNode, tempDir, waitFor, waitForAsync } from './kit/procs.js';
import { track, trackDevnet, untrackDevnet } from './kit/processes.js';

/** PIDs of running processes whose command line mentions text (to check nothing was left behind). */
function procsMentioning(text: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

const run = runNode;

/**
 * Issue 19.7: alice's last printed balance equals the rewards of the blocks the demo printed as
 * miner-1's (the last block printed at each height, up to the row's height) minus what she paid,
 * amount and fee (her pending row while the payment waited).
 */
function assertDemoBalancesAddUp(out: string): void {
  const subsidy = Number(/Each block pays its miner ([\d.]+) coins/.exec(out)![1]);
  const byHeight = new Map<number, string>();
  for (const m of out.matchAll(/^ +block +(\d+) +[0-9a-f]{24}… +mined by (\S+)/gm)) byHeight.set(Number(m[1]), m[2]!);
  const rows = [...out.matchAll(/^ +alice +\S+ +balance +([\d.]+) +pending +(\S+) +at height (\d+)/gm)];
  assert.ok(rows.length >= 2 && byHeight.size > 0, `rows ${rows.length}, blocks ${byHeight.size}`);
  const paid = -Math.min(...rows.map((m) => Number(m[2])));
  const last = rows.at(-1)!;
  const height = Number(last[3]);
  const minedByAlice = [...byHeight].filter(([h, who]) => h <= height && who === 'miner-1').length;
  // Miner-1's coinbase also collects the fees of the block it mined with the payment in it.
  const confirmedAt = Number(/confirmed in block (\d+) /.exec(out)![1]);
  const feeBack =
    byHeight.get(confirmedAt) === 'miner-1' && confirmedAt <= height ? paid - Number(/alice pays bob ([\d.]+) coins/.exec(out)![1]) : 0;
  const expected = minedByAlice * subsidy - paid + feeBack;
  assert.ok(
    Math.abs(Number(last[1]) - expected) < 1e-8,
    `alice shows ${last[1]} at height ${height}: ${minedByAlice} blocks × ${subsidy} − ${paid} = ${expected}`,
  );
}

describe('mvb demo', function () {
  this.timeout(180_000);

  it('runs the whole story to a confirmed payment, exits 0 and leaves no process or folder behind', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = track(spawn(process.execPath, [MVB_BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1' }, cwd: ROOT }));
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0, r.out);
    const dir = /data in (\S+) \(removed/.exec(r.out)?.[1];
    assert.ok(dir, 'names its folder');
    assert.equal(existsSync(dir), false, 'folder removed');
    assert.deepEqual(procsMentioning(dir), [], 'no process left');
    const txid = /txid ([0-9a-f]{64})/.exec(r.out)?.[1];
    assert.ok(txid);
    assert.match(r.out, /confirmed in block \d+ [0-9a-f]{64}/);
    assert.match(r.out, new RegExp(`payment  ${txid}`), 'shows the block that carried it');
    const bobRows = [...r.out.matchAll(/bob +\S+ +balance +(\S+) +pending +(\S+)/g)];
    assert.equal(bobRows.at(-1)![1], '12.50000000', 'bob ends with the payment confirmed');
    // Issue 12: the pending step is shown in every run (the story pauses mining), tables whole.
    assert.ok(
      bobRows.some((m) => m[2] === '+12.50000000'),
      'bob was shown the payment pending',
    );
    assert.match(
      r.out,
      /alice +\S+ +balance +\S+ +pending +-12\.5\d+ +at height \d+[^\n]*\n +bob +\S+ +balance +\S+ +pending +\+12\.50000000 +at height \d+[^\n]*\n/,
      'the two rows together, nothing between them',
    );
    assertDemoBalancesAddUp(r.out);
    assert.doesNotMatch(r.out, /A miner was quick/);
    assert.match(r.out, /demo finished in [\d.]+ s/);
    assert.match(
      r.out.split('Step 1.')[0]!,
      /Watch it live in a browser: http:\/\/127\.0\.0\.1:\d+\//,
      'the explorer URL comes at the start',
    );
  });

  it('on Ctrl-C stops every process it started, removes its folder and says so', async () => {
    const child = track(spawn(process.execPath, [MVB_BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1' }, cwd: ROOT }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    await waitFor(
      () => /block +2 /.test(out),
      90_000,
      () => out,
    );
    const dir = /data in (\S+) \(removed/.exec(out)![1]!;
    assert.ok(procsMentioning(dir).length >= 2, 'miners were running');
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, out);
    assert.match(out, /interrupted \(Ctrl-C\)/);
    assert.equal(existsSync(dir), false);
    assert.deepEqual(procsMentioning(dir), []);
  });
});

describe('mvb devnet start --network classroom', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tempDir('classroom');
    trackDevnet(dir);
  });
  after(() => {
    run([MVB_BIN, 'devnet', 'stop', '--dir', dir]);
    untrackDevnet(dir);
    removeDir(dir);
  });

  it('runs the classroom preset: its own addresses, its own genesis, and the datadirs remember it', () => {
    const r = run([MVB_BIN, 'devnet', 'start', '--network', 'classroom', '--dir', dir, '--miners', '1', '--wallets', '1', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const st = JSON.parse(r.stdout) as { network: string; nodes: { name: string; address?: string }[] };
    assert.equal(st.network, 'classroom');
    assert.match(st.nodes.find((n) => n.name === 'wallet-1')!.address!, /^C/, 'classroom addresses (version 28) start with C');
    const w = run([WALLET_BIN, '--datadir', join(dir, 'wallet-1'), 'list-addresses', '--json']);
    assert.equal(w.code, 0, w.stderr);
    assert.match((JSON.parse(w.stdout) as { address: string }[])[0]!.address, /^C/);
    const again = run([MVB_BIN, 'devnet', 'start', '--dir', dir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already running/);
  });
});

describe('mvb devnet and mvb simulate', function () {
  this.timeout(240_000);
  let dir: string;

  before(() => {
    dir = tempDir('devnet');
    trackDevnet(dir);
  });
  after(() => {
    // Stop whatever the test started, if an assertion failed first.
    run([MVB_BIN, 'devnet', 'stop', '--dir', dir]);
    untrackDevnet(dir);
    removeDir(dir);
  });

  it('start brings up miners and wallets reachable by --datadir alone; status reports them', async () => {
    const r = run([MVB_BIN, 'devnet', 'start', '--dir', dir, '--miners', '2', '--wallets', '2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /started miner-1 \(pid \d+\)/);
    assert.match(r.stdout, /mvb-wallet --datadir \S+wallet-2 list-addresses/);
    const explorerUrl = /explorer: open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(r.stdout)?.[1];
    assert.ok(explorerUrl, r.stdout);
    const again = run([MVB_BIN, 'devnet', 'start', '--dir', dir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already running/);
    // Wait for matured rewards in wallet-1 (miner-1 pays it): the wallet's own sync follows the chain.
    await waitFor(
      () => {
        const w = run([WALLET_BIN, '--datadir', join(dir, 'wallet-1'), 'list-addresses', '--json']);
        return w.code === 0 && Number((JSON.parse(w.stdout) as { balance: string }[])[0]!.balance) >= 300 ? true : undefined;
      },
      90_000,
      () => 'wallet-1 got no rewards',
    );
    type Row = { name: string; running: boolean; height?: number };
    const status = (): Row[] => {
      const st = run([MVB_BIN, 'devnet', 'status', '--dir', dir, '--json']);
      assert.equal(st.code, 0, st.stderr);
      return JSON.parse(st.stdout) as Row[];
    };
    const rows = status();
    assert.deepEqual(rows.map((x) => x.name).sort(), ['explorer', 'miner-1', 'miner-2', 'wallet-1', 'wallet-2']);
    assert.ok(rows.every((x) => x.running));
    // Both miners follow the chain wallet-1's rewards are on (one may still be fetching the last blocks).
    let last = rows;
    await waitFor(
      () => (last = status()).filter((x) => x.name.startsWith('miner')).every((x) => (x.height ?? 0) > 5) || undefined,
      30_000,
      () => `miner heights: ${JSON.stringify(last)}`,
    );
    // The explorer the devnet started follows the same chain.
    const height = await waitForAsync(
      async () => {
        const h = Number(await (await fetch(`${explorerUrl}api/blocks/tip/height`)).text());
        return h > 5 ? h : undefined;
      },
      20_000,
      () => "explorer did not reach the miners' height",
    );
    assert.ok(height > 5);
  });

  it('fund pays a devnet wallet from the mined rewards of another; a wrong wallet name is named', async () => {
    const r = run([MVB_BIN, 'devnet', 'fund', 'wallet-2', '7.5', '--dir', dir, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const f = JSON.parse(r.stdout) as { txid: string; from: string };
    assert.match(f.txid, /^[0-9a-f]{64}$/);
    assert.equal(f.from, 'wallet-1', 'wallet-1 holds the most spendable rewards (wallet-2 is the one funded)');
    await waitFor(
      () => {
        const w = run([WALLET_BIN, '--datadir', join(dir, 'wallet-1'), 'status', f.txid, '--json']);
        return w.code === 0 && (JSON.parse(w.stdout) as { status: string }).status === 'confirmed' ? true : undefined;
      },
      60_000,
      () => 'the funding payment did not confirm',
    );
    const bad = run([MVB_BIN, 'devnet', 'fund', 'wallet-9', '1', '--dir', dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /this devnet has no wallet-9 \(it has wallet-1, wallet-2\)/);
  });

  it('simulate runs both shipped scenarios to confirmation', () => {
    for (const f of ['sequential.json', 'concurrent.json']) {
      const r = run([MVB_BIN, 'simulate', join(ROOT, 'scenarios', f), '--dir', dir, '--json'], 180_000);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const { results, totals } = JSON.parse(r.stdout) as {
        results: { txid: string; status: string }[];
        totals: { confirmed: number; sent: number };
      };
      assert.equal(totals.confirmed, results.length, f);
      assert.equal(new Set(results.map((x) => x.txid)).size, results.length, 'distinct transactions');
    }
  });

  it('simulate refuses an invalid scenario naming the entry, and sends nothing', () => {
    const cases: [unknown, RegExp][] = [
      [
        {
          payments: [
            { from: 'wallet-1', to: 'wallet-2', amount: '1' },
            { from: 'wallet-1', to: 'wallet-2', amount: '1.123456789' },
          ],
        },
        /payments\[1\]\.amount/,
      ],
      [{ payments: [{ from: 'wallet-9', to: 'wallet-2', amount: '1' }] }, /payments\[0\]\.from: "wallet-9" is not a wallet/],
      [{ payments: [{ from: 'wallet-1', to: 'wallet-2', amount: '1', parallel: 'yes' }] }, /payments\[0\]\.parallel/],
      [{ payments: [] }, /bad\.json: payments: expected 1 to 10000 entries, got 0/],
    ];
    const before = run([WALLET_BIN, '--datadir', join(dir, 'wallet-1'), 'history', '--json']).stdout;
    for (const [scenario, why] of cases) {
      const f = join(dir, 'bad.json');
      writeFileSync(f, JSON.stringify(scenario));
      const r = run([MVB_BIN, 'simulate', f, '--dir', dir]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, why);
    }
    const after = run([WALLET_BIN, '--datadir', join(dir, 'wallet-1'), 'history', '--json']).stdout;
    assert.equal(
      (JSON.parse(after) as unknown[]).filter((x) => (x as { status: string }).status === 'pending').length,
      (JSON.parse(before) as unknown[]).filter((x) => (x as { status: string }).status === 'pending').length,
    );
  });

  it('stop ends exactly the processes it started', () => {
    const pidsBefore = procsMentioning(dir);
    assert.equal(pidsBefore.length, 5, 'two miners, two wallet syncs and the explorer');
    const r = run([MVB_BIN, 'devnet', 'stop', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stopped 5 process\(es\)/);
    assert.deepEqual(procsMentioning(dir), []);
    const st = JSON.parse(run([MVB_BIN, 'devnet', 'status', '--dir', dir, '--json']).stdout) as { running: boolean }[];
    assert.ok(st.every((x) => !x.running));
  });
});

// A class on one machine, end to end, with real processes on loopback (devnet rules, so blocks come
// in seconds): the teacher runs `mvb classroom start`; a student runs only the printed join line and
// then the printed miner line; the faucet's coins arrive in the student's wallet; a second student
// on the same computer is told politely that this computer was just given coins; the student pays
// the other and both see it confirmed; the explorer names the student on the blocks they mined;
// `mvb classroom stop` ends every process. (Students on their own hosts, with subnet broadcast:
// test/multihost-netns.test.ts.)
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AddressRow } from '../src/shared/node/json-rows.js';
import { track, trackDevnet, untrackDevnet } from './kit/processes.js';
import { MINER_BIN, MVB_BIN, WALLET_BIN, freePorts, removeDir, runNode, stopProc, tempDir, waitForAsync } from './kit/procs.js';

const getJson = async (url: string): Promise<unknown> => (await fetch(url, { signal: AbortSignal.timeout(5000) })).json();

describe('mvb classroom start, mvb-wallet join, the faucet and names on the blocks (loopback, devnet rules)', function () {
  this.timeout(240_000);
  let dir: string;
  let url = '';
  let miner: { child: ChildProcess; exited: Promise<number | null> } | undefined;
  const sets: string[] = [];

  before(async () => {
    dir = tempDir('classroom');
    const [statusPort, transactionPort, blockServerPort, http] = await freePorts(4);
    sets.push(
      '--set',
      `statusPort=${statusPort}`,
      '--set',
      `transactionPort=${transactionPort}`,
      '--set',
      `blockServerPort=${blockServerPort}`,
    );
    trackDevnet(join(dir, 'class'));
    const r = runNode([
      MVB_BIN,
      'classroom',
      'start',
      '--network',
      'devnet',
      '--dir',
      join(dir, 'class'),
      '--host',
      '127.0.0.1',
      '--http-port',
      String(http),
      ...sets,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const m = /students type: {2}mvb-wallet join (http:\/\/127\.0\.0\.1:\d+) --name <your name>/.exec(r.stdout);
    assert.ok(m, r.stdout);
    url = m[1]!;
  });
  after(async () => {
    if (miner) await stopProc(miner);
    const r = runNode([MVB_BIN, 'classroom', 'stop', '--dir', join(dir, 'class')]);
    untrackDevnet(join(dir, 'class'));
    assert.equal(r.code, 0, r.stderr);
    removeDir(dir);
  });

  const wallet = (who: string, ...args: string[]) => runNode([WALLET_BIN, '--datadir', join(dir, who, 'wallet'), ...args], 60_000);
  const rows = (who: string): AddressRow[] => {
    const r = wallet(who, 'sync', '--once', '--timeout', '20');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(wallet(who, 'list-addresses', '--json').stdout) as AddressRow[];
  };

  it('a student joins with one line, gets the faucet coins, mines under their name and pays a classmate', async () => {
    const page = (await getJson(`${url}/api/mvb/classroom`)) as { join: string; faucet: { address: string } };
    assert.equal(page.join, `mvb-wallet join ${url} --name <your name>`);
    assert.equal(((await getJson(`${url}/api/mvb/summary`)) as { classroom: boolean }).classroom, true, 'the page shows the join line');
    await waitForAsync(
      async () => ((await getJson(`${url}/api/mvb/faucet`)) as { spendable: string }).spendable !== '0.00000000',
      60_000,
      () => 'the faucet never had a mature coin',
    );
    const started = Date.now();
    const join1 = runNode([
      WALLET_BIN,
      '--datadir',
      join(dir, 'alice', 'wallet'),
      'join',
      url,
      '--name',
      'alice',
      '--miner-datadir',
      join(dir, 'alice', 'miner'),
    ]);
    assert.equal(join1.code, 0, join1.stderr);
    assert.match(join1.stdout, /the faucet sent you 10\.00000000 coins: transaction [0-9a-f]{64}/);
    const minerLine = /mine \(your name goes on your blocks\): mvb-miner (.*)$/m.exec(join1.stdout)![1]!.split(' ');
    await waitForAsync(
      async () => rows('alice').some((r) => r.name === 'alice' && r.balance === '10.00000000'),
      60_000,
      () => `alice never saw the faucet's coins confirmed: ${JSON.stringify(rows('alice'))}`,
    );
    console.log(`    join to the faucet's coins confirmed: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const join2 = runNode([
      WALLET_BIN,
      '--datadir',
      join(dir, 'bob', 'wallet'),
      'join',
      url,
      '--name',
      'bob',
      '--miner-datadir',
      join(dir, 'bob', 'miner'),
    ]);
    assert.equal(join2.code, 0, join2.stderr);
    assert.match(join2.stdout, /the faucet said no: .*this computer was given coins \d+ s ago; the faucet gives again in \d+ s/);
    const bob = (JSON.parse(wallet('bob', 'list-addresses', '--json').stdout) as AddressRow[])[0]!;

    // The printed miner line, as typed (its datadir remembers the class's settings and alice's name).
    const child = track(
      spawn(process.execPath, [MINER_BIN, ...minerLine, '--threads', '1'], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } }),
    );
    miner = { child, exited: new Promise((res) => child.once('exit', (code) => res(code))) };
    await waitForAsync(
      async () =>
        ((await getJson(`${url}/api/mvb/leaderboard`)) as { rows: { name: string | null }[] }).rows.some((r) => r.name === 'alice'),
      60_000,
      () => 'no block named alice on the leaderboard',
    );
    // The miners-heard table names her too: her statuses carry the name of her coinbase tags.
    await waitForAsync(
      async () => ((await getJson(`${url}/api/mvb/miners`)) as { name: string | null }[]).some((m) => m.name === 'alice'),
      30_000,
      () => 'no status named alice among the miners heard',
    );
    const pay = wallet('alice', 'send', 'alice', '2.5', bob.address);
    assert.equal(pay.code, 0, pay.stderr);
    await waitForAsync(
      async () => rows('bob').some((r) => r.balance === '2.50000000'),
      60_000,
      () => `bob never saw alice's payment confirmed: ${JSON.stringify(rows('bob'))}`,
    );
  });
});

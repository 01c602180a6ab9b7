// Chaos: kill -9 at random moments of two mining miners, a running wallet sync and wallet sends
// (real processes on loopback, devnet; two miners mining at once make natural reorganisations).
// After every kill the process restarts on the same data directory and must start cleanly; at
// the end `mvb verify` re-derives each store's UTXO set (and the wallet's coin index) from its
// blocks and finds them equal, every key is still there and every payment a send reported is
// still known (pending or confirmed). MVB_CHAOS_ROUNDS sets the number of kills: 8 here,
// 50 with `npm run chaos`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { encodeAddress } from '../src/shared/core/address.js';
import { hash160 } from '../src/shared/core/hash.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { MVB_BIN, type MinerProc, type NetPorts, StatusWatcher, WALLET_BIN, netPorts, netSets, removeDir, startMiner, stopProc, tempDir, testSettings, waitFor } from './kit/procs.js';

const ROUNDS = Number(process.env['MVB_CHAOS_ROUNDS'] ?? 8);

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(bin: string, args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'], NO_COLOR: '1' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out, exited: new Promise((r) => child.on('exit', (c) => r(c))) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos: kill -9 across mining, sync, reorganisation and send (real processes, loopback)', function () {
  this.timeout(60_000 + ROUNDS * 20_000);
  let ports: NetPorts;
  const dirs: string[] = [];
  const running: (MinerProc | Proc)[] = [];

  before(async () => {
    ports = await netPorts();
  });
  after(async () => {
    await Promise.all(running.splice(0).map((p) => stopProc(p as MinerProc, 'SIGKILL')));
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it(`${ROUNDS} kill -9 rounds: every restart clean, stores equal to a replay from genesis, no key or payment lost`, async () => {
    const settings = testSettings(ports);
    const watcher = new StatusWatcher(settings);
    await watcher.start();
    const wdir = tempDir('chaos-wallet');
    const mdirs = [tempDir('chaos-a'), tempDir('chaos-b')];
    dirs.push(wdir, ...mdirs);
    const w = (args: string[]) => run(WALLET_BIN, [args[0]!, '--network', 'devnet', '--datadir', wdir, ...netSets(ports), ...args.slice(1)]);
    const created = await w(['new-address', 'alice', '--json']).exited;
    assert.equal(created, 0);
    await w(['new-address', 'bob']).exited;
    const { address } = JSON.parse((await (async () => {
      const p = w(['list-addresses', '--json']);
      await p.exited;
      return JSON.stringify((JSON.parse(p.out()) as { name: string; address: string }[]).find((x) => x.name === 'alice'));
    })())) as { address: string };
    const other = encodeAddress(hash160(publicKeyOf(new Uint8Array(32).fill(5))), settings.params.addressVersion);
    const miners: MinerProc[] = [];
    const startM = async (i: number) => (miners[i] = await startMiner({ ports, datadir: mdirs[i]!, args: ['--address', i === 0 ? address : other] }));
    await startM(0);
    await startM(1);
    running.push(...miners);
    let sync = w(['sync']);
    running.push(sync);
    await waitFor(() => (watcher.of(miners[0]!.info.nodeId)?.height ?? 0) >= settings.params.coinbaseMaturity + 3, 60_000, () => 'no mature rewards');
    const reported: string[] = [];
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < ROUNDS; round++) {
      const victim = ['miner', 'sync', 'send'][rand(3)]!;
      if (victim === 'miner') {
        const i = rand(2);
        await sleep(100 + rand(1500));
        miners[i]!.child.kill('SIGKILL');
        await miners[i]!.exited;
        await startM(i); // starts cleanly on the same datadir, or this throws
        running.push(miners[i]!);
      } else if (victim === 'sync') {
        await sleep(100 + rand(1500));
        sync.child.kill('SIGKILL');
        await sync.exited;
        sync = w(['sync']);
        running.push(sync);
        await waitFor(() => /syncing devnet from height \d+/.test(sync.out()), 20_000, () => `sync did not restart:\n${sync.out()}`);
      } else {
        const send = w(['send', 'alice', '0.01', 'bob']);
        const killAt = rand(400);
        const t = setTimeout(() => send.child.kill('SIGKILL'), killAt);
        const code = await send.exited;
        clearTimeout(t);
        const id = /^[0-9a-f]{64}$/m.exec(send.out())?.[0];
        if (code === 0 && id) reported.push(id);
      }
    }
    // Let everyone settle, then stop cleanly.
    await sleep(2000);
    await Promise.all(running.splice(0).map((p) => stopProc(p as MinerProc)));
    await watcher.close();
    for (const d of [...mdirs, wdir]) {
      const v = run(MVB_BIN, ['verify', d, '--network', 'devnet', ...netSets(ports)]);
      assert.equal(await v.exited, 0, `verify ${d}:\n${v.out()}`);
      assert.match(v.out(), /UTXO set: .*: equal/);
    }
    const list = w(['list-addresses', '--json']);
    assert.equal(await list.exited, 0, list.out());
    assert.deepEqual((JSON.parse(list.out()) as { name: string }[]).map((x) => x.name).sort(), ['alice', 'bob']);
    for (const id of reported) {
      const st = w(['status', id, '--json']);
      assert.equal(await st.exited, 0, `payment ${id} lost:\n${st.out()}`);
      assert.match((JSON.parse(st.out()) as { status: string }).status, /^(pending|confirmed)$/);
    }
  });
});

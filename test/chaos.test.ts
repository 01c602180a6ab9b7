// Chaos: kill -9 at random moments of two mining miners, a running wallet sync and wallet sends
// (real processes on loopback, devnet; two miners mining at once make natural reorganisations).
// After every kill the process restarts on the same data directory and must start cleanly; at
// the end `mvb verify` re-derives each store's UTXO set (and the wallet's coin index) from its
// blocks and finds them equal, every key is still there and every payment a send reported is
// still known (pending or confirmed), sends killed the moment they reported included. The
// victims come from the property tests' seeded generator (test/kit/prng.ts; MVB_CHAOS_SEED),
// the first rounds one of each kind. MVB_CHAOS_ROUNDS sets the number of kills: 8 here, 50 with
// `npm run chaos`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { encodeAddress } from '../src/shared/core/address.js';
import { hash160 } from '../src/shared/core/hash.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { SeededGen } from './kit/prng.js';
import {
  MVB_BIN,
  type MinerProc,
  type NetPorts,
  StatusWatcher,
  WALLET_BIN,
  netPorts,
  netSets,
  removeDir,
  startMiner,
  stopProc,
  tempDir,
  testSettings,
  waitFor,
} from './kit/procs.js';

const ROUNDS = Number(process.env['MVB_CHAOS_ROUNDS'] ?? 8);

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function run(bin: string, args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'], NO_COLOR: '1' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out, exited: new Promise((r) => child.on('exit', (c) => r(c))) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const VICTIMS = ['miner 0', 'miner 1', 'sync', 'send'] as const;
type Victim = (typeof VICTIMS)[number];

/**
 * One `send alice 0.01 bob`: arm() may schedule a kill when it starts; killOnReport kills it the
 * moment its payment's txid is printed. The txid it reported (if any), whether it was killed, and
 * how long it ran.
 */
async function sendPayment(
  w: (args: string[]) => Proc,
  arm: (p: Proc) => NodeJS.Timeout | undefined,
  killOnReport = false,
): Promise<{ id?: string; killed: boolean; ms: number; out: string }> {
  const t0 = Date.now();
  const p = w(['send', 'alice', '0.01', 'bob']);
  const timer = arm(p);
  const txidLine = /^[0-9a-f]{64}$/m;
  if (killOnReport) p.child.stdout!.on('data', () => txidLine.test(p.out()) && p.child.kill('SIGKILL'));
  const code = await p.exited;
  clearTimeout(timer);
  const id = txidLine.exec(p.out())?.[0];
  const killed = p.child.signalCode === 'SIGKILL';
  // A send that reported is one whose payment must survive; one that ended otherwise (without
  // being killed) must have failed cleanly, with a line saying why.
  if (!killed && code !== 0) assert.match(p.out(), /^error: /m, `send failed without saying why:\n${p.out()}`);
  return { ...(id ? { id } : {}), killed, ms: Date.now() - t0, out: p.out() };
}

/** The address of a wallet's key by name. */
async function addressOf(w: (args: string[]) => Proc, name: string): Promise<string> {
  const p = w(['list-addresses', '--json']);
  await p.exited;
  return (JSON.parse(p.out()) as { name: string; address: string }[]).find((x) => x.name === name)!.address;
}

/** `mvb verify` finds each store equal to a replay from genesis; every key and every reported payment is still there. */
async function checkNothingLost(
  w: (args: string[]) => Proc,
  datadirs: readonly string[],
  ports: NetPorts,
  reported: readonly string[],
): Promise<void> {
  for (const d of datadirs) {
    const v = run(MVB_BIN, ['verify', d, '--network', 'devnet', ...netSets(ports)]);
    assert.equal(await v.exited, 0, `verify ${d}:\n${v.out()}`);
    assert.match(v.out(), /UTXO set: .*: equal/);
  }
  const list = w(['list-addresses', '--json']);
  assert.equal(await list.exited, 0, list.out());
  assert.deepEqual((JSON.parse(list.out()) as { name: string }[]).map((x) => x.name).sort(), ['alice', 'bob']);
  let checked = 0;
  for (const id of reported) {
    checked++;
    const st = w(['status', id, '--json']);
    assert.equal(await st.exited, 0, `payment ${id} lost:\n${st.out()}`);
    assert.match((JSON.parse(st.out()) as { status: string }).status, /^(pending|confirmed)$/);
  }
  assert.ok(checked > 0 && checked === reported.length, `${checked} payment(s) checked`);
}

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
    const w = (args: string[]) =>
      run(WALLET_BIN, [args[0]!, '--network', 'devnet', '--datadir', wdir, ...netSets(ports), ...args.slice(1)]);
    const created = await w(['new-address', 'alice', '--json']).exited;
    assert.equal(created, 0);
    await w(['new-address', 'bob']).exited;
    const address = await addressOf(w, 'alice');
    const other = encodeAddress(hash160(publicKeyOf(new Uint8Array(32).fill(5))), settings.params.addressVersion);
    const miners: MinerProc[] = [];
    const startM = async (i: number) =>
      (miners[i] = await startMiner({ ports, datadir: mdirs[i]!, args: ['--address', i === 0 ? address : other] }));
    await startM(0);
    await startM(1);
    running.push(...miners);
    let sync = w(['sync']);
    running.push(sync);
    await waitFor(
      () => (watcher.of(miners[0]!.info.nodeId)?.height ?? 0) >= settings.params.coinbaseMaturity + 3,
      60_000,
      () => 'no mature rewards',
    );
    const gen = new SeededGen(Number(process.env['MVB_CHAOS_SEED'] ?? 12345));
    const kills: Record<Victim, number> = { 'miner 0': 0, 'miner 1': 0, sync: 0, send: 0 };
    // A send that runs to the end reports its payment; how long that takes bounds the kill times.
    // Miner 1 may have found the early blocks: the first send waits (bounded) for alice's first mature reward.
    let first = await sendPayment(w, () => undefined);
    for (let tries = 0; !first.id && /not yet mature/.test(first.out) && tries < 30; tries++) {
      const h = watcher.of(miners[0]!.info.nodeId)?.height ?? 0;
      await waitFor(
        () => (watcher.of(miners[0]!.info.nodeId)?.height ?? 0) > h,
        60_000,
        () => 'no new block',
      );
      first = await sendPayment(w, () => undefined);
    }
    assert.ok(first.id, `the unkilled send reported no payment:\n${first.out}`);
    const reported: string[] = [first.id];
    const killedAfterReport: string[] = [];
    // The first rounds kill one of each kind (in a seeded order), the rest at random.
    const plan = [...gen.shuffled(VICTIMS), ...Array.from({ length: Math.max(0, ROUNDS - VICTIMS.length) }, () => gen.pick(VICTIMS))].slice(
      0,
      ROUNDS,
    );
    let sendRounds = 0;
    for (const victim of plan) {
      kills[victim]++;
      if (victim === 'miner 0' || victim === 'miner 1') {
        const i = victim === 'miner 0' ? 0 : 1;
        await sleep(100 + gen.below(1500));
        miners[i]!.child.kill('SIGKILL');
        await miners[i]!.exited;
        await startM(i); // starts cleanly on the same datadir, or this throws
        running.push(miners[i]!);
      } else if (victim === 'sync') {
        await sleep(100 + gen.below(1500));
        sync.child.kill('SIGKILL');
        await sync.exited;
        sync = w(['sync']);
        running.push(sync);
        await waitFor(
          () => /syncing devnet from height \d+/.test(sync.out()),
          20_000,
          () => `sync did not restart:\n${sync.out()}`,
        );
      } else {
        // Every other send (the first included) is killed the moment it reports its payment: the
        // payment must have been stored before. The others at a random moment of their run.
        const onReport = sendRounds++ % 2 === 0;
        const killAt = gen.below(Math.ceil(1.2 * first.ms));
        const r = await sendPayment(w, (p) => (onReport ? undefined : setTimeout(() => p.child.kill('SIGKILL'), killAt)), onReport);
        if (r.id) reported.push(r.id);
        if (r.id && r.killed) killedAfterReport.push(r.id);
      }
    }
    console.log(
      `      figure: kills per victim ${JSON.stringify(kills)}; payments reported ${reported.length}, of them killed right after reporting ${killedAfterReport.length}; an unkilled send took ${first.ms} ms`,
    );
    for (const v of VICTIMS) if (ROUNDS >= VICTIMS.length) assert.ok(kills[v] > 0, `${v} never killed`);
    if (kills.send > 0) assert.ok(killedAfterReport.length > 0, 'no send was killed after reporting its payment');
    // Let everyone settle, then stop cleanly.
    await sleep(2000);
    await Promise.all(running.splice(0).map((p) => stopProc(p as MinerProc)));
    await watcher.close();
    await checkNothingLost(w, [...mdirs, wdir], ports, reported);
  });
});

// The block server under issue 18's attacker, with real processes on loopback: a miner process
// (--no-mine, serving a 120-block chain it synced from an in-process peer) and an attacker
// process holding connections from 250 addresses of its own (127.0.0.2 and up), busy with cheap
// valid requests (GETHEADERS from genesis, every 100 ms) or slow (a request trickled a byte a
// second, idle, asking for blocks and never reading), some slow ones from the honest clients'
// own address 127.0.0.1; once with the default slot cap, once with the server full (cap 300).
// Honest fetches (one GETHEADERS each, on a fresh connection, 2 s deadline) must be answered
// >= 95 % of the time, and a fresh wallet's `sync --once` must finish, caught up. Figures
// printed beside: honest fetch latency percentiles, and the sync's time unattacked and attacked
// with their ratio (issue 18 asks for at most 3x). The ratio is printed, not asserted: it is a
// timing on a shared machine; what is asserted is the outcome each deadline stands for.
// MVB_HOSTILE_FULL=1 (npm run test:hostile): 8 connections per address, 200 fetches, 3 syncs.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hash160 } from '../src/shared/core/hash.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { encodeAddress } from '../src/shared/core/address.js';
import { headerHash } from '../src/shared/core/header.js';
import { BlockClient } from '../src/shared/node/net/blockclient.js';
import { MsgType, encodeFrame, encodeGetHeaders, encodeHashes } from '../src/shared/node/net/protocol.js';
import { ATTACKER_JS, type AttackCounts, type AttackGroup, type AttackMode } from './kit/block-attacker.js';
import { type MinerProc, removeDir, startMiner, stopProc, tempDir, waitFor, waitForAsync } from './kit/procs.js';
import { track } from './kit/processes.js';
import { TestMiner, settingsOf, testNetSets, walletProcess } from './kit/wallet-net.js';

const FULL = process.env['MVB_HOSTILE_FULL'] === '1';
const ADDRESSES = 250;
const PER_ADDRESS = FULL ? 8 : 2;
const FETCHES = FULL ? 200 : 40;
const SYNCS = FULL ? 3 : 1;
const CHAIN = 120;
const FETCH_DEADLINE_MS = 2000;
const figure = (line: string): void => console.log(`      figure: ${line}`);
const pkh = hash160(publicKeyOf(new Uint8Array(32).fill(3)));
const attackerAddresses = Array.from({ length: ADDRESSES }, (_, i) => `127.0.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`);

/** Latency percentile (ms) of the answered fetches. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;
}

/** Resident memory of a process we started (Linux /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

interface Attacker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  counts(): AttackCounts | undefined;
}

function startAttacker(port: number, groups: readonly AttackGroup[], requestHex: string, blocksRequestHex: string): Attacker {
  const plan = { port, groups, requestHex, blocksRequestHex, intervalMs: 100, noreadMs: 12_000 };
  const child = track(spawn(process.execPath, [ATTACKER_JS, JSON.stringify(plan)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  let last: AttackCounts | undefined;
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    if (lines.length) last = JSON.parse(lines[lines.length - 1]!) as AttackCounts;
  });
  return { child, exited: new Promise((r) => child.on('exit', (c) => r(c))), counts: () => last };
}

describe('block server under 250 attacking addresses (real processes, loopback)', function () {
  this.timeout(FULL ? 900_000 : 180_000);
  let sets: Record<string, unknown>;
  let peer: TestMiner | undefined;
  let miner: MinerProc | undefined;
  let minerDir: string;
  const dirs: string[] = [];
  let attacker: Attacker | undefined;
  let unattackedSyncMs = 0;
  let unattackedFetches: number[] = [];

  const params = () => settingsOf(sets).params;
  const startServing = async (extra: Record<string, unknown>) => {
    const { blockServerPort: _ignored, ...minerSets } = sets;
    const m = await startMiner({
      ports: { statusPort: Number(sets['statusPort']), transactionPort: Number(sets['transactionPort']) },
      datadir: minerDir,
      args: ['--no-mine', '--address', encodeAddress(pkh, params().addressVersion)],
      sets: { ...minerSets, ...extra },
    });
    miner = m;
    return m;
  };

  /** Why honest fetches failed (the error's words, numbers out), for the figures. */
  const failures = new Map<string, number>();
  /** One GETHEADERS on a fresh connection from 127.0.0.1: its latency in ms, or undefined past the deadline. */
  const honestFetch = async (): Promise<number | undefined> => {
    const c = new BlockClient(params(), '127.0.0.1', miner!.blockServerPort, FETCH_DEADLINE_MS);
    const t0 = performance.now();
    try {
      await c.connect();
      const h = await c.getHeaders([params().genesisHash], 10);
      return h.length === 10 ? performance.now() - t0 : undefined;
    } catch (e) {
      const why = String((e as Error).message).replace(/[\d.:]+/g, '#');
      failures.set(why, (failures.get(why) ?? 0) + 1);
      return undefined;
    } finally {
      c.close();
    }
  };
  const fetchAll = async (): Promise<{ answered: number[]; failed: number }> => {
    failures.clear();
    const answered: number[] = [];
    for (let i = 0; i < FETCHES; i++) {
      const ms = await honestFetch();
      if (ms !== undefined) answered.push(ms);
    }
    return { answered: answered.sort((a, b) => a - b), failed: FETCHES - answered.length };
  };
  /** A fresh wallet's `sync --once`: its wall time; asserts it exits 0 caught up at CHAIN. */
  const freshSync = async (): Promise<number> => {
    const dir = tempDir('attack-wallet');
    dirs.push(dir);
    const t0 = performance.now();
    const r = await walletProcess(dir, sets, ['sync', '--once', '--verbose', '--deadline', '120']);
    const ms = performance.now() - t0;
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    assert.match(`${r.out}\n${r.err}`, new RegExp(`^synced: height ${CHAIN}\\b`, 'm'));
    return ms;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  before(async () => {
    sets = await testNetSets();
    peer = await TestMiner.start(sets);
    peer.mine(CHAIN, pkh);
    minerDir = tempDir('attack-miner');
    dirs.push(minerDir);
    await startServing({});
    // The miner process syncs the chain from the in-process peer, which then leaves.
    await waitForAsync(
      async () => {
        const c = new BlockClient(params(), '127.0.0.1', miner!.blockServerPort, 2000);
        try {
          await c.connect();
          return (await c.getHeaders([params().genesisHash], 2000)).length === CHAIN;
        } catch {
          return false;
        } finally {
          c.close();
        }
      },
      30_000,
      () => `the miner did not sync ${CHAIN} blocks:\n${miner!.output().slice(-1500)}`,
    );
    await peer.stop();
    peer = undefined;
    const syncs: number[] = [];
    for (let i = 0; i < SYNCS; i++) syncs.push(await freshSync());
    unattackedSyncMs = median(syncs);
    unattackedFetches = (await fetchAll()).answered;
  });

  afterEach(async () => {
    if (attacker) {
      attacker.child.stdin!.end();
      await stopProc(attacker, 'SIGTERM', 5000);
      attacker = undefined;
    }
  });
  after(async () => {
    await peer?.stop();
    if (miner) await stopProc(miner);
    for (const d of dirs.splice(0)) removeDir(d);
  });

  /** The attack, then the honest fetches and syncs under it; figures printed, outcomes asserted. */
  const underAttack = async (what: string, groups: AttackGroup[]) => {
    const p = params();
    const request = encodeFrame(p, MsgType.GetHeaders, encodeGetHeaders([p.genesisHash], 2000));
    const headers = new BlockClient(p, '127.0.0.1', miner!.blockServerPort, 5000);
    await headers.connect();
    const hashes = (await headers.getHeaders([p.genesisHash], 2000)).map(headerHash);
    headers.close();
    const blocksRequest = encodeFrame(p, MsgType.GetBlocks, encodeHashes(hashes));
    attacker = startAttacker(
      miner!.blockServerPort,
      groups,
      Buffer.from(request).toString('hex'),
      Buffer.from(blocksRequest).toString('hex'),
    );
    const total = groups.reduce((n, g) => n + g.addresses.length * g.perAddress, 0);
    await waitFor(
      () => attacker!.counts()?.ready,
      30_000,
      () => `attacker connections: ${JSON.stringify(attacker!.counts())}`,
    );
    const before = attacker.counts()!;
    await new Promise((r) => setTimeout(r, 1000)); // the attack at full strength
    const fetched = await fetchAll();
    const syncs: number[] = [];
    for (let i = 0; i < SYNCS; i++) syncs.push(await freshSync());
    const after = attacker.counts()!;
    const syncMs = median(syncs);
    const a = fetched.answered;
    const base = unattackedFetches;
    figure(
      `${what}: ${total} attacker connections (${after.open} open at the end, ${after.connects} made, ${after.requests - before.requests} requests during the measurement, ${Math.round((after.bytesIn - before.bytesIn) / 1024)} KiB answered to them), miner RSS ${rssMb(miner!.child.pid!)} MB`,
    );
    figure(
      `honest fetches ${a.length}/${FETCHES} answered within ${FETCH_DEADLINE_MS} ms: p50 ${percentile(a, 0.5).toFixed(0)} p95 ${percentile(a, 0.95).toFixed(0)} max ${(a[a.length - 1] ?? NaN).toFixed(0)} ms ` +
        `(unattacked p50 ${percentile(base, 0.5).toFixed(0)} p95 ${percentile(base, 0.95).toFixed(0)} ms)${failures.size ? `; failed: ${JSON.stringify(Object.fromEntries(failures))}` : ''}`,
    );
    figure(
      `fresh wallet sync --once to height ${CHAIN}: ${(syncMs / 1000).toFixed(2)} s attacked, ${(unattackedSyncMs / 1000).toFixed(2)} s unattacked: ${(syncMs / unattackedSyncMs).toFixed(2)}x (issue 18 asks <= 3x)`,
    );
    assert.ok(a.length >= Math.ceil(0.95 * FETCHES), `${a.length}/${FETCHES} honest fetches answered within ${FETCH_DEADLINE_MS} ms`);
    assert.ok(after.requests > before.requests || groups.every((g) => g.mode !== 'busy'), 'the busy attackers kept asking');
    assert.equal(miner!.child.exitCode, null, 'the miner is alive');
  };

  /** The attacker's addresses, a mode for each third. */
  const thirds = (modes: readonly AttackMode[], perAddress: number): AttackGroup[] =>
    modes.map((mode, k) => ({ mode, perAddress, addresses: attackerAddresses.filter((_, i) => i % modes.length === k) }));

  it(`${ADDRESSES} addresses x ${PER_ADDRESS} connections busy with cheap valid requests: >= 95 % of honest fetches answered within 2 s, a fresh wallet syncs`, async () => {
    await underAttack('busy', [{ mode: 'busy', perAddress: PER_ADDRESS, addresses: attackerAddresses }]);
  });

  it(`${ADDRESSES} addresses x ${PER_ADDRESS} slow connections (trickle, idle, never reading), 20 more from the honest clients' own address: the same`, async () => {
    await underAttack('slow, sharing 127.0.0.1', [
      ...thirds(['trickle', 'idle', 'noread'], PER_ADDRESS),
      { mode: 'trickle', perAddress: 20, addresses: ['127.0.0.1'] },
    ]);
  });

  it(`a full server (maxTcpConnections 300): busy and slow connections from ${ADDRESSES} addresses x 2, and 127.0.0.1 at its share with slow ones: every honest newcomer gets in, the same`, async () => {
    await stopProc(miner!);
    await startServing({ maxTcpConnections: 300 });
    // Two per address in the full run too: past slots and probation places together (300 + 1 024)
    // an attacker's reconnections flood the kernel's accept queue (docs/THREATS.md, "Can").
    await underAttack('full (300 slots)', [
      ...thirds(['busy', 'trickle', 'noread'], 2),
      { mode: 'idle', perAddress: 75, addresses: ['127.0.0.1'] },
    ]);
  });
});

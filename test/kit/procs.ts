// Test harness for real processes on loopback: free ports, temporary datadirs, miners started as
// child processes (always with broadcastAddress 127.255.255.255), a status listener that records
// every miner's announced tip, and waits bounded by timeouts instead of sleeps.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { track } from './processes.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../../src/shared/core/bytes.js';
import { formatSets, loadSettings, type Settings } from '../../src/shared/node/cli/config.js';
import { freePorts } from '../../src/shared/node/net/free-ports.js';
import type { Status } from '../../src/shared/node/net/protocol.js';
import { StatusListener } from '../../src/shared/node/net/status-listener.js';
import { stopProcessGroup } from '../../src/lab/process-group.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MINER_BIN = join(ROOT, 'dist/src/miner/main.js');
export const WALLET_BIN = join(ROOT, 'dist/src/wallet/main.js');
export const MVB_BIN = join(ROOT, 'dist/src/tools/mvb.js');
export const LOOPBACK_BROADCAST = '127.255.255.255';

export { freePorts };

/** `--set key=value` arguments for these config values. */
export function setArgs(values: Readonly<Record<string, unknown>>): string[] {
  return formatSets(values).flatMap((kv) => ['--set', kv]);
}

/** Runs `node args...` to completion from the project root, colour off; bounded by timeoutMs. */
export function runNode(args: readonly string[], timeoutMs = 120_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: timeoutMs, cwd: ROOT });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mvb-test-${prefix}-`));
}

export function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
}

/** The ports one test network uses. Every node in the test shares status/tx ports. */
export interface NetPorts {
  readonly statusPort: number;
  readonly transactionPort: number;
}

export async function netPorts(): Promise<NetPorts> {
  const [statusPort, transactionPort] = await freePorts(2);
  return { statusPort: statusPort!, transactionPort: transactionPort! };
}

/** Config values of one test network: loopback broadcast and its ports. */
function netValues(p: NetPorts, extra: Record<string, unknown>): Record<string, unknown> {
  return { broadcastAddress: LOOPBACK_BROADCAST, statusPort: p.statusPort, transactionPort: p.transactionPort, ...extra };
}

export function netSets(p: NetPorts, extra: Record<string, unknown> = {}): string[] {
  return setArgs(netValues(p, extra));
}

/** Settings as the processes of this test network see them. */
export function testSettings(p: NetPorts, extra: Record<string, unknown> = {}): Settings {
  return loadSettings({ network: 'devnet', sets: formatSets(netValues(p, extra)) });
}

export interface MinerProc {
  readonly child: ChildProcess;
  readonly datadir: string;
  readonly blockServerPort: number;
  /** The miner's info line (--json). */
  readonly info: { height: number; tip: string; rewardAddress: string; port: number; nodeId: string };
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

export interface StartMinerOptions {
  readonly ports: NetPorts;
  readonly datadir: string;
  readonly args?: readonly string[];
  readonly sets?: Record<string, unknown>;
  readonly timeoutMs?: number;
  /**
   * Run node under this command, e.g. ['ip', 'netns', 'exec', ns]. The miner then gets a process
   * group of its own (stop it with stopProcGroup) and is ended if it fails to start.
   */
  readonly wrap?: readonly string[];
}

export async function startMiner(o: StartMinerOptions): Promise<MinerProc> {
  const [bsp] = o.sets?.['blockServerPort'] !== undefined ? [Number(o.sets['blockServerPort'])] : await freePorts(1);
  const args = [
    MINER_BIN,
    '--network',
    'devnet',
    '--datadir',
    o.datadir,
    '--threads',
    '1',
    '--json',
    ...netSets(o.ports, { blockServerPort: bsp, ...o.sets }),
    ...(o.args ?? []),
  ];
  const wrapped = (o.wrap?.length ?? 0) > 0;
  const [cmd, ...pre] = wrapped ? [...o.wrap!, process.execPath] : [process.execPath];
  const child = track(
    spawn(cmd!, [...pre, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      ...(wrapped ? { detached: true } : {}),
    }),
    wrapped,
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  if (wrapped) child.on('error', (e) => (out += `\nspawn ${cmd}: ${e.message}\n`));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let info: MinerProc['info'];
  try {
    info = await waitFor(
      () => {
        const line = out.split('\n').find((l) => l.startsWith('{"height"'));
        return line ? (JSON.parse(line) as MinerProc['info']) : undefined;
      },
      o.timeoutMs ?? 20_000,
      () => `miner did not start:\n${out}`,
      exited,
    );
  } catch (e) {
    if (wrapped) await stopProcGroup({ child, exited }, 'SIGKILL');
    throw e;
  }
  return { child, datadir: o.datadir, blockServerPort: bsp!, info, output: () => out, exited };
}

/** Ends a process we started, by its PID, and waits for it (SIGKILL after a grace period). */
export async function stopProc(
  p: { child: ChildProcess; exited: Promise<number | null> },
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

/**
 * Like stopProc for a process started in a group of its own (detached, e.g. startMiner's wrap):
 * signals the whole group by its PID, so a wrapper and what it runs end together.
 */
export const stopProcGroup = stopProcessGroup;

/** Polls cond every 25 ms until it returns a value, or fails after timeoutMs with describe(). */
export async function waitFor<T>(
  cond: () => T | undefined | false,
  timeoutMs: number,
  describe: () => string,
  abortOn?: Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let aborted = false;
  void abortOn?.then(() => (aborted = true));
  for (;;) {
    const v = cond();
    if (v !== undefined && v !== false) return v;
    if (aborted) throw new Error(`process exited while waiting: ${describe()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Listens on a test network's status port and keeps each node's latest status. */
/** Arrival times kept per node for StatusWatcher.longestSilence (an hour of 1-second statuses, and then some). */
const MAX_HEARD_TIMES = 10_000;

export class StatusWatcher {
  private readonly listener: StatusListener;
  readonly latest = new Map<string, Status & { address: string }>();
  private readonly heardAt = new Map<string, number[]>();

  constructor(settings: Settings) {
    this.listener = new StatusListener(settings.params, settings.statusPort, (s, from) => {
      const id = toHex(s.nodeId);
      this.latest.set(id, { ...s, address: from.address });
      const times = this.heardAt.get(id) ?? [];
      if (times.push(Date.now()) > MAX_HEARD_TIMES) times.shift();
      this.heardAt.set(id, times);
    });
  }

  /** The longest time (ms) between two statuses of a node, or from `from` to its first one, within [from, to]. */
  longestSilence(nodeId: string, from: number, to: number): number {
    let last = from;
    let longest = 0;
    for (const t of this.heardAt.get(nodeId) ?? []) {
      if (t < from || t > to) continue;
      longest = Math.max(longest, t - last);
      last = t;
    }
    return Math.max(longest, to - last);
  }

  start(): Promise<void> {
    return this.listener.listening();
  }

  of(nodeId: string): (Status & { address: string }) | undefined {
    return this.latest.get(nodeId);
  }

  /** Waits until every listed node announces the same tip at height >= minHeight. */
  async converged(nodeIds: readonly string[], minHeight: number, timeoutMs: number): Promise<Status> {
    return waitConverged(
      nodeIds,
      (n) => this.latest.get(n),
      (s) => toHex(s.tipHash),
      minHeight,
      timeoutMs,
    );
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}

/**
 * Waits until every listed node's latest status (statusOf) has the same tip (tipOf) at height >=
 * minHeight; returns the first node's. The timeout names where each node stands.
 */
export function waitConverged<S extends { readonly height: number }>(
  nodeIds: readonly string[],
  statusOf: (nodeId: string) => S | undefined,
  tipOf: (s: S) => string,
  minHeight: number,
  timeoutMs: number,
): Promise<S> {
  return waitFor(
    () => {
      const ss = nodeIds.map(statusOf);
      if (ss.some((s) => !s || s.height < minHeight)) return undefined;
      const tip = tipOf(ss[0]!);
      return ss.every((s) => tipOf(s!) === tip) ? ss[0] : undefined;
    },
    timeoutMs,
    () => {
      const where = (n: string) => {
        const s = statusOf(n);
        return `${n.slice(0, 6)}@${s?.height}:${s ? tipOf(s).slice(0, 8) : ''}`;
      };
      return `nodes did not converge at height >= ${minHeight}: ${nodeIds.map(where).join(' ')}`;
    },
  );
}

/** Like waitFor, for conditions that need I/O: one check at a time, every intervalMs. */
export async function waitForAsync<T>(
  cond: () => Promise<T | undefined | false>,
  timeoutMs: number,
  describe: () => string,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await cond();
    } catch {
      v = undefined; // a peer restarting or busy: try again
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

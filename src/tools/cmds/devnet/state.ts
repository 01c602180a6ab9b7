// A devnet's record and the tools its subcommands share: DIR/devnet.json (the network, its ports
// and every node with its PID), free ports, each node's settings.json, starting a node in the
// background, running a wallet command, and hearing the miners' status broadcasts.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, closeSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, prepareDataDir, writeDatadirSettings } from '../../../shared/node/cli/runner.js';
import { stringOption } from '../../../shared/node/cli/command.js';
import { formatSets, type Settings } from '../../../shared/node/cli/config.js';
import type { Status } from '../../../shared/node/net/protocol.js';
import { StatusListener } from '../../../shared/node/net/status-listener.js';
import { DirLock, LockError, processAlive } from '../../../shared/node/store/lock.js';

export const MINER_BIN = fileURLToPath(new URL('../../../miner/main.js', import.meta.url));
export const WALLET_BIN = fileURLToPath(new URL('../../../wallet/main.js', import.meta.url));
export const LOOPBACK_BROADCAST = '127.255.255.255';
const STATE_FILE = 'devnet.json';
/** The networks a devnet may run (lan is the real classroom network, not a loopback one). */
export const DEVNET_NETWORKS = ['devnet', 'classroom'] as const;

/** --dir, shared by every subcommand. */
export const DIR_OPTION = stringOption('--dir <dir>', "folder for the nodes' data and logs", 'mvb-devnet');

/** The devnet's record, or a clear error naming how to start one. */
export function requireState(dirArg: string): DevnetState {
  const state = readState(resolve(dirArg));
  if (!state) throw new CliError(`no devnet in ${resolve(dirArg)} (start one with: mvb devnet start --dir ${dirArg})`);
  return state;
}

export interface DevnetNode {
  readonly name: string;
  readonly kind: 'miner' | 'wallet' | 'explorer';
  readonly datadir: string;
  readonly log: string;
  pid?: number;
  readonly blockServerPort?: number;
  readonly address?: string;
  /** The explorer's page. */
  readonly url?: string;
}

export interface DevnetState {
  readonly network: string;
  readonly broadcastAddress: string;
  readonly statusPort: number;
  readonly transactionPort: number;
  readonly nodes: DevnetNode[];
  readonly startedAt: string;
}

export { freePorts } from '../../../shared/node/net/free-ports.js';

export function readState(dir: string): DevnetState | undefined {
  const file = join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A damaged state file must not be taken for "no devnet" (start would overwrite the record of
  // running processes) nor crash a command: say so, once, clearly.
  const damaged = (why: string): never => {
    throw new CliError(`${file} is damaged (${why}); if no devnet runs there, remove it`);
  };
  let s: DevnetState;
  try {
    s = JSON.parse(text) as DevnetState;
  } catch (e) {
    return damaged((e as Error).message.replace(/\s+/g, ' '));
  }
  if (typeof s !== 'object' || s === null || !Array.isArray(s.nodes)) damaged('no list of nodes');
  for (const n of s.nodes) {
    if (
      typeof n !== 'object' ||
      n === null ||
      typeof n.name !== 'string' ||
      typeof n.datadir !== 'string' ||
      !['miner', 'wallet', 'explorer'].includes(n.kind)
    )
      damaged('a node without name, kind or datadir');
    if (n.pid !== undefined && !(Number.isInteger(n.pid) && n.pid > 0)) damaged(`node ${n.name}: bad pid`);
  }
  return s;
}

/**
 * Runs start under DIR's lock: two starts at once in one folder would both start nodes and one would
 * lose track of the other's. `what` names the command and what it starts, for the refusal.
 */
export async function withStartLock<T>(dir: string, what: { command: string; starting: string }, start: () => Promise<T>): Promise<T> {
  prepareDataDir(dir);
  let lock: DirLock;
  try {
    lock = DirLock.acquire(dir, what.command);
  } catch (e) {
    if (e instanceof LockError) throw new CliError(`another \`${what.command}\` is starting ${what.starting} in ${dir} right now`);
    throw e;
  }
  try {
    return await start();
  } finally {
    lock.release();
  }
}

export function writeState(dir: string, s: DevnetState): void {
  const tmp = join(dir, `${STATE_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, join(dir, STATE_FILE));
}

/** True if pid runs and its command line names this datadir (a recycled PID is not ours). */
export function isOurProcess(pid: number | undefined, datadir: string): boolean {
  if (!pid || !processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(datadir);
  } catch {
    return true; // no /proc: trust the recorded PID
  }
}

export function nodeSets(
  state: Pick<DevnetState, 'broadcastAddress' | 'statusPort' | 'transactionPort'>,
  extra: Record<string, unknown> = {},
): string[] {
  return formatSets({
    broadcastAddress: state.broadcastAddress,
    statusPort: state.statusPort,
    transactionPort: state.transactionPort,
    ...extra,
  });
}

export function writeNodeSettings(datadir: string, network: string, sets: string[]): void {
  prepareDataDir(datadir);
  writeDatadirSettings(datadir, { network, sets });
}

/** Starts a node process in the background, output appended to its log; returns its PID. */
export function spawnNode(bin: string, args: readonly string[], log: string): number {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [bin, ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.unref();
    return child.pid!;
  } finally {
    closeSync(fd);
  }
}

/** Runs a wallet command to completion (for setting wallets up). */
export function runWallet(datadir: string, args: readonly string[]): { code: number; out: string; stdout: string } {
  const r = spawnSync(process.execPath, [WALLET_BIN, '--datadir', datadir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

/** Collects status broadcasts on a port for a while: latest status per sender (by block server port). */
export async function listenStatus(
  settings: Settings,
  ms: number,
  until?: (m: Map<number, Status>) => boolean,
): Promise<Map<number, Status>> {
  const got = new Map<number, Status>();
  let done = () => {};
  const listener = new StatusListener(settings.params, settings.statusPort, (s) => {
    got.set(s.blockServerPort, s);
    if (until?.(got)) done();
  });
  await listener.listening();
  await new Promise<void>((resolveP) => {
    const timer = setTimeout(() => done(), ms);
    done = () => {
      clearTimeout(timer);
      resolveP();
    };
  });
  await listener.close();
  return got;
}

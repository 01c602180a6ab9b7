// `mvb devnet start|status|stop`: a persistent local network of miners and wallets on loopback,
// in the background, with a folder per node and a log per node. Ports are picked free so several
// devnets can run side by side; each node's datadir remembers its settings (settings.json), so
// `mvb-wallet --datadir DIR/wallet-1 ...` just works. `stop` ends exactly the processes `start`
// started: PIDs recorded in DIR/devnet.json, checked against each process's command line.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync, closeSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashToHex } from '../shared/core/bytes.js';
import { CliError, type CliCommand, DATADIR_SETTINGS_FILE, integerOption, prepareDataDir } from '../shared/node/cli.js';
import { formatSets, loadSettings, type Settings } from '../shared/node/config.js';
import type { Status } from '../shared/node/net/protocol.js';
import { freePorts } from '../shared/node/net/free-ports.js';
import { StatusListener } from '../shared/node/net/status-listener.js';
import { DirLock, LockError, processAlive } from '../shared/node/store/lock.js';

export const MINER_BIN = fileURLToPath(new URL('../miner/main.js', import.meta.url));
export const WALLET_BIN = fileURLToPath(new URL('../wallet/main.js', import.meta.url));
export const LOOPBACK_BROADCAST = '127.255.255.255';
const STATE_FILE = 'devnet.json';

export interface DevnetNode {
  readonly name: string;
  readonly kind: 'miner' | 'wallet';
  readonly datadir: string;
  readonly log: string;
  pid?: number;
  readonly blockServerPort?: number;
  readonly address?: string;
}

export interface DevnetState {
  readonly network: string;
  readonly broadcastAddress: string;
  readonly statusPort: number;
  readonly transactionPort: number;
  readonly nodes: DevnetNode[];
  readonly startedAt: string;
}

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
    if (typeof n !== 'object' || n === null || typeof n.name !== 'string' || typeof n.datadir !== 'string' || (n.kind !== 'miner' && n.kind !== 'wallet')) damaged('a node without name, kind or datadir');
    if (n.pid !== undefined && !(Number.isInteger(n.pid) && n.pid > 0)) damaged(`node ${n.name}: bad pid`);
  }
  return s;
}

function writeState(dir: string, s: DevnetState): void {
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

export function nodeSets(state: Pick<DevnetState, 'broadcastAddress' | 'statusPort' | 'transactionPort'>, extra: Record<string, unknown> = {}): string[] {
  return formatSets({ broadcastAddress: state.broadcastAddress, statusPort: state.statusPort, transactionPort: state.transactionPort, ...extra });
}

function writeNodeSettings(datadir: string, network: string, sets: string[]): void {
  mkdirSync(datadir, { recursive: true });
  writeFileSync(join(datadir, DATADIR_SETTINGS_FILE), JSON.stringify({ network, sets }, null, 2) + '\n');
}

/** Starts a node process in the background, output appended to its log; returns its PID. */
export function spawnNode(bin: string, args: readonly string[], log: string): number {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [bin, ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, NO_COLOR: '1' } });
    child.unref();
    return child.pid!;
  } finally {
    closeSync(fd);
  }
}

/** Runs a wallet command to completion (for setting wallets up). */
export function runWallet(datadir: string, args: readonly string[]): { code: number; out: string; stdout: string } {
  const r = spawnSync(process.execPath, [WALLET_BIN, '--datadir', datadir, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

/** Collects status broadcasts on a port for a while: latest status per sender (by block server port). */
export async function listenStatus(settings: Settings, ms: number, until?: (m: Map<number, Status>) => boolean): Promise<Map<number, Status>> {
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

export interface StartOptions {
  readonly dir: string;
  readonly miners: number;
  readonly wallets: number;
  readonly sets?: readonly string[];
  readonly log?: (line: string) => void;
}

export async function devnetStart(o: StartOptions): Promise<DevnetState> {
  const dir = resolve(o.dir);
  prepareDataDir(dir);
  // Two starts at once in one folder would both start nodes and one would lose track of the other's.
  let lock: DirLock;
  try {
    lock = DirLock.acquire(dir, 'mvb devnet start');
  } catch (e) {
    if (e instanceof LockError) throw new CliError(`another \`mvb devnet start\` is starting a devnet in ${dir} right now`);
    throw e;
  }
  try {
    return await startLocked(o, dir);
  } finally {
    lock.release();
  }
}

async function startLocked(o: StartOptions, dir: string): Promise<DevnetState> {
  const old = readState(dir);
  if (old && old.nodes.some((n) => isOurProcess(n.pid, n.datadir))) throw new CliError(`a devnet is already running in ${dir}; stop it first with: mvb devnet stop --dir ${o.dir}`);
  const [statusPort, transactionPort, ...serverPorts] = await freePorts(2 + o.miners);
  const base = { broadcastAddress: LOOPBACK_BROADCAST, statusPort: statusPort!, transactionPort: transactionPort! };
  const state: DevnetState = { network: 'devnet', ...base, nodes: [], startedAt: new Date().toISOString() };
  const log = o.log ?? (() => {});
  // Wallets first: each gets an address the miners can pay.
  const addresses: string[] = [];
  for (let k = 1; k <= o.wallets; k++) {
    const datadir = join(dir, `wallet-${k}`);
    writeNodeSettings(datadir, 'devnet', [...nodeSets(base), ...(o.sets ?? [])]);
    let address: string | undefined;
    const r = runWallet(datadir, ['new-address', `wallet-${k}`, '--json']);
    if (r.code === 0) address = (JSON.parse(r.stdout) as { address: string }).address;
    else if (!/already exists/.test(r.out)) throw new CliError(`creating wallet-${k} failed: ${r.out.trim()}`);
    else address = (JSON.parse(runWallet(datadir, ['list-addresses', '--json']).stdout) as { name: string; address: string }[]).find((x) => x.name === `wallet-${k}`)?.address;
    if (address) addresses.push(address);
    state.nodes.push({ name: `wallet-${k}`, kind: 'wallet', datadir, log: join(dir, `wallet-${k}.log`), address });
  }
  for (let k = 1; k <= o.miners; k++) {
    const datadir = join(dir, `miner-${k}`);
    writeNodeSettings(datadir, 'devnet', [...nodeSets(base, { blockServerPort: serverPorts[k - 1] }), ...(o.sets ?? [])]);
    const address = addresses.length ? addresses[(k - 1) % addresses.length] : undefined;
    const args = ['--datadir', datadir, '--threads', '1', ...(address ? ['--address', address] : [])];
    const node: DevnetNode = { name: `miner-${k}`, kind: 'miner', datadir, log: join(dir, `miner-${k}.log`), blockServerPort: serverPorts[k - 1], address };
    node.pid = spawnNode(MINER_BIN, args, node.log);
    state.nodes.push(node);
    log(`started miner-${k} (pid ${node.pid}), block server 127.0.0.1:${node.blockServerPort}${address ? `, rewards to ${address}` : ''}`);
  }
  // Wallet sync loops follow the chain and rebroadcast pending payments.
  for (const n of state.nodes.filter((x) => x.kind === 'wallet')) {
    n.pid = spawnNode(WALLET_BIN, ['--datadir', n.datadir, 'sync'], n.log);
    log(`started ${n.name} sync (pid ${n.pid}), address ${n.address ?? '?'}`);
  }
  writeState(dir, state);
  // Wait until every miner announces itself, so `start` returns a working network.
  const settings = loadSettings({ network: 'devnet', sets: [...nodeSets(base), ...(o.sets ?? [])] });
  const heard = await listenStatus(settings, 20_000, (m) => state.nodes.every((n) => n.kind !== 'miner' || m.has(n.blockServerPort!)));
  const missing = state.nodes.filter((n) => n.kind === 'miner' && !heard.has(n.blockServerPort!));
  if (missing.length) throw new CliError(`${missing.map((n) => n.name).join(', ')} did not start; see ${missing.map((n) => n.log).join(', ')}`);
  return state;
}

export interface NodeStatus {
  readonly name: string;
  readonly kind: string;
  readonly running: boolean;
  readonly pid?: number;
  readonly height?: number;
  readonly tip?: string;
  readonly mempool?: number;
  readonly datadir: string;
  readonly address?: string;
}

export async function devnetStatus(dirArg: string): Promise<NodeStatus[]> {
  const dir = resolve(dirArg);
  const state = readState(dir);
  if (!state) throw new CliError(`no devnet in ${dir} (start one with: mvb devnet start --dir ${dirArg})`);
  const settings = loadSettings({ network: state.network, sets: nodeSets(state) });
  const running = state.nodes.map((n) => isOurProcess(n.pid, n.datadir));
  const wanted = state.nodes.filter((n, i) => n.kind === 'miner' && running[i]).map((n) => n.blockServerPort!);
  const heard = wanted.length ? await listenStatus(settings, 1000 * Math.max(2.5, settings.statusBroadcastIntervalSeconds * 2.5), (m) => wanted.every((p) => m.has(p))) : new Map<number, Status>();
  return state.nodes.map((n, i) => {
    const st = n.blockServerPort ? heard.get(n.blockServerPort) : undefined;
    return { name: n.name, kind: n.kind, running: running[i]!, pid: n.pid, datadir: n.datadir, address: n.address, ...(st ? { height: st.height, tip: hashToHex(st.tipHash), mempool: st.mempoolSize } : {}) };
  });
}

export async function devnetStop(dirArg: string, log: (l: string) => void = () => {}): Promise<number> {
  const dir = resolve(dirArg);
  const state = readState(dir);
  if (!state) throw new CliError(`no devnet in ${dir}`);
  let stopped = 0;
  const waits: Promise<void>[] = [];
  for (const n of state.nodes) {
    if (!isOurProcess(n.pid, n.datadir)) continue;
    const pid = n.pid!;
    process.kill(pid, 'SIGTERM');
    stopped++;
    waits.push(
      (async () => {
        const deadline = Date.now() + 15_000;
        while (isOurProcess(pid, n.datadir)) {
          if (Date.now() > deadline) {
            process.kill(pid, 'SIGKILL');
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        log(`stopped ${n.name} (pid ${pid})`);
      })(),
    );
  }
  await Promise.all(waits);
  for (const n of state.nodes) delete n.pid;
  writeState(dir, state);
  return stopped;
}

export const devnetCommand: CliCommand = {
  name: 'devnet',
  describe: 'A local network in the background: `start`, `status`, `stop`',
  args: ['<action>'],
  options: [
    { flags: '--miners <n>', description: 'miners to start', default: 2, parser: integerOption('--miners', 1, 16) },
    { flags: '--wallets <n>', description: 'wallets to start', default: 2, parser: integerOption('--wallets', 0, 16) },
    { flags: '--dir <dir>', description: 'folder for the nodes\' data and logs', default: 'mvb-devnet' },
  ],
  async handler([action], opts, ctx) {
    const dir = opts['dir'] as string;
    const sets = (opts['set'] as string[]) ?? [];
    if (action === 'start') {
      const st = await devnetStart({ dir, miners: opts['miners'] as number, wallets: opts['wallets'] as number, sets, log: (l) => !ctx.json && ctx.io.out(l) });
      if (ctx.json) ctx.io.out(JSON.stringify(st));
      else {
        ctx.io.out(`devnet running in ${resolve(dir)}: status port ${st.statusPort}, transaction port ${st.transactionPort}, broadcast ${st.broadcastAddress}`);
        for (const n of st.nodes.filter((x) => x.kind === 'wallet')) ctx.io.out(`  mvb-wallet --datadir ${n.datadir} list-addresses`);
        ctx.io.out(`logs: ${resolve(dir)}/*.log; stop with: mvb devnet stop --dir ${dir}`);
      }
      return 0;
    }
    if (action === 'status') {
      const rows = await devnetStatus(dir);
      if (ctx.json) {
        ctx.io.out(JSON.stringify(rows));
        return 0;
      }
      for (const r of rows) {
        const what = r.kind === 'miner' ? (r.height !== undefined ? `height ${r.height} tip ${r.tip!.slice(0, 16)}… mempool ${r.mempool}` : r.running ? 'not heard yet' : '') : `mvb-wallet --datadir ${r.datadir}`;
        ctx.io.out(`${r.name.padEnd(9)} ${(r.running ? `running (pid ${r.pid})` : 'stopped').padEnd(22)} ${what}`);
      }
      return 0;
    }
    if (action === 'stop') {
      const n = await devnetStop(dir, (l) => !ctx.json && ctx.io.out(l));
      if (ctx.json) ctx.io.out(JSON.stringify({ stopped: n }));
      else ctx.io.out(n ? `stopped ${n} process(es); data kept in ${resolve(dir)}` : 'nothing was running');
      return 0;
    }
    throw new CliError(`unknown devnet action "${action}" (use start, status or stop)`, 2);
  },
};


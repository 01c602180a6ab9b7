// The lab's processes: real mvb-miner and mvb-wallet processes inside the hosts' namespaces, each
// in a process group of its own so it can be ended with everything it started; short wallet
// commands run to completion with a deadline. CPU and memory are read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EmulatedNet, NetHost } from './netns.js';
import { stopProcessGroup } from './process-group.js';

export const MINER_BIN = fileURLToPath(new URL('../miner/main.js', import.meta.url));
export const WALLET_BIN = fileURLToPath(new URL('../wallet/main.js', import.meta.url));
/** The explorer's program (run as a process, as the miners are: apps never import each other). */
export const EXPLORER_BIN = fileURLToPath(new URL('../explorer/main.js', import.meta.url));
export const BRIDGE_BIN = fileURLToPath(new URL('./explorer-bridge.js', import.meta.url));

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output: string;
}

export class LabProcs {
  private readonly running = new Set<Proc>();

  constructor(
    private readonly net: EmulatedNet,
    private readonly sets: readonly string[],
  ) {}

  private argv(h: NetHost, bin: string, args: readonly string[]): string[] {
    return [...this.net.exec(h), process.execPath, bin, '--network', 'devnet', ...this.sets.flatMap((s) => ['--set', s]), ...args];
  }

  /** Starts a long-running process in host h. */
  start(name: string, h: NetHost, bin: string, args: readonly string[]): Proc {
    const [cmd, ...rest] = this.argv(h, bin, args);
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } });
    const p: Proc = { name, child, exited: new Promise((r) => child.on('close', (code) => r(code))), output: '' };
    const keep = (d: Buffer) => (p.output = (p.output + d.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (e) => (p.output += `spawn: ${e.message}\n`));
    this.running.add(p);
    void p.exited.then(() => this.running.delete(p));
    return p;
  }

  /** Runs a wallet command in host h to completion (ended after timeoutMs); resolves with its output. */
  async wallet(
    h: NetHost,
    datadir: string,
    args: readonly string[],
    timeoutMs = 60_000,
  ): Promise<{ code: number | null; out: string; err: string }> {
    const [cmd, ...rest] = this.argv(h, WALLET_BIN, ['--datadir', datadir, ...args]);
    const child = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, NO_COLOR: '1' } });
    const p: Proc = { name: `wallet ${args[0]}`, child, exited: new Promise((r) => child.on('close', (code) => r(code))), output: '' };
    this.running.add(p);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const timer = setTimeout(() => void stopProcessGroup(p, 'SIGTERM', STOP_GRACE_MS), timeoutMs);
    const code = await p.exited;
    clearTimeout(timer);
    this.running.delete(p);
    return { code, out: out.trim(), err: err.trim() };
  }

  /** PIDs of every process still running (the namespaces' wrappers; their children are in the same groups). */
  pids(): number[] {
    return [...this.running].map((p) => p.child.pid!).filter(Boolean);
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.running].map((p) => stopProcessGroup(p, 'SIGTERM', STOP_GRACE_MS)));
  }
}

/** How long a lab process has after SIGTERM before SIGKILL (a miner writes its chain as it stops). */
export const STOP_GRACE_MS = 8000;

/** Every PID in the process groups of these leaders (from /proc). */
function groupMembers(leaders: readonly number[]): number[] {
  const want = new Set(leaders);
  const out: number[] = [];
  for (const name of listProc()) {
    const stat = procStat(name);
    if (stat && (want.has(stat.pgrp) || want.has(name))) out.push(name);
  }
  return out;
}

function listProc(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

function procStat(pid: number): { pgrp: number; cpuTicks: number; rssPages: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields after the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12) ... rss(21).
    return { pgrp: Number(f[2]), cpuTicks: Number(f[11]) + Number(f[12]), rssPages: Number(f[21]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far and resident memory now, summed over the groups of these leaders. */
export function usage(leaders: readonly number[]): { processes: number; cpuSeconds: number; rssMB: number } {
  const pids = groupMembers(leaders);
  let ticks = 0;
  let pages = 0;
  for (const pid of pids) {
    const s = procStat(pid);
    if (!s) continue;
    ticks += s.cpuTicks;
    pages += s.rssPages;
  }
  // USER_HZ is 100 and pages are 4 KiB on Linux x86-64 and arm64.
  return { processes: pids.length, cpuSeconds: ticks / 100, rssMB: Math.round((pages * 4096) / 1e5) / 10 };
}

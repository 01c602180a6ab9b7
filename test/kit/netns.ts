// Test harness for several "hosts" on one Linux machine: each host is a network namespace with a
// veth link into a bridge that lives in a namespace of its own (the "switch"), on a private /24.
// Nothing is created in, or routed through, the machine's own namespace: deleting the namespaces
// removes every veth and the bridge with them. Needs root and iproute2 (`ip netns`).
//
// Processes run inside a host with `ip netns exec <ns> ...`; NetnsAgent is a helper process there
// (netns-agent.ts) that reports the status broadcasts it hears and fetches chains / sends
// transactions from inside the namespace on the test's behalf; HostCommands runs short-lived
// commands (a wallet's) in a host to completion, each bounded by a timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { track } from './processes.js';
import { randomInt } from 'node:crypto';
import { type Block, decodeBlock } from '../../src/shared/core/block.js';
import { fromHex, toHex } from '../../src/shared/core/bytes.js';
import { ROOT, stopProcGroup, waitConverged, waitFor } from './procs.js';
import { NamespaceSet, cleanupLeftovers as cleanupPrefixed, execIn, ip } from '../../src/lab/netns-primitives.js';

// Why namespaces cannot be used here (Linux, root and `ip` are needed), and the namespaces that exist.
export { listNamespaces, netnsUnavailable } from '../../src/lab/netns-primitives.js';

export const AGENT_BIN = join(ROOT, 'dist/test/kit/netns-agent.js');

/** Every namespace this harness creates is named `${NETNS_PREFIX}-<pid of the test process>-<n>-<role>`. */
export const NETNS_PREFIX = 'mvbmh';

/**
 * Deletes namespaces this harness left behind in a run that crashed: only names of our pattern
 * whose test process is gone. Processes still inside them are not ended (we did not start them in
 * this run); they are reported instead. Returns what was removed, and warnings.
 */
export function cleanupLeftovers(): { removed: string[]; warnings: string[] } {
  return cleanupPrefixed(NETNS_PREFIX);
}

export interface LanHost {
  /** h1, h2, ... */
  readonly name: string;
  /** The host's network namespace. */
  readonly ns: string;
  /** The host's address on the LAN. */
  readonly ip: string;
  /** The switch-side end of the host's veth (its "switch port"). */
  readonly switchPort: string;
}

let lanCounter = 0;

/** A switched /24 of hosts in network namespaces. */
export class Lan {
  readonly id = `${NETNS_PREFIX}-${process.pid}-${++lanCounter}`;
  /** 10.213.<random>: the first three octets. */
  readonly net24 = `10.213.${randomInt(1, 255)}`;
  readonly broadcast = `${this.net24}.255`;
  readonly switchNs = `${this.id}-sw`;
  readonly hosts: LanHost[] = [];
  private readonly namespaces = new NamespaceSet();
  private destroyed = false;

  private constructor() {}

  /** Builds the LAN; on any failure removes what it created and throws ip's error. */
  static create(hostCount: number): Lan {
    const lan = new Lan();
    try {
      lan.build(hostCount);
    } catch (e) {
      lan.destroy();
      throw e;
    }
    return lan;
  }

  private build(hostCount: number): void {
    const sw = this.switchNs;
    this.namespaces.add(sw);
    ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    for (let i = 1; i <= hostCount; i++) {
      const host: LanHost = { name: `h${i}`, ns: `${this.id}-h${i}`, ip: `${this.net24}.${i}`, switchPort: `port${i}` };
      this.namespaces.add(host.ns);
      // Both ends are created in the switch namespace and one is moved straight into the host's.
      ip(['-n', sw, 'link', 'add', host.switchPort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
      ip(['-n', sw, 'link', 'set', host.switchPort, 'master', 'br0']);
      ip(['-n', sw, 'link', 'set', host.switchPort, 'up']);
      ip(['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'broadcast', this.broadcast, 'dev', 'eth0']);
      ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
      this.hosts.push(host);
    }
  }

  /** The command prefix that runs a program inside the host. */
  exec(h: LanHost): string[] {
    return execIn(h.ns);
  }

  /** Pulls the host's cable: its switch port goes down (the host sees NO-CARRIER). */
  cut(h: LanHost): void {
    ip(['-n', this.switchNs, 'link', 'set', h.switchPort, 'down']);
  }

  /**
   * Client isolation, as a Wi-Fi access point does it: the bridge port is "isolated", so the host
   * reaches only ports that are not (here: the teacher's), neither broadcast nor unicast to other
   * isolated hosts passing (Linux bridge's isolated flag, the AP's client isolation).
   */
  isolate(h: LanHost): void {
    ip(['-n', this.switchNs, 'link', 'set', 'dev', h.switchPort, 'type', 'bridge_slave', 'isolated', 'on']);
  }

  heal(h: LanHost): void {
    ip(['-n', this.switchNs, 'link', 'set', h.switchPort, 'up']);
  }

  /** Removes every namespace (and so every veth and the bridge); safe to call twice. Returns errors. */
  destroy(): string[] {
    if (this.destroyed) return [];
    this.destroyed = true;
    return this.namespaces.deleteAll();
  }
}

/** A status broadcast as an agent heard it. */
export interface HeardStatus {
  readonly nodeId: string;
  readonly height: number;
  readonly tip: string;
  readonly chainWork: bigint;
  readonly mempool: number;
  /** Sender's address. */
  readonly from: string;
}

/** The latest status of every node, merged from all agents (a node's chain work never goes down). */
export class StatusView {
  readonly latest = new Map<string, HeardStatus>();

  add(s: HeardStatus): void {
    const prev = this.latest.get(s.nodeId);
    if (!prev || s.chainWork >= prev.chainWork) this.latest.set(s.nodeId, s);
  }

  of(nodeId: string): HeardStatus | undefined {
    return this.latest.get(nodeId);
  }

  describe(nodeIds: readonly string[]): string {
    return nodeIds.map((n) => `${n.slice(0, 6)}@${this.latest.get(n)?.height}:${this.latest.get(n)?.tip.slice(0, 8)}`).join(' ');
  }

  /** Waits until every listed node announces the same tip at height >= minHeight. */
  converged(nodeIds: readonly string[], minHeight: number, timeoutMs: number): Promise<HeardStatus> {
    return waitConverged(
      nodeIds,
      (n) => this.latest.get(n),
      (s) => s.tip,
      minHeight,
      timeoutMs,
    );
  }
}

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** The test's hands inside one host (see netns-agent.ts). */
export class NetnsAgent {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buf = '';
  private errText = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly host: LanHost,
    readonly child: ChildProcess,
    onStatus: (s: HeardStatus) => void,
    onReady: () => void,
  ) {
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
    child.on('error', (e) => (this.errText += `spawn: ${e.message}\n`));
    child.stderr!.on('data', (d) => (this.errText = (this.errText + d).slice(-4000)));
    child.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        let m: Record<string, unknown>;
        try {
          m = JSON.parse(line);
        } catch {
          continue;
        }
        if (m['ev'] === 'ready') onReady();
        else if (m['ev'] === 'status') onStatus({ ...(m as unknown as HeardStatus), chainWork: BigInt(m['chainWork'] as string) });
        else if (typeof m['id'] === 'number') {
          const p = this.pending.get(m['id']);
          if (!p) continue;
          this.pending.delete(m['id']);
          clearTimeout(p.timer);
          if (m['ok']) p.resolve(m);
          else p.reject(new Error(`${host.name}: ${String(m['error'])}`));
        }
      }
    });
    void this.exited.then((code) => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${host.name} agent exited (${code}): ${this.errText}`));
      }
      this.pending.clear();
    });
  }

  /** Starts an agent in the host; sets are config overrides (as --set) it loads devnet settings with. */
  static async start(lan: Lan, host: LanHost, sets: Record<string, unknown>, onStatus: (s: HeardStatus) => void): Promise<NetnsAgent> {
    const [cmd, ...pre] = [...lan.exec(host), process.execPath, AGENT_BIN, JSON.stringify(sets)];
    // A process group of its own, so stop() can end the wrapper and node together.
    const child = track(spawn(cmd!, pre, { stdio: ['pipe', 'pipe', 'pipe'], detached: true }), true);
    let ready = false;
    const agent = new NetnsAgent(host, child, onStatus, () => (ready = true));
    try {
      await waitFor(
        () => ready,
        15_000,
        () => `agent in ${host.name} did not start: ${agent.errText}`,
        agent.exited,
      );
    } catch (e) {
      await agent.stop();
      throw e;
    }
    return agent;
  }

  private request(op: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.host.name} agent: no answer to ${String(op['op'])} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin!.write(JSON.stringify({ id, ...op }) + '\n');
    });
  }

  /** The active chain (blocks after genesis) served by the block server at host:port, fetched from inside this host. */
  async chain(host: string, port: number): Promise<Block[]> {
    const r = await this.request({ op: 'chain', host, port });
    return (r['blocks'] as string[]).map((h) => decodeBlock(fromHex(h)));
  }

  /** Sends one TX frame from a throwaway socket inside this host (what a wallet does). */
  async send(raw: Uint8Array, port: number, addresses: readonly string[]): Promise<void> {
    await this.request({ op: 'send', hex: toHex(raw), port, addresses });
  }

  /** Closes stdin (the agent exits); signals its process group if it does not. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    // SIGTERM to its group after graceMs, SIGKILL graceMs later.
    const t = setTimeout(() => void stopProcGroup(this, 'SIGTERM', graceMs), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** A command run to completion inside a host. */
export interface HostRun {
  /** Exit code; null if it was ended by a signal (e.g. at its timeout). */
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

/**
 * Short-lived commands run inside hosts of a LAN, each in a process group of its own and bounded by
 * a timeout (after which the group is ended). stopAll() ends whatever is still running: call it
 * before the LAN is destroyed.
 */
export class HostCommands {
  private readonly running = new Set<{ child: ChildProcess; exited: Promise<number | null> }>();

  constructor(private readonly lan: Lan) {}

  run(h: LanHost, argv: readonly string[], o: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<HostRun> {
    const t0 = Date.now();
    const [cmd, ...args] = [...this.lan.exec(h), ...argv];
    const child = track(spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(o.env ? { env: o.env } : {}) }), true);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const p = { child, exited };
    this.running.add(p);
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      timedOut = true;
      void stopProcGroup(p, 'SIGTERM', 3000);
    }, o.timeoutMs);
    return new Promise((resolve) => {
      const finish = (code: number | null) => {
        clearTimeout(timer);
        this.running.delete(p);
        resolve({ code, out: out.trimEnd(), err: err.trimEnd(), ms: Date.now() - t0, timedOut });
      };
      // 'close': the process ended and its output is read to the end.
      child.on('close', (code) => finish(code));
      child.on('error', (e) => {
        err += `\nspawn ${cmd}: ${e.message}\n`;
        if (child.pid === undefined) finish(null);
      });
    });
  }

  /** Ends every command still running (its whole process group) and waits for them. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.running].map((p) => stopProcGroup(p, 'SIGKILL', 3000)));
  }
}

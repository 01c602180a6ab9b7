// Emulated networks on one Linux machine: every host is a network namespace with one veth cable
// to a switch that lives in a namespace of its own, on a private /24. Nothing is created in, or
// routed through, the machine's own namespace, so deleting the namespaces removes every veth with
// them. Needs root, iproute2 (`ip`) and python3.
//
// The switch is scripts/lab-switch.py, a user-space Ethernet switch on packet sockets that shapes
// every ordered pair of hosts (i -> j) on its own: delay, jitter, loss, rate, as netem would. (The
// kernel's sch_netem is not always built in, CONFIG_NET_SCH_NETEM; this one needs nothing but
// python3.) A pair that is not linked exchanges no IP packet, which makes any topology (ring,
// random graph, explicit links) out of one subnet with real broadcast; ARP passes unshaped.
// Partitions and muting (a host's UDP dropped: its broadcasts unheard) change while it runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import { NamespaceSet, NetnsError, execIn, ipBatch, netnsUnavailable as namespacesUnavailable, run } from './netns-primitives.js';

export { NetnsError, cleanupLeftovers, listNamespaces } from './netns-primitives.js';

/** One direction of a link: what netem does to packets from one host to another. */
export interface LinkShape {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly lossPercent: number;
  /** 0 = no rate limit. */
  readonly rateMbit: number;
}

export const UNSHAPED: LinkShape = { delayMs: 0, jitterMs: 0, lossPercent: 0, rateMbit: 0 };
/** At most this many hosts on one emulated subnet (a /24, .1 to .250). */
export const MAX_HOSTS = 250;

/** Why emulated networks cannot be built here, or undefined if they probably can. */
export function netnsUnavailable(): string | undefined {
  return namespacesUnavailable(['python3']); // the switch (scripts/lab-switch.py) shapes the links
}

export interface NetHost {
  /** Index from 0. */
  readonly index: number;
  /** h1, h2, ... */
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  /** The switch-side end of the host's veth. */
  readonly switchPort: string;
}

let netCounter = 0;

/** scripts/lab-switch.py, from dist/src/shared/node/ or src/shared/node/. */
export const SWITCH_SCRIPT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../scripts/lab-switch.py' : '../../scripts/lab-switch.py', import.meta.url),
);

/** A switched /24 of hosts in network namespaces with a shape per ordered pair. */
export class EmulatedNet {
  readonly id: string;
  readonly net24 = `10.214.${randomInt(1, 255)}`;
  readonly broadcast = `${this.net24}.255`;
  readonly switchNs: string;
  readonly hosts: NetHost[] = [];
  /** shapes[i][j]: packets from host i to host j; undefined = not linked (dropped). */
  private shapes: (LinkShape | undefined)[][] = [];
  private readonly namespaces = new NamespaceSet();
  private switchProc?: ChildProcess;
  private switchExited?: Promise<void>;
  private replies: ((line: string) => void)[] = [];
  private switchErr = '';
  private readonly scratch: string;
  private destroyed = false;

  private constructor(prefix: string) {
    this.id = `${prefix}-${process.pid}-${++netCounter}`;
    this.switchNs = `${this.id}-sw`;
    this.scratch = mkdtempSync(join(tmpdir(), `${this.id}-`));
  }

  /**
   * Builds the network: hostCount hosts, shape(i, j) for each ordered pair (undefined: no link),
   * and starts its switch. On any failure removes what it created and throws.
   */
  static async create(prefix: string, hostCount: number, shape: (i: number, j: number) => LinkShape | undefined): Promise<EmulatedNet> {
    if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > MAX_HOSTS)
      throw new NetnsError(`hosts must be 1 to ${MAX_HOSTS}, got ${hostCount}`);
    const net = new EmulatedNet(prefix);
    try {
      net.build(hostCount);
      net.shapes = net.hosts.map((a) => net.hosts.map((b) => (a.index === b.index ? UNSHAPED : shape(a.index, b.index))));
      await net.startSwitch();
    } catch (e) {
      await net.destroy();
      throw e;
    }
    return net;
  }

  private build(hostCount: number): void {
    const sw = this.switchNs;
    this.namespaces.add(sw);
    const batch: string[] = [];
    for (let i = 0; i < hostCount; i++) {
      const host: NetHost = {
        index: i,
        name: `h${i + 1}`,
        ns: `${this.id}-h${i + 1}`,
        ip: `${this.net24}.${i + 1}`,
        switchPort: `port${i + 1}`,
      };
      this.namespaces.add(host.ns);
      // Both ends are made in the switch namespace, one moved straight into the host's.
      batch.push(`link add ${host.switchPort} type veth peer name eth0 netns ${host.ns}`, `link set ${host.switchPort} up`);
      this.hosts.push(host);
    }
    ipBatch(sw, batch);
    for (const h of this.hosts) {
      ipBatch(h.ns, [`addr add ${h.ip}/24 broadcast ${this.broadcast} dev eth0`, 'link set eth0 up']);
      // Frames leave the host whole and checksummed, so the switch can forward them as they are.
      run('ip', ['netns', 'exec', h.ns, 'python3', SWITCH_SCRIPT, '--offload-off', 'eth0']);
    }
  }

  private async startSwitch(): Promise<void> {
    const cfg = join(this.scratch, 'switch.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        ports: this.hosts.map((h) => h.switchPort),
        shapes: this.shapes.map((r) => r.map((x) => x ?? null)),
        seed: randomInt(1, 2 ** 31),
      }),
    );
    const child = spawn('ip', ['netns', 'exec', this.switchNs, 'python3', SWITCH_SCRIPT, cfg], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.switchProc = child;
    this.switchExited = new Promise((r) => child.on('close', () => r()));
    child.on('error', (e) => (this.switchErr += e.message));
    child.stderr!.on('data', (d) => (this.switchErr = (this.switchErr + d).slice(-2000)));
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        this.replies.shift()?.(line);
      }
    });
    const ready = await this.reply(20_000);
    if (ready !== 'ready') throw new NetnsError(`the switch did not start: ${this.switchErr.trim() || ready}`);
  }

  /** The switch's next line on stdout, within timeoutMs. */
  private reply(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new NetnsError(`the switch did not answer within ${timeoutMs} ms: ${this.switchErr.trim()}`)),
        timeoutMs,
      );
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.replies.push(done);
      void this.switchExited?.then(() => done(`exited: ${this.switchErr.trim()}`));
    });
  }

  private async control(msg: Record<string, unknown>): Promise<string> {
    if (!this.switchProc || this.switchProc.exitCode !== null) throw new NetnsError(`the switch is not running: ${this.switchErr.trim()}`);
    const answer = this.reply(10_000);
    this.switchProc.stdin!.write(JSON.stringify(msg) + '\n');
    const line = await answer;
    if (line.startsWith('exited')) throw new NetnsError(`the switch ${line}`);
    return line;
  }

  /** The configured shape from host i to host j (undefined: not linked). */
  shapeOf(i: number, j: number): LinkShape | undefined {
    return this.shapes[i]?.[j];
  }

  /** Neighbours of host i (hosts it has a link to). */
  neighbours(i: number): number[] {
    return this.hosts.filter((h) => h.index !== i && this.shapes[i]![h.index] !== undefined).map((h) => h.index);
  }

  /** Cuts every link between different groups (hosts not listed form a group of their own each). */
  async partition(groups: readonly (readonly number[])[]): Promise<void> {
    const n = this.hosts.length;
    const groupOf = new Map<number, number>();
    groups.forEach((g, k) => g.forEach((i) => groupOf.set(i, k)));
    const cut: [number, number][] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (i !== j && (groupOf.get(i) ?? -1 - i) !== (groupOf.get(j) ?? -1 - j)) cut.push([i, j]);
    await this.control({ cut });
  }

  /** Cuts host i off from everyone (both directions). */
  isolate(i: number): Promise<void> {
    return this.partition([this.hosts.filter((h) => h.index !== i).map((h) => h.index), [i]]);
  }

  /** Restores every link's configured shape. */
  async heal(): Promise<void> {
    await this.control({ cut: [] });
  }

  /** Drops the UDP these hosts send (their status and transaction broadcasts go unheard); TCP passes. */
  async mute(hosts: readonly number[]): Promise<void> {
    await this.control({ mute: hosts });
  }

  /** Frames the switch forwarded and dropped so far. */
  async switchStats(): Promise<{ forwarded: number; dropped: number }> {
    return JSON.parse(await this.control({ stats: true })) as { forwarded: number; dropped: number };
  }

  /** The switch process (for CPU and memory accounting). */
  get switchPid(): number | undefined {
    return this.switchProc?.pid;
  }

  /** The command prefix that runs a program inside host h. */
  exec(h: NetHost): string[] {
    return execIn(h.ns);
  }

  /** Namespaces this network made that still exist. */
  remaining(): string[] {
    return this.namespaces.remaining();
  }

  /**
   * Stops the switch and removes every namespace (and so every veth) and the scratch folder; safe
   * to call twice. Returns errors.
   */
  async destroy(): Promise<string[]> {
    if (this.destroyed) return [];
    this.destroyed = true;
    const sw = this.switchProc;
    if (sw && sw.exitCode === null && sw.signalCode === null) {
      sw.stdin!.end();
      const t = setTimeout(() => sw.kill('SIGKILL'), 3000);
      await this.switchExited;
      clearTimeout(t);
    }
    const errors = this.namespaces.deleteAll();
    rmSync(this.scratch, { recursive: true, force: true });
    return errors;
  }
}

/** A scratch directory for a run (the caller removes it). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

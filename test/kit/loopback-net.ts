// One loopback test network for one test: fresh ports, devnet settings on them (broadcast
// 127.255.255.255), a status watcher listening on them, and every miner and data folder the test
// made through it, all ended and removed by close() (call it in afterEach).
import type { Settings } from '../../src/shared/node/cli/config.js';
import { type MinerProc, type NetPorts, StatusWatcher, netPorts, removeDir, startMiner, stopProc, tempDir, testSettings } from './procs.js';

export class LoopbackNet {
  private readonly procs: MinerProc[] = [];
  private readonly dirs: string[] = [];

  private constructor(
    readonly ports: NetPorts,
    readonly settings: Settings,
    readonly watcher: StatusWatcher,
  ) {}

  static async open(): Promise<LoopbackNet> {
    const ports = await netPorts();
    const settings = testSettings(ports);
    const watcher = new StatusWatcher(settings);
    await watcher.start();
    return new LoopbackNet(ports, settings, watcher);
  }

  /** A fresh temporary folder, removed by close(). */
  tempDir(prefix: string): string {
    const dir = tempDir(prefix);
    this.dirs.push(dir);
    return dir;
  }

  /**
   * Starts a miner paying rewards to address, on datadir (a fresh folder named after dirPrefix if
   * not given) and on ports p (this network's unless given); close() stops it.
   */
  async miner(o: {
    address: string;
    args?: string[];
    sets?: Record<string, unknown>;
    datadir?: string;
    dirPrefix?: string;
    ports?: NetPorts;
  }): Promise<MinerProc> {
    const datadir = o.datadir ?? this.tempDir(o.dirPrefix ?? 'miner');
    const m = await startMiner({
      ports: o.ports ?? this.ports,
      datadir,
      args: ['--address', o.address, ...(o.args ?? [])],
      sets: o.sets ?? {},
    });
    this.procs.push(m);
    return m;
  }

  /** Leaves a miner the test has already stopped out of close(). */
  forget(m: MinerProc): void {
    const i = this.procs.indexOf(m);
    if (i >= 0) this.procs.splice(i, 1);
  }

  /** Stops every miner still running, closes the watcher and removes the folders. */
  async close(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((p) => stopProc(p)));
    await this.watcher.close();
    for (const d of this.dirs.splice(0)) removeDir(d);
  }
}

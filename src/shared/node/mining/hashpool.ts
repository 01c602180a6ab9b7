// Mining threads: one worker per thread, each given a disjoint slice of the 2^32 nonces of the
// current header. The event loop only hands out jobs and collects results.
import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import type { FromWorker, ToWorker } from './hash-worker.js';
import type { HashKernel } from './sha256d.js';

export interface PoolEvents {
  found: [jobId: number, nonce: number];
  exhausted: [jobId: number];
  error: [Error];
}

/** One worker's hashes since it started, exact at `at` (ms since the epoch). */
export interface WorkerCount {
  readonly total: number;
  readonly at: number;
}

export class HashPool extends EventEmitter<PoolEvents> {
  private readonly workers: Worker[] = [];
  private exhaustedCount = 0;
  private currentJob = -1;
  /** Total header hashes since start. */
  hashes = 0;
  private rateWindow: { t: number; h: number }[] = [];
  private countRequests = 0;
  private readonly pendingCounts = new Map<number, { answers: WorkerCount[]; answered: number; resolve: (c: WorkerCount[]) => void }>();

  /** kernel: the SIMD kernel where available ('auto', what the miner runs) or one forced. */
  constructor(
    readonly threads: number,
    readonly kernel: HashKernel | 'auto' = 'auto',
  ) {
    super();
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url));
      w.on('message', (m: FromWorker) => this.onMessage(m, i));
      w.on('error', (e) => this.emit('error', e));
      this.workers.push(w);
    }
  }

  private onMessage(m: FromWorker, worker: number): void {
    if (m.type === 'hashes') this.hashes += m.count;
    else if (m.type === 'count') this.onCount(m.id, worker, { total: m.total, at: m.at });
    else if (m.type === 'found') {
      if (m.jobId === this.currentJob) {
        this.currentJob = -1;
        this.post({ type: 'idle' });
        this.emit('found', m.jobId, m.nonce);
      }
    } else if (m.type === 'exhausted' && m.jobId === this.currentJob) {
      if (++this.exhaustedCount === this.workers.length) this.emit('exhausted', m.jobId);
    }
  }

  private post(m: ToWorker): void {
    for (const w of this.workers) w.postMessage(m);
  }

  /** Starts a job on every thread (replacing any current one). maxHashrate 0 = no cap. */
  start(jobId: number, header: Uint8Array, target: bigint, maxHashrate = 0): void {
    this.currentJob = jobId;
    this.exhaustedCount = 0;
    const n = this.workers.length;
    const slice = Math.floor(0x100000000 / n);
    const targetHex = target.toString(16).padStart(64, '0');
    const rate = maxHashrate > 0 ? maxHashrate / n : 0;
    this.workers.forEach((w, i) => {
      const from = i * slice;
      const to = i === n - 1 ? 0x100000000 : from + slice;
      w.postMessage({ type: 'job', jobId, header, target: targetHex, from, to, rate, kernel: this.kernel } satisfies ToWorker);
    });
  }

  /**
   * Every worker's exact hash count (in worker order) and when it held (each answers between two of its chunks, so
   * a count is exact at its own `at`). For rates over a window: difference of two calls per worker.
   */
  counts(): Promise<WorkerCount[]> {
    const id = ++this.countRequests;
    return new Promise((resolve) => {
      this.pendingCounts.set(id, { answers: [], answered: 0, resolve });
      this.post({ type: 'count', id });
    });
  }

  private onCount(id: number, worker: number, c: WorkerCount): void {
    const p = this.pendingCounts.get(id);
    if (!p || p.answers[worker]) return;
    p.answers[worker] = c;
    if (++p.answered < this.workers.length) return;
    this.pendingCounts.delete(id);
    p.resolve(p.answers);
  }

  idle(): void {
    this.currentJob = -1;
    this.post({ type: 'idle' });
  }

  /** Hashes per second over roughly the last windowMs. */
  rate(windowMs = 10_000): number {
    const now = Date.now();
    this.rateWindow.push({ t: now, h: this.hashes });
    while (this.rateWindow.length > 2 && now - this.rateWindow[0]!.t > windowMs) this.rateWindow.shift();
    const first = this.rateWindow[0]!;
    const dt = (now - first.t) / 1000;
    return dt > 0 ? (this.hashes - first.h) / dt : 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A hash rate for people: 1234567 → '1.23 MH/s'. */
export function formatRate(h: number): string {
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s'];
  let i = 0;
  while (h >= 1000 && i < units.length - 1) {
    h /= 1000;
    i++;
  }
  return `${h.toFixed(i === 0 ? 0 : 2)} ${units[i]}`;
}

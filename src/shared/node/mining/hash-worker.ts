// A mining thread: scans a nonce range of one header job, in chunks so that a new job (new tip,
// new transactions) or a stop takes effect within a few milliseconds, and reports its hash count.
// An optional hash-rate cap (devnet) sleeps between chunks.
import { parentPort } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHeaderHasher } from './sha256d-simd.js';
import type { HashKernel } from './sha256d.js';

export interface JobMessage {
  readonly type: 'job';
  readonly jobId: number;
  readonly header: Uint8Array;
  /** Target as a hex string (bigint does not cross postMessage in every Node). */
  readonly target: string;
  readonly from: number;
  readonly to: number;
  /** Hashes per second for this thread; 0 = no cap. */
  readonly rate: number;
  /** Which scan loop: the SIMD kernel where available ('auto'), or one forced (benchmarks). */
  readonly kernel: HashKernel | 'auto';
}
/** Asks for the worker's exact hash count: answered between two chunks, the job going on. */
export interface CountRequest {
  readonly type: 'count';
  readonly id: number;
}
export type ToWorker = JobMessage | CountRequest | { readonly type: 'idle' } | { readonly type: 'exit' };
export type FromWorker =
  | { readonly type: 'found'; readonly jobId: number; readonly nonce: number }
  | { readonly type: 'exhausted'; readonly jobId: number }
  | { readonly type: 'hashes'; readonly count: number }
  /** Every hash this worker computed since it started, as of `at` (ms since the epoch, this thread's clock). */
  | { readonly type: 'count'; readonly id: number; readonly total: number; readonly at: number };

const port = parentPort!;
let job: JobMessage | undefined;
let generation = 0;
/** Hashes computed since the worker started (exact: counted chunk by chunk). */
let total = 0;

function post(m: FromWorker): void {
  port.postMessage(m);
}

async function run(j: JobMessage, gen: number): Promise<void> {
  const hasher = createHeaderHasher(j.header, BigInt('0x' + j.target), j.kernel);
  const chunk = j.rate > 0 ? Math.max(64, Math.min(65536, Math.floor(j.rate / 20))) : 65536;
  const started = performance.now();
  let done = 0;
  let unreported = 0;
  let lastReport = started;
  for (let n = j.from; n < j.to;) {
    const end = Math.min(j.to, n + chunk);
    const found = hasher.scan(n, end);
    const count = (found >= 0 ? found + 1 : end) - n;
    done += count;
    total += count;
    unreported += count;
    const now = performance.now();
    if (found >= 0 || now - lastReport > 250) {
      post({ type: 'hashes', count: unreported });
      unreported = 0;
      lastReport = now;
    }
    if (found >= 0) {
      post({ type: 'found', jobId: j.jobId, nonce: found });
      return;
    }
    n = end;
    // Let messages in (a new job ends this one), and keep to the rate cap if there is one.
    const ahead = j.rate > 0 ? (done / j.rate) * 1000 - (performance.now() - started) : 0;
    if (ahead > 1) await sleep(ahead);
    else await new Promise((r) => setImmediate(r));
    if (gen !== generation) {
      if (unreported) post({ type: 'hashes', count: unreported });
      return;
    }
  }
  if (unreported) post({ type: 'hashes', count: unreported });
  post({ type: 'exhausted', jobId: j.jobId });
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'count') {
    // Not a new job: the scan goes on.
    post({ type: 'count', id: m.id, total, at: performance.timeOrigin + performance.now() });
    return;
  }
  generation++;
  if (m.type === 'exit') {
    port.close();
    return;
  }
  if (m.type === 'idle') {
    job = undefined;
    return;
  }
  job = m;
  void run(job, generation);
});

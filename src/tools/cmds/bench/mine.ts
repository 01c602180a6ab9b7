// `mvb bench mine`: header hashes per second of the miner's real code path (worker threads running
// the SIMD kernel, or the JS scan; 2 threads always against 1) against, in the same run, the SHA-NI bound (OpenSSL's SHA-256
// through node:crypto over 16 KiB buffers, as `openssl speed -bytes 16384 -evp sha256`: bytes/s
// / 64 = compressions/s, / 2 = header hashes/s with a midstate) and the plain Python hashlib loop
// (scripts/python-baseline.py). Each run measures everything once, in turn, so load on a shared
// machine hits numerator and denominator alike.
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { HashPool } from '../../../shared/node/mining/hashpool.js';
import type { HashKernel } from '../../../shared/node/mining/sha256d.js';
import { simdAvailable } from '../../../shared/node/mining/sha256d-simd.js';
import { flag, numberOption } from '../../../shared/node/cli/command.js';
import { type BenchReport, atLeast, benchCommand, figure, ratio, runsOption, secondsOption } from './report.js';

export interface MineOptions {
  readonly seconds: number;
  readonly runs: number;
  /** Threads for a further figure beside 1 and 2 threads (measured when above 2). */
  readonly threads: number;
  /** Skip the Python baseline (no python3 on the machine). */
  readonly python: boolean;
}

/**
 * Header hashes per second of a pool of worker threads over `seconds` (after a JIT warm-up): each
 * worker's exact count at the window's two edges (it answers between two chunks of 65 536 nonces,
 * stamping the time it answered), its hashes over its own window, summed over the workers.
 */
export async function poolRate(threads: number, kernel: HashKernel | 'auto', seconds: number): Promise<number> {
  const pool = new HashPool(threads, kernel);
  try {
    const header = new Uint8Array(80);
    for (let i = 0; i < 76; i++) header[i] = (i * 37 + 11) & 0xff;
    pool.start(1, header, 0n);
    await sleep(400);
    const before = await pool.counts();
    await sleep(seconds * 1000);
    const after = await pool.counts();
    pool.idle();
    return after.reduce((sum, a, i) => sum + (a.total - before[i]!.total) / ((a.at - before[i]!.at) / 1000), 0);
  } finally {
    await pool.close();
  }
}

/** OpenSSL SHA-256 on one thread, as header hashes per second: bytes/s / 64 / 2. */
export function shaBound(seconds: number): number {
  const buf = Buffer.alloc(16384, 7);
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) createHash('sha256').update(buf).digest();
    n += 16;
  }
  return (n * buf.length) / 64 / 2 / ((performance.now() - t0) / 1000);
}

/** The Python hashlib loop's hashes per second, or undefined if python3 cannot run it. */
export function pythonRate(seconds: number): number | undefined {
  const script = fileURLToPath(new URL('../../../../../scripts/python-baseline.py', import.meta.url));
  const r = spawnSync('python3', [script, String(seconds)], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  try {
    const v = (JSON.parse(r.stdout) as { hashesPerSecond?: unknown }).hashesPerSecond;
    return typeof v === 'number' && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function benchMine(o: MineOptions): Promise<BenchReport> {
  const simd = simdAvailable();
  const kernel: HashKernel = simd ? 'wasm-simd' : 'js';
  const m = {
    bound: [] as number[],
    one: [] as number[],
    two: [] as number[],
    many: [] as number[],
    js: [] as number[],
    py: [] as number[],
  };
  for (let r = 0; r < o.runs; r++) {
    m.bound.push(shaBound(o.seconds));
    m.one.push(await poolRate(1, kernel, o.seconds));
    m.two.push(await poolRate(2, kernel, o.seconds));
    if (o.threads > 2) m.many.push(await poolRate(o.threads, kernel, o.seconds));
    m.js.push(await poolRate(1, 'js', o.seconds));
    const py = o.python ? pythonRate(o.seconds) : undefined;
    if (py !== undefined) m.py.push(py);
  }
  const figures = [
    figure(`${kernel} kernel, 1 thread`, 'H/s', m.one),
    figure(`${kernel} kernel, 2 threads`, 'H/s', m.two),
    ...(m.many.length ? [figure(`${kernel} kernel, ${o.threads} threads`, 'H/s', m.many)] : []),
    figure('JS scan, 1 thread', 'H/s', m.js),
    figure('SHA-NI bound (node:crypto SHA-256 / 128 B)', 'H/s', m.bound),
    ...(m.py.length === o.runs ? [figure('Python hashlib loop', 'H/s', m.py)] : []),
  ];
  const ratios = [
    ratio('1 thread / SHA-NI bound', m.one, m.bound, atLeast(0.4, 0.2)),
    ...(m.py.length === o.runs ? [ratio('1 thread / Python loop', m.one, m.py, atLeast(3, 1.5))] : []),
    ratio('2 threads / 1 thread', m.two, m.one, atLeast(1.85, 0.8)),
    ...(m.many.length ? [ratio(`${o.threads} threads / 1 thread`, m.many, m.one)] : []),
    ratio('kernel / JS scan', m.one, m.js),
  ];
  const notes = [
    ...(simd ? [] : ['WebAssembly SIMD is not available here: the miner runs the JS scan']),
    ...(o.python && m.py.length < o.runs ? ['python3 could not run scripts/python-baseline.py: no Python figure'] : []),
    `${availableParallelism()} cores; ${o.runs} run(s) of ${o.seconds} s per measurement`,
  ];
  return { bench: 'mine', figures, ratios, notes };
}

export const benchMineCommand = benchCommand(
  {
    name: 'mine',
    describe: 'header hashes per second: SIMD kernel on 1 and 2 threads (and N), JS scan, SHA-NI bound, Python loop',
    options: {
      seconds: secondsOption(2),
      runs: runsOption(),
      threads: numberOption('--threads <n>', 'threads for a further figure when above 2 (default: all cores)', 1, 256),
      python: flag('--no-python', 'skip the Python baseline'),
    },
    quick: { seconds: 0.3, runs: 3 },
  },
  (opts): MineOptions => ({
    seconds: opts.seconds,
    runs: opts.runs,
    threads: opts.threads ?? availableParallelism(),
    python: opts.python,
  }),
  benchMine,
);

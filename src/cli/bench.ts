// `mvb bench mine`: header hashes per second of the miner's hashing threads (the real code path:
// worker threads running the midstate SHA-256d scan over an 80-byte header).
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, type CliCommand } from '../shared/cli.js';
import { HashPool } from '../miner/hashpool.js';
import { formatRate } from '../miner/miner.js';

export async function benchMine(threads: number, seconds: number, signal?: AbortSignal): Promise<{ hashesPerSecond: number; hashes: number; seconds: number; threads: number }> {
  const pool = new HashPool(threads);
  try {
    const header = new Uint8Array(80);
    for (let i = 0; i < 76; i++) header[i] = (i * 37 + 11) & 0xff;
    // Warm-up so the JIT has compiled the scan before we count.
    pool.start(1, header, 0n);
    await sleep(500);
    const h0 = pool.hashes;
    const t0 = performance.now();
    await sleep(seconds * 1000, undefined, { signal }).catch(() => {});
    const dt = (performance.now() - t0) / 1000;
    const hashes = pool.hashes - h0;
    pool.idle();
    return { hashesPerSecond: Math.round(hashes / dt), hashes, seconds: Math.round(dt * 100) / 100, threads };
  } finally {
    await pool.close();
  }
}

export const benchCommand: CliCommand = {
  name: 'bench',
  describe: 'Benchmarks: `mvb bench mine` measures header hashes per second',
  args: ['<what>'],
  options: [
    { flags: '--seconds <n>', description: 'how long to measure', default: 5, parser: (v) => Number(v) },
    { flags: '--threads <n>', description: 'mining threads (default: all cores)', parser: (v) => Number(v) },
  ],
  async handler([what], opts, ctx) {
    if (what !== 'mine') throw new CliError(`unknown benchmark "${what}" (available: mine)`, 2);
    const seconds = opts['seconds'] as number;
    const threads = (opts['threads'] as number | undefined) ?? availableParallelism();
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new CliError('--seconds must be a number from 0 to 3600', 2);
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new CliError('--threads must be a whole number from 1 to 1024', 2);
    const r = await benchMine(threads, seconds, ctx.signal);
    if (ctx.json) ctx.io.out(JSON.stringify(r));
    else ctx.io.out(`${formatRate(r.hashesPerSecond)} with ${threads} thread(s) over ${r.seconds}s (${r.hashes} header hashes)`);
    return 0;
  },
};

// `mvb bench mine`: header hashes per second of the miner's hashing threads (the real code path:
// worker threads running the midstate SHA-256d scan over an 80-byte header).
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, type CliCommand, integerOption } from '../shared/node/cli.js';
import { HashPool, formatRate } from '../shared/node/mining/hashpool.js';
import { publicKeyOf, signDer, verifyDer } from '../shared/core/ecdsa.js';
import { opensslVerifier } from '../shared/node/verifier.js';
import { sha256 } from '../shared/core/hash.js';

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

/**
 * Signature verifications per second on one thread: noble-secp256k1 (verifyDer) against OpenSSL
 * through node:crypto (opensslVerifier, what the validator uses), over the same signed sighash.
 */
export function benchVerify(seconds: number): { noblePerSecond: number; nodeCryptoPerSecond: number } {
  const secret = new Uint8Array(32).fill(5);
  const pub = publicKeyOf(secret);
  const preimage = new TextEncoder().encode('mvb bench verify: a legacy sighash preimage stands here');
  const first = sha256(preimage);
  const digest = sha256(first);
  const der = signDer(digest, secret);
  const run = (f: () => boolean): number => {
    const end = performance.now() + (seconds * 1000) / 2;
    let n = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 50; i++) if (!f()) throw new Error('verification failed');
      n += 50;
    }
    return Math.round(n / (seconds / 2));
  };
  return { noblePerSecond: run(() => verifyDer(der, digest, pub)), nodeCryptoPerSecond: run(() => opensslVerifier(der, first, pub)) };
}

export const benchCommand: CliCommand = {
  name: 'bench',
  describe: 'Benchmarks: `mvb bench mine` (header hashes per second), `mvb bench verify` (signature checks per second)',
  args: ['<what>'],
  options: [
    { flags: '--seconds <n>', description: 'how long to measure', default: 5, parser: (v) => Number(v) },
    { flags: '--threads <n>', description: 'mining threads (default: all cores)', parser: integerOption('--threads', 1, 1024) },
  ],
  async handler([what], opts, ctx) {
    if (what !== 'mine' && what !== 'verify') throw new CliError(`unknown benchmark "${what}" (available: mine, verify)`, 2);
    const seconds = opts['seconds'] as number;
    if (what === 'verify') {
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new CliError('--seconds must be more than 0 and at most 3600', 2);
      const v = benchVerify(seconds);
      if (ctx.json) ctx.io.out(JSON.stringify(v));
      else ctx.io.out(`signature verifications per second, one thread: noble-secp256k1 ${v.noblePerSecond}, node:crypto (OpenSSL) ${v.nodeCryptoPerSecond} (${(v.nodeCryptoPerSecond / v.noblePerSecond).toFixed(1)}x)`);
      return 0;
    }
    const threads = (opts['threads'] as number | undefined) ?? availableParallelism();
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new CliError('--seconds must be more than 0 and at most 3600', 2);
    const r = await benchMine(threads, seconds, ctx.signal);
    if (ctx.json) ctx.io.out(JSON.stringify(r));
    else ctx.io.out(`${formatRate(r.hashesPerSecond)} with ${threads} thread(s) over ${r.seconds}s (${r.hashes} header hashes)`);
    return 0;
  },
};

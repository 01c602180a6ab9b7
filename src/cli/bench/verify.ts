// `mvb bench verify`: signature checks per second.
import type { CliCommand } from '../../shared/node/cli.js';
import { publicKeyOf, signDer, verifyDer } from '../../shared/core/ecdsa.js';
import { opensslVerifier } from '../../shared/node/verifier.js';
import { sha256 } from '../../shared/core/hash.js';
import { secondsOption } from './report.js';

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

export const benchVerifyCommand: CliCommand = {
  name: 'verify',
  describe: 'signature verifications per second',
  options: [secondsOption(4)],
  async handler(_args, opts, ctx) {
    const v = benchVerify(opts['seconds'] as number);
    if (ctx.json) ctx.io.out(JSON.stringify(v));
    else ctx.io.out(`signature verifications per second, one thread: noble-secp256k1 ${v.noblePerSecond}, node:crypto (OpenSSL) ${v.nodeCryptoPerSecond} (${(v.nodeCryptoPerSecond / v.noblePerSecond).toFixed(1)}x)`);
    return 0;
  },
};

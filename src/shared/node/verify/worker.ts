// A signature-checking thread: verifies a packed list of (der, firstHash, pubkey) with OpenSSL
// (the same verifier the validator uses) and answers one byte per check, 1 = valid.
import { parentPort } from 'node:worker_threads';
import { opensslVerifier } from './verifier.js';
import { type VerifyRequest, type VerifyResponse, unpackChecks } from './protocol.js';

const port = parentPort!;
port.on('message', (m: VerifyRequest) => {
  const checks = unpackChecks(m.packed);
  const ok = new Uint8Array(checks.length);
  checks.forEach((c, i) => (ok[i] = opensslVerifier(c.der, c.firstHash, c.pubkey) ? 1 : 0));
  port.postMessage({ id: m.id, ok } satisfies VerifyResponse, [ok.buffer]);
});

// The WebAssembly SIMD mining kernel against the JS scan and real proof of work: the checked-in
// module is exactly its generator's output; kernel and JS agree on every nonce of random headers
// (10^6 here; MVB_SIMD_NONCES=N for more: `npm run test:simd-full`); a window around the real
// nonce of each of the first 10 000 mainnet headers (test/vectors/headers) yields exactly that
// nonce; and every nonce found meets its target, checked with the consensus core's own hash.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { bitsToTarget, decodeHeader, fromHex, hashToNumber, sha256d } from '../src/shared/core/index.js';
import { JsHeaderHasher } from '../src/shared/node/mining/sha256d.js';
import { SimdHeaderHasher, createHeaderHasher, simdAvailable } from '../src/shared/node/mining/sha256d-simd.js';
import { loadVectorText } from './kit/vectors.js';

const ROOT = new URL('../../', import.meta.url);
const NONCES = Number(process.env['MVB_SIMD_NONCES'] ?? 1_000_000);

/** Every nonce in [from, to) whose hash meets the target, as the hasher's scan reports them. */
function allFound(h: { scan(a: number, b: number): number }, from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n < to;) {
    const f = h.scan(n, to);
    if (f < 0) break;
    out.push(f);
    n = f + 1;
  }
  return out;
}

function meetsByCore(header: Uint8Array, nonce: number, target: bigint): boolean {
  const h = header.slice(0, 80);
  new DataView(h.buffer).setUint32(76, nonce, true);
  return hashToNumber(sha256d(h)) <= target;
}

describe('mining: WebAssembly SIMD kernel', function () {
  this.timeout(300_000);

  it('is built from its source: the checked-in module is scripts/gen-sha256d-wasm.mjs output', async () => {
    const gen = (await import(new URL('scripts/gen-sha256d-wasm.mjs', ROOT).href)) as { moduleSource(): string };
    const checkedIn = readFileSync(new URL('src/shared/node/mining/sha256d-simd-wasm.ts', ROOT), 'utf8');
    assert.equal(
      checkedIn,
      gen.moduleSource(),
      'regenerate: node scripts/gen-sha256d-wasm.mjs > src/shared/node/mining/sha256d-simd-wasm.ts',
    );
  });

  it('runs on Node 20 and is the default hasher; the JS scan stays available', () => {
    assert.equal(simdAvailable(), true);
    assert.equal(createHeaderHasher(new Uint8Array(80), 1n).kernel, 'wasm-simd');
    assert.equal(createHeaderHasher(new Uint8Array(80), 1n, 'js').kernel, 'js');
  });

  it(`agrees with the JS scan on ${NONCES} nonces of random headers, and every find meets its target`, () => {
    // Targets from "every nonce" down to 1 in 2^12, so both the top-word filter and the full
    // comparison decide; ranges start unaligned and end off the kernel's lane count.
    const shifts = [0, 1, 4, 7, 12];
    const perHeader = 50_000;
    let finds = 0;
    for (let done = 0, i = 0; done < NONCES; done += perHeader, i++) {
      const header = randomBytes(80);
      const target = ((1n << 256n) >> BigInt(shifts[i % shifts.length]!)) - BigInt(i);
      const from = ((header[0]! << 24) | header[1]!) >>> 0;
      const to = Math.min(2 ** 32, from + perHeader + (i % 7));
      const simd = allFound(new SimdHeaderHasher(header, target), from, to);
      assert.deepEqual(simd, allFound(new JsHeaderHasher(header, target), from, to), `header ${i}`);
      for (const n of simd.filter((_, k) => k % 97 === 0)) assert.ok(meetsByCore(header, n, target), `nonce ${n} of header ${i}`);
      finds += simd.length;
    }
    assert.ok(finds > NONCES / 20, `the targets let finds happen (${finds})`);
  });

  it('scans to the last nonce 2^32 - 1 and reports a window with no solution as -1', () => {
    const header = randomBytes(80);
    const all = allFound(new SimdHeaderHasher(header, (1n << 256n) - 1n), 2 ** 32 - 13, 2 ** 32);
    assert.deepEqual(
      all,
      Array.from({ length: 13 }, (_, k) => 2 ** 32 - 13 + k),
    );
    assert.equal(new SimdHeaderHasher(header, 0n).scan(0, 100_000), -1);
  });

  it('finds exactly the real nonce in a window around it, for each of 10 000 mainnet headers', () => {
    const lines = loadVectorText('headers/btc_blockheaders_mainnet_0_10000')
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(1);
    assert.equal(lines.length, 10_000);
    const HALF = 200;
    lines.forEach((hex, height) => {
      const bytes = fromHex(hex);
      const { nonce, bits } = decodeHeader(bytes);
      const target = bitsToTarget(bits);
      const from = Math.max(0, nonce - HALF);
      const to = Math.min(2 ** 32, nonce + HALF + 1);
      const found = allFound(createHeaderHasher(bytes, target), from, to);
      assert.deepEqual(found, [nonce], `height ${height}`);
      if (height % 1000 === 0) assert.ok(meetsByCore(bytes, nonce, target));
    });
  });
});

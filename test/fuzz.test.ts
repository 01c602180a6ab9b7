// The CI size of `npm run fuzz` (10^4 decoder cases and 2 000 datagrams to a real miner's UDP
// ports; `npm run fuzz` runs 10^6 and 10^4): no decoder throws anything but a DecodeError or
// ValidationError, none takes over the per-case cap, and the miner survives its ports.
import assert from 'node:assert/strict';
import { fuzzInWorker } from './fuzz/fuzz.js';
import { fuzzUdp } from './fuzz/udp.js';

describe('fuzz (CI size)', function () {
  this.timeout(120_000);
  const seed = Number(process.env['MVB_FUZZ_SEED'] ?? Date.now() % 1e9);

  it(`10 000 random and mutated inputs to every decoder: 0 crashes, 0 hangs (seed ${seed})`, async () => {
    const r = await fuzzInWorker(seed, 10_000);
    assert.equal(r.hang, undefined, `case ${r.hang} hung (seed ${seed})`);
    assert.deepEqual(r.crashes, [], `seed ${seed}`);
    assert.equal(r.cases, 10_000);
  });

  it('2 000 random and mutated datagrams to both UDP ports leave the miner alive and announcing', async () => {
    const u = await fuzzUdp(seed, 2000);
    assert.ok(u.alive, u.output.slice(-2000));
    assert.ok(u.announced, u.output.slice(-2000));
    assert.doesNotMatch(u.output, /Error|at .*\.js:\d+/);
  });
});

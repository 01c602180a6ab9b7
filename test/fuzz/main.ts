// `npm run fuzz [-- --count N] [--seed S] [--udp N]`: see fuzz.ts. Exits 1 on any crash or hang.
import { parseArgs } from 'node:util';
import { CASE_CAP_MS, fuzzInWorker } from './fuzz.js';
import { fuzzUdp } from './udp.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: String(Date.now() % 1e9) },
      udp: { type: 'string', default: '10000' },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  const udp = Number(values.udp);
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(seed) || !Number.isInteger(udp) || udp < 0) {
    console.error('usage: npm run fuzz -- [--count N] [--seed S] [--udp N]');
    return 2;
  }
  const t0 = Date.now();
  const r = await fuzzInWorker(seed, count);
  console.log(
    `decoders: ${r.cases} case(s), seed ${seed}: ${r.crashes.length} crash(es), ${r.hang === undefined ? 0 : 1} hang(s) (cap ${CASE_CAP_MS} ms per case), slowest ${r.slowestMs.toFixed(1)} ms, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const c of r.crashes.slice(0, 20)) console.log(`  crash: ${c.target} case ${c.index}: ${c.error}`);
  if (r.hang !== undefined) console.log(`  hang: case ${r.hang}`);
  let ok = r.crashes.length === 0 && r.hang === undefined;
  if (udp > 0) {
    const u = await fuzzUdp(seed, udp);
    console.log(
      `UDP ports: ${u.sent} datagram(s) to a miner's status and transaction ports: ${u.alive ? 'alive' : 'DIED'}, ${u.announced ? 'still announcing its tip' : 'SILENT'}`,
    );
    if (!u.alive || !u.announced) {
      console.log(u.output.slice(-2000));
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();

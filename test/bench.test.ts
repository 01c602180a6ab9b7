// `mvb bench` fails honestly: every bench runs at its --quick size with --check and exits 0 only
// when its targets (the quick floors) are met; a target made impossible with --target-scale is
// exit code 1 with one stderr line per missed target, from each bench and from `bench all`; a
// pool smaller than the newcomers (`mempool --txs 100`) no longer crashes. In-process (runCli).
// And the mining threads' exact counts the mine bench reads at its window's edges.
import assert from 'node:assert/strict';
import { runCli } from '../src/shared/node/cli/runner.js';
import { mvbCommands } from '../src/tools/commands.js';
import { benchCommand } from '../src/tools/cmds/bench/index.js';
import { HashPool } from '../src/shared/node/mining/hashpool.js';
import { Chain, MemoryChainStore } from '../src/shared/core/index.js';
import { Mempool } from '../src/shared/node/mempool/pool.js';
import { admitAll } from '../src/tools/cmds/bench/mempool.js';
import { benchCommand as reportingBench } from '../src/tools/cmds/bench/report.js';
import { BENCH_NOW, fanOutWorkload, respend } from '../src/tools/cmds/bench/workload.js';

async function mvb(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli('mvb', mvbCommands, argv, { app: 'tool', io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out, err };
}

const benches = (benchCommand.subcommands ?? []).map((c) => c.name).filter((n) => n !== 'all');

describe('mvb bench --check', function () {
  this.timeout(120_000);

  it('lists the benches', () => {
    assert.deepEqual(benches, ['mine', 'verify', 'connect', 'sync', 'restart', 'propagate', 'mempool']);
  });

  for (const name of benches) {
    // Whether a loaded machine meets a floor is the bench's business, not the test's (timing stays out of
    // assertions): the test checks that the verdict follows the figures the bench printed.
    it(`bench ${name} --quick --check: its exit code is what its printed figures say (0, or 1 with one line per miss)`, async () => {
      const r = await mvb(['bench', name, '--quick', '--check']);
      assert.equal(r.out[0], `${name}:`);
      const missed = r.out.filter((l) => l.includes('NOT met'));
      console.log(`      ${name}: ${missed.length ? `${missed.length} quick floor(s) missed on this machine` : 'every quick floor met'}`);
      assert.equal(r.code, missed.length ? 1 : 0, `exit ${r.code}: ${r.err.join(' | ')}`);
      assert.equal(r.err.length, missed.length, r.err.join('\n'));
      for (const e of r.err) assert.match(e, new RegExp(`^bench ${name}: .*: NOT met$`));
    });
  }

  it('bench mempool --txs 100 (fewer entries than newcomers) reports instead of crashing', async () => {
    const r = await mvb(['bench', 'mempool', '--txs', '100', '--runs', '1', '--check']);
    assert.equal(r.code, 0, r.err.join(' | '));
    assert.match(r.out.join('\n'), /of 100 accepted/);
  });

  it('an impossible target (--target-scale 1000000) is exit 1 with one line per missed target', async () => {
    const r = await mvb(['bench', 'restart', '--quick', '--check', '--target-scale', '1000000']);
    assert.equal(r.code, 1);
    assert.equal(r.err.length, 1, r.err.join('\n'));
    assert.match(r.err[0]!, /^bench restart: open a store of 5000 blocks .* quick floor <= 0\.000001 s .*: NOT met$/);
    assert.ok(r.out.some((l) => l.includes('NOT met')));
  });

  it('without --check a missed target is reported but exits 0', async () => {
    const r = await mvb(['bench', 'restart', '--quick', '--target-scale', '1000000']);
    assert.equal(r.code, 0);
    assert.deepEqual(r.err, []);
    assert.ok(r.out.some((l) => l.includes('NOT met')));
  });

  it('bench all --quick --check with impossible targets runs every bench and exits 1, naming each miss', async () => {
    const r = await mvb(['bench', 'all', '--quick', '--check', '--target-scale', '1000000']);
    assert.equal(r.code, 1);
    for (const name of benches) assert.ok(r.out.includes(`${name}:`), `${name} did not run`);
    // Every bench with a target misses at least one (mempool has none).
    for (const name of benches.filter((n) => n !== 'mempool'))
      assert.ok(
        r.err.some((l) => l.startsWith(`bench ${name}: `)),
        `no missed target from ${name}: ${r.err.join(' | ')}`,
      );
    assert.ok(
      r.err.every((l) => /^bench \w+: .*: NOT met$/.test(l)),
      r.err.join('\n'),
    );
  });

  it('a bad --target-scale is a usage error (exit 2)', async () => {
    const r = await mvb(['bench', 'restart', '--target-scale', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.err.join('\n'), /--target-scale must be a number from 0\.001 to 1000000/);
  });
});

describe('HashPool.counts: exact per-worker hash counts for the mining bench', function () {
  this.timeout(60_000);

  it('answers per worker, in worker order, without ending the job', async () => {
    const pool = new HashPool(2, 'js');
    try {
      pool.start(1, new Uint8Array(80), 0n);
      const first = await pool.counts();
      assert.equal(first.length, 2);
      // Each answer comes between two chunks of the running job: asking again until both workers
      // moved on shows the job went on after the first request.
      let later = await pool.counts();
      for (let i = 0; i < 200 && later.some((c, w) => c.total <= first[w]!.total); i++) later = await pool.counts();
      later.forEach((c, w) => {
        assert.ok(c.total > first[w]!.total, `worker ${w} did not go on hashing`);
        assert.ok(c.at >= first[w]!.at);
      });
    } finally {
      await pool.close();
    }
  });
});

describe('a bench that fails to measure', () => {
  it('the mempool bench counts accepted transactions only and throws on an unexpected refusal', () => {
    const w = fanOutWorkload(3);
    const chain = new Chain(w.params, new MemoryChainStore());
    for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
    const pool = new Mempool(chain, { minRelayFeeRate: 1, maxBytes: 1_000_000 });
    assert.equal(admitAll(pool, w.spends.slice(0, 2), true), 2);
    // Already in the pool: 'known', not counted.
    assert.equal(admitAll(pool, w.spends.slice(0, 1), true), 0);
    // A conflicting spend paying less: refused for another reason than a full pool, so the bench fails.
    assert.throws(() => admitAll(pool, [respend(w, 0, 995_000n)], true), /^Error: transaction 1 of 1 was refused: (?!mempool full)\S+/);
  });

  it('ends with one line and exit code 1, not a stack trace', async () => {
    const boom = reportingBench(
      { name: 'boom', describe: 'fails', options: {}, quick: {} },
      () => 0,
      () => Promise.reject(new Error('no loopback')),
    );
    const err: string[] = [];
    const code = await runCli('mvb', [boom], ['boom'], { app: 'tool', io: { out: () => {}, err: (l) => err.push(l) } });
    assert.equal(code, 1);
    assert.deepEqual(err, ['error: bench boom failed: no loopback']);
  });
});

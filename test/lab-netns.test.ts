// The network lab (src/lab) end to end, as `mvb lab run --json` runs it: real miners and wallets in
// network namespaces on emulated links. A 5-host mesh of 200 ms links at 1 s blocks makes stale
// blocks and a measured propagation of at least the link delay; a partition and its heal lose no
// payment; an attacker with 70 % of the hash power reverts a 1-confirmation payment; a short
// confirmations sweep prints its rates with intervals beside the models; and nothing
// the lab made (namespace, veth, switch, node process) is left afterwards.
// Needs root, iproute2 and python3; skipped with the reason otherwise.
import assert from 'node:assert/strict';
import { waitForAsync } from './kit/procs.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/shared/node/cli/runner.js';
import { listNamespaces, netnsUnavailable } from '../src/lab/netns.js';
import { labCommands } from '../src/lab/cmds/run.js';
import { LAB_PREFIX } from '../src/lab/run.js';
import { confirmationsTable } from '../src/lab/report.js';
import { skipBecause } from './kit/skip.js';

const note = (msg: string) => console.log(`      · ${msg}`);

/** PIDs whose command line mentions dir (the lab's nodes all run with data under it). */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('network lab (mvb lab run: real nodes in namespaces over emulated links)', function () {
  this.timeout(150_000);
  const why = netnsUnavailable();
  let dir: string;
  before(function () {
    if (why) {
      skipBecause(this, why);
    }
    dir = mkdtempSync(join(tmpdir(), 'mvb-lab-test-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs an experiment in-process with --json; checks nothing it made is left. */
  async function lab(
    name: string,
    experiment: Record<string, unknown>,
    o: { args?: string[]; onErr?: (line: string) => void } = {},
  ): Promise<Record<string, any>> {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, ...experiment }));
    const out: string[] = [];
    const err: string[] = [];
    const outDir = join(dir, name);
    const code = await runCli('mvb lab', labCommands, ['run', file, '--json', '--out', outDir, ...(o.args ?? [])], {
      app: 'tool',
      io: { out: (l) => out.push(l), err: (l) => (err.push(l), o.onErr?.(l)) },
    });
    assert.equal(code, 0, `mvb lab run ${name} exited ${code}:\n${err.join('\n')}`);
    assert.equal(out.length, 1, 'one JSON object on stdout');
    const left = listNamespaces().filter((n) => n.startsWith(`${LAB_PREFIX}-${process.pid}-`));
    assert.deepEqual(left, [], 'namespaces left behind');
    assert.deepEqual(processesUsing(outDir), [], 'node processes left behind');
    assert.deepEqual(processesUsing(`${LAB_PREFIX}-${process.pid}-`), [], 'switch processes left behind');
    for (const l of err) if (/^\s+\d+\.\d s/.test(l)) note(`${name}: ${l.trim()}`);
    return JSON.parse(out[0]!) as Record<string, any>;
  }

  it('5 hosts on 200 ms links with 0.5 s blocks: stale blocks, propagation ≥ the link delay, the model beside it; --explorer shows the lab', async () => {
    // 0.5 s blocks for 35 s: with compact blocks a block crosses a 200 ms link in about one delay,
    // so at 1 s blocks a 25 s run (about 12 decided blocks at a 13 % stale rate) had no stale block
    // one time in five; here about 45 decided blocks at ≈ 20 % (one run: 6 of 31 in 25 s) leave no
    // stale block to chance about once in 20 000 (0.8^45).
    // --explorer: the page of an explorer on h1, reached from here while the run goes on.
    let seen: Promise<{ network: string; height: number }> | undefined;
    const watch = (line: string) => {
      const url = /explorer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1];
      if (url && !seen)
        seen = waitForAsync(
          async () => {
            try {
              const r = await fetch(`${url}api/mvb/summary`, { signal: AbortSignal.timeout(2000) });
              const v = (await r.json()) as { network: string; height: number };
              return v.height >= 3 ? v : undefined;
            } catch {
              return undefined;
            }
          },
          20_000,
          () => 'the lab explorer never showed height 3',
          500,
        );
    };
    const r = await lab(
      'stale',
      { hosts: 5, link: { delayMs: 200 }, blockIntervalSeconds: 0.5, retargetInterval: 1000, durationSeconds: 35 },
      { args: ['--explorer', '0'], onErr: watch },
    );
    assert.ok(seen, 'the run printed the explorer URL');
    const summary = await seen;
    note(`lab explorer: network ${summary.network}, height ${summary.height} seen from outside the namespaces`);
    assert.equal(summary.network, 'devnet');
    note(
      `nodes ${r.nodes}, blocks ${r.blocks}, stale ${r.staleBlocks} (${(r.staleRate * 100).toFixed(1)} %), propagation p50/p90/p99 ${r.propagationMs.p50}/${r.propagationMs.p90}/${r.propagationMs.p99} ms, model ${(r.model * 100).toFixed(1)} %`,
    );
    for (const k of ['nodes', 'linkDelayMs', 'blockIntervalSeconds', 'blocks', 'staleRate', 'model'])
      assert.equal(typeof r[k], 'number', k);
    assert.equal(r.nodes, 5);
    assert.equal(r.linkDelayMs, 200);
    assert.ok(r.staleBlocks > 0 && r.staleRate > 0, `no stale blocks: ${JSON.stringify(r)}`);
    assert.ok(r.propagationMs.samples > 0);
    assert.ok(r.propagationMs.p50 >= 200, `propagation p50 ${r.propagationMs.p50} ms < the 200 ms link delay`);
    assert.equal(r.propagationMs.inLinkDelays.p50, Math.round((r.propagationMs.p50 / 200) * 100) / 100, 'p50 in link delays');
    assert.ok(r.propagationMs.inLinkDelays.p90 >= r.propagationMs.inLinkDelays.p50);
    assert.ok(r.heardMs.p50 >= 200, `a status crossed a 200 ms link in ${r.heardMs.p50} ms`);
    assert.ok(r.model > 0 && r.model < 1);
  });

  it('a partition and its heal: the losing side reorganises and no payment is lost', async () => {
    // Timed so that the assertions do not hang on luck. h4 is cut off with 40 % of the hash power
    // for 25 s, so it mines a branch of its own (fewer than 2 blocks: e^-10 * 11 ≈ 0.05 %). It pays
    // 2 s into the partition, when its mature coins (5 confirmations) all predate it, unless it mined
    // none of the ~14 blocks before (0.6^14 ≈ 0.08 %): then a coin of its own branch could mature
    // and die with that branch, as a Bitcoin coinbase spent within a reorganisation deeper than its
    // maturity would.
    const r = await lab('partition', {
      hosts: 4,
      link: { delayMs: 20 },
      hashShares: [0.2, 0.2, 0.2, 0.4],
      blockIntervalSeconds: 1,
      retargetInterval: 1000,
      durationSeconds: 60,
      payments: [
        { at: 10, from: 'h1', to: 'h2', amount: '2' },
        { at: 15, from: 'h1', to: 'h3', amount: '1' },
        { at: 22, from: 'h4', to: 'h1', amount: '3' },
      ],
      events: [
        { at: 20, partition: [['h1', 'h2', 'h3'], ['h4']] },
        { at: 45, heal: true },
      ],
    });
    note(
      `reorganisations ${JSON.stringify(r.reorgDepths)}, payments ${r.payments.map((p: any) => `${p.from}->${p.to} at ${JSON.stringify(p.minedAt)}`).join(', ')}`,
    );
    assert.equal(r.payments.length, 3);
    for (const p of r.payments) {
      assert.match(p.txid ?? '', /^[0-9a-f]{64}$/, `payment not sent: ${JSON.stringify(p)}`);
      assert.equal(p.minedAt.length, 1, `payment ${p.txid} is in the best chain ${p.minedAt.length} times`);
    }
    assert.equal(r.paymentsLost, 0);
    const deepest = Math.max(...Object.keys(r.reorgDepths).map(Number));
    assert.ok(deepest >= 2, `the cut-off side should have reorganised more than one block: ${JSON.stringify(r.reorgDepths)}`);
  });

  it('a double spend by an attacker with 70 % of the hash power reverts a 1-confirmation payment', async () => {
    const r = await lab('double-spend', {
      hosts: 3,
      link: { delayMs: 20 },
      hashShares: [0.7, 0.15, 0.15],
      blockIntervalSeconds: 1,
      retargetInterval: 1000,
      attack: { type: 'double-spend', attacker: 'h1', merchant: 'h2', confirmations: [1], trials: 1, amount: '10' },
    });
    const t = r.doubleSpend.trials[0];
    note(`trial: ${JSON.stringify(t)}`);
    assert.equal(t.confirmations, 1);
    assert.equal(t.success, true, `the payment survived: ${JSON.stringify(r.doubleSpend)}`);
    assert.ok(t.merchantReorgDepth >= 1);
    assert.equal(r.doubleSpend.rows[0].nakamoto, 1);
    assert.equal(r.model, undefined, 'an attack run has no stale-rate model');
  });

  it('the confirmations lesson, short: one q, z = 0 and 1 on two networks side by side, a table with intervals, the model and Nakamoto, and its chart', async () => {
    const x = JSON.parse(readFileSync('experiments/confirmations.json', 'utf8')) as Record<string, any>;
    assert.ok(x.parallel > 1, 'the lesson runs its networks side by side');
    const r = await lab('confirmations-short', {
      ...x,
      name: undefined,
      attack: { ...x.attack, confirmations: [0, 1], trials: 2 },
      sweep: { attackerShare: [0.3] },
    });
    // With `parallel`, each confirmation count is a network of its own (src/lab/jobs.ts): two runs.
    const runs = r.runs as Record<string, any>[];
    assert.equal(runs.length, 2);
    assert.deepEqual(
      runs.map((run) => run.doubleSpend.rows.map((row: any) => row.confirmations)),
      [[0], [1]],
    );
    const ds = { rows: runs.flatMap((run) => run.doubleSpend.rows), trials: runs.flatMap((run) => run.doubleSpend.trials) };
    for (const run of runs) assert.equal(run.doubleSpend.attackerShare, 0.3);
    for (const row of ds.rows) {
      assert.equal(row.trials, 2);
      assert.ok(row.interval.lo <= row.successRate && row.successRate <= row.interval.hi, JSON.stringify(row));
      for (const k of ['model', 'modelNoLag', 'nakamoto']) assert.ok(row[k] >= 0 && row[k] <= 1, `${k}: ${row[k]}`);
    }
    assert.equal(ds.rows[0].nakamoto, 1);
    note(`rows: ${JSON.stringify(ds.rows)}; seconds per trial ${ds.trials.map((t: any) => t.seconds).join(', ')}`);
    const lines = confirmationsTable(runs as never);
    for (const col of ['q', 'z', 'succeeded', 'rate (95 % interval)', 'model, this give-up rule', 'Nakamoto P(q, z)'])
      assert.ok(lines[0]!.includes(col), `column ${col}`);
    assert.match(lines[0]!, /\d+\.\d+–\d+\.\d+ %/, 'an interval in the table');
    assert.match(readFileSync(join(dir, 'confirmations-short', 'chart.svg'), 'utf8'), /double spends that succeeded/);
  });
});

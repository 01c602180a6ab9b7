// The lab's jobs (src/lab/jobs.ts): an experiment split into networks, run `parallel` at a time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseExperiment } from '../src/lab/experiment.js';
import { labJobs, runJobs } from '../src/lab/jobs.js';

const confirmations = () => JSON.parse(readFileSync('experiments/confirmations.json', 'utf8')) as Record<string, unknown>;

describe('lab: jobs, one network each, side by side', () => {
  it('splits the confirmations lesson into one network per (q, z), in the table’s order, each with its trials', () => {
    const x = parseExperiment(confirmations(), 'confirmations');
    const jobs = labJobs(x);
    const qs = [0.1, 0.2, 0.3, 0.4];
    const zs = [0, 1, 2, 4, 6];
    assert.equal(jobs.length, qs.length * zs.length);
    let i = 0;
    for (const [qi, q] of qs.entries())
      for (const z of zs) {
        const j = jobs[i++]!;
        assert.equal(j.x.hashShares[0], q);
        assert.ok(j.x.attack?.type === 'double-spend');
        assert.deepEqual(j.x.attack.confirmations, [z]);
        assert.equal(j.x.attack.trials, 40);
        assert.equal(j.folder, `run-${qi + 1}-z${z}`);
        assert.equal(j.label, `attackerShare = ${q}, z = ${z}`);
      }
    assert.equal(new Set(jobs.map((j) => j.folder)).size, jobs.length, 'every network writes its own folder');
  });

  it('keeps a run of one network per sweep value without `parallel`, and one run without a sweep', () => {
    const x = parseExperiment({ ...confirmations(), parallel: 1 }, 'confirmations');
    assert.deepEqual(
      labJobs(x).map((j) => [j.folder, j.x.attack?.type === 'double-spend' ? j.x.attack.confirmations : []]),
      [1, 2, 3, 4].map((n) => [`run-${n}`, [0, 1, 2, 4, 6]]),
    );
    const single = parseExperiment({ hosts: 3, durationSeconds: 10 }, 'plain');
    assert.deepEqual(
      labJobs(single).map((j) => j.folder),
      [''],
    );
  });

  it('refuses more networks side by side than the lab holds', () => {
    assert.throws(() => parseExperiment({ ...confirmations(), parallel: 33 }, 'confirmations'), /parallel/);
    assert.throws(() => parseExperiment({ hosts: 100, parallel: 3 }, 'big'), /parallel/);
  });

  it('runs at most `parallel` jobs at once, returns results in the jobs’ order, and throws the first failure after the running ones end', async () => {
    const x = parseExperiment(confirmations(), 'confirmations');
    const jobs = labJobs(x);
    let running = 0;
    let peak = 0;
    const tick = () => new Promise<void>((res) => setImmediate(res));
    const out = await runJobs(jobs, 3, async (job, i) => {
      running++;
      peak = Math.max(peak, running);
      for (let k = 0; k < (i % 4) + 1; k++) await tick();
      running--;
      return job.folder;
    });
    assert.equal(peak, 3);
    assert.deepEqual(
      out,
      jobs.map((j) => j.folder),
    );
    let started = 0;
    let finished = 0;
    await assert.rejects(
      runJobs(jobs, 4, async (_job, i) => {
        started++;
        await tick();
        if (i === 1) throw new Error('network 1 failed');
        await tick();
        finished++;
        return i;
      }),
      /network 1 failed/,
    );
    assert.equal(finished, started - 1, 'every other job that started had ended (removed its network) before the failure was thrown');
    assert.ok(started < jobs.length, `no new job starts after a failure (${started} started)`);
  });
});

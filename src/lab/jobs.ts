// An experiment as jobs, one network each, run `parallel` at a time. A sweep is one job per value
// (sweepVariants); with `parallel` above 1 a double spend is also split by confirmation count, so
// the confirmations lesson's 4 × 5 points are 20 networks of 40 trials each instead of 4 networks
// of 200 one after the other. Every job is one real network run and keeps its own summary: the
// table and chart put the jobs of one attacker share together (report.ts), nothing is averaged
// across networks.
import { type Experiment, sweepVariants } from './experiment.js';

export interface LabJob {
  /** The experiment this network runs. */
  readonly x: Experiment;
  /** Its folder under the run's output (run-N, run-N-zK), or '' for a single run. */
  readonly folder: string;
  /** What the log says before its lines: "q = 0.3, z = 2" or the sweep value. */
  readonly label: string;
}

/** The experiment's jobs, in sweep order then confirmation order (the table's order). */
export function labJobs(x: Experiment): LabJob[] {
  const variants = sweepVariants(x);
  const jobs: LabJob[] = [];
  for (const [i, v] of variants.entries()) {
    const sweepLabel = x.sweep ? `${x.sweep.key} = ${x.sweep.values[i]}` : '';
    const folder = variants.length > 1 ? `run-${i + 1}` : '';
    const attack = v.attack;
    if (x.parallel > 1 && attack?.type === 'double-spend' && attack.confirmations.length > 1) {
      for (const z of attack.confirmations)
        jobs.push({
          x: { ...v, attack: { ...attack, confirmations: [z] } },
          folder: folder ? `${folder}-z${z}` : `z${z}`,
          label: [sweepLabel, `z = ${z}`].filter(Boolean).join(', '),
        });
    } else jobs.push({ x: v, folder, label: sweepLabel });
  }
  return jobs;
}

/**
 * Runs `run` on every job, at most `parallel` at once, and returns the results in the jobs' order.
 * The first failure is thrown once the jobs already running have ended (each removes its own network).
 */
export async function runJobs<T>(jobs: readonly LabJob[], parallel: number, run: (job: LabJob, index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < jobs.length) {
      const i = next++;
      try {
        results[i] = await run(jobs[i]!, i);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, jobs.length)) }, worker));
  if (failure) throw failure.e;
  return results;
}

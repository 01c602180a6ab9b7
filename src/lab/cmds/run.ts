// `mvb lab run <experiment.json> [--json] [--out DIR]` (the lab app, src/lab/main.ts): builds the experiment's network on this
// machine, runs real nodes in it, measures from their event logs and writes a table, result.json
// and chart.svg into DIR (default: a new folder under ./lab-runs). Needs root, iproute2, python3.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { type CliCommand, CliError, command, numberOption, stringOption } from '../../shared/node/cli/command.js';
import { readJsonFile } from '../../shared/node/check/json-file.js';
import { cleanupLeftovers, netnsUnavailable } from '../netns.js';
import { type Experiment, parseExperiment } from '../experiment.js';
import { labJobs, runJobs } from '../jobs.js';
import { runChart, summary, sweepChart, sweepTable, table, type Summary } from '../report.js';
import { LAB_PREFIX, runOnce } from '../run.js';

/** Experiment files are small; anything bigger is refused before parsing. */
const MAX_EXPERIMENT_BYTES = 1_000_000;

/** Resident memory one node process takes in a run (docs/LAB.md: 5 processes, about 370 MB). */
export const NODE_PROCESS_BYTES = 75e6;

/** Why this machine cannot hold the experiment's processes (a node each, a wallet per payer, the switch), or undefined. */
export function memoryShortfall(x: Experiment, freeBytes: number): string | undefined {
  const perNetwork = x.hosts + new Set(x.payments.map((p) => p.from)).size + (x.attack ? 1 : 0) + 1;
  const processes = perNetwork * x.parallel;
  const need = processes * NODE_PROCESS_BYTES;
  if (need <= freeBytes) return undefined;
  const what = x.parallel > 1 ? `${x.parallel} networks of ${x.hosts} hosts` : `${x.hosts} hosts`;
  return `${what} run ${processes} processes, about ${Math.round(need / 1e6)} MB, and this machine has ${Math.round(freeBytes / 1e6)} MB free: use fewer ${x.parallel > 1 ? 'parallel networks' : 'hosts'}`;
}

/** An experiment file, read bounded and checked: any fault is one InputError line naming the file. */
function loadExperiment(file: string): Experiment {
  return parseExperiment(readJsonFile(file, MAX_EXPERIMENT_BYTES), basename(file, '.json'), file);
}

export const labRunCommand = command({
  name: 'run',
  describe: 'run an experiment on emulated links (needs root): `mvb lab run experiments/stale-rate.json`',
  args: ['<experiment>'],
  options: {
    explorer: numberOption(
      '--explorer <port>',
      'run an explorer on the first host, its page on http://127.0.0.1:PORT/ here (0: any free port), for the projector',
      0,
      65535,
    ),
    out: stringOption('--out <dir>', "where to write result.json, chart.svg and the nodes' event logs (default ./lab-runs/<name>-<time>)"),
  },
  async handler(args, opts, ctx) {
    const [file] = args;
    const x = loadExperiment(file!);
    const why = netnsUnavailable();
    if (why) throw new CliError(`mvb lab needs Linux network namespaces: ${why}`);
    const short = memoryShortfall(x, freemem());
    if (short) throw new CliError(short, 2);
    const left = cleanupLeftovers(LAB_PREFIX);
    for (const w of left.warnings) ctx.io.err(`warning: ${w}`);
    if (left.removed.length) ctx.io.err(`removed ${left.removed.length} namespace(s) left by a lab run that was killed`);
    const out = resolve(opts.out ?? join('lab-runs', `${x.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
    if (existsSync(out) && readdirSync(out).length)
      throw new CliError(`${out} is not empty: a run writes its nodes' data there; give another --out or remove it`, 2);
    mkdirSync(out, { recursive: true });
    const log = (m: string) => (ctx.json ? ctx.io.err(m) : ctx.io.out(m));
    log(`${x.name}: ${x.description}`);
    const jobs = labJobs(x);
    if (x.parallel > 1 && jobs.length > 1) log(`${jobs.length} networks, ${Math.min(x.parallel, jobs.length)} at a time`);
    const results = await runJobs(jobs, x.parallel, async (job, i) => {
      const dir = join(out, job.folder);
      mkdirSync(dir, { recursive: true });
      const jobLog = x.parallel > 1 && jobs.length > 1 ? (m: string) => log(`[${job.label}] ${m}`) : log;
      if (jobs.length > 1) log(`run ${i + 1}/${jobs.length}: ${job.label}`);
      const explorer = i === 0 && opts.explorer !== undefined ? { explorerPort: opts.explorer } : {};
      const r = await runOnce(job.x, dir, ctx.signal, jobLog, explorer);
      const s = summary(r, x.name);
      writeFileSync(join(dir, 'result.json'), JSON.stringify({ ...s, timeline: r.timeline }, null, 2) + '\n');
      writeFileSync(join(dir, 'chart.svg'), runChart(r, x.name));
      if (!ctx.json) ctx.io.out(table(s, job.x.hashShares));
      return s;
    });
    writeOutcome(ctx, x, out, results);
    return 0;
  },
});

/** A multi-network run's sweep.json, chart and table (or the single run's JSON line and where it wrote). */
function writeOutcome(ctx: { json: boolean; io: { out: (s: string) => void } }, x: Experiment, out: string, results: Summary[]): void {
  const sweepKey = x.sweep?.key ?? 'attackerShare';
  const several = results.length > 1;
  if (several) {
    writeFileSync(join(out, 'sweep.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(out, 'chart.svg'), sweepChart(results, sweepKey, x.name));
    if (!ctx.json) for (const line of sweepTable(results, { key: sweepKey })) ctx.io.out(line);
  }
  if (ctx.json) ctx.io.out(JSON.stringify(several ? { experiment: x.name, sweep: x.sweep, runs: results } : results[0]));
  else
    ctx.io.out(
      several
        ? `written: ${join(out, 'sweep.json')}, chart.svg; each run in run-N/`
        : `written: ${join(out, 'result.json')}, chart.svg, events/*.jsonl`,
    );
}

export const labCommands: readonly CliCommand[] = [labRunCommand];

// `mvb lab run <experiment.json> [--json] [--out DIR]` (the lab app, src/lab/main.ts): builds the experiment's network on this
// machine, runs real nodes in it, measures from their event logs and writes a table, result.json
// and chart.svg into DIR (default: a new folder under ./lab-runs). Needs root, iproute2, python3.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { type CliCommand, CliError, command, numberOption, stringOption } from '../../shared/node/cli/command.js';
import { readJsonFile } from '../../shared/node/check/json-file.js';
import { cleanupLeftovers, netnsUnavailable } from '../netns.js';
import { type Experiment, parseExperiment, sweepVariants } from '../experiment.js';
import { runChart, summary, sweepChart, sweepTable, table, type Summary } from '../report.js';
import { LAB_PREFIX, runOnce } from '../run.js';

/** Experiment files are small; anything bigger is refused before parsing. */
const MAX_EXPERIMENT_BYTES = 1_000_000;

/** Resident memory one node process takes in a run (docs/LAB.md: 5 processes, about 370 MB). */
export const NODE_PROCESS_BYTES = 75e6;

/** Why this machine cannot hold the experiment's processes (a node each, a wallet per payer, the switch), or undefined. */
export function memoryShortfall(x: Experiment, freeBytes: number): string | undefined {
  const processes = x.hosts + new Set(x.payments.map((p) => p.from)).size + (x.attack ? 1 : 0) + 1;
  const need = processes * NODE_PROCESS_BYTES;
  if (need <= freeBytes) return undefined;
  return `${x.hosts} hosts run ${processes} processes, about ${Math.round(need / 1e6)} MB, and this machine has ${Math.round(freeBytes / 1e6)} MB free: use fewer hosts`;
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
    const runs = sweepVariants(x);
    const results: Summary[] = [];
    for (const [i, v] of runs.entries()) {
      const dir = runs.length > 1 ? join(out, `run-${i + 1}`) : out;
      mkdirSync(dir, { recursive: true });
      if (runs.length > 1) log(`run ${i + 1}/${runs.length}: ${x.sweep!.key} = ${x.sweep!.values[i]}`);
      const r = await runOnce(v, dir, ctx.signal, log, opts.explorer === undefined ? {} : { explorerPort: opts.explorer });
      const s = summary(r, x.name);
      results.push(s);
      writeFileSync(join(dir, 'result.json'), JSON.stringify({ ...s, timeline: r.timeline }, null, 2) + '\n');
      writeFileSync(join(dir, 'chart.svg'), runChart(r, x.name));
      if (!ctx.json) ctx.io.out(table(s, v.hashShares));
    }
    if (runs.length > 1) {
      writeFileSync(join(out, 'sweep.json'), JSON.stringify(results, null, 2) + '\n');
      writeFileSync(join(out, 'chart.svg'), sweepChart(results, x.sweep!.key, x.name));
      if (!ctx.json) for (const line of sweepTable(results, x.sweep!)) ctx.io.out(line);
    }
    if (ctx.json) ctx.io.out(JSON.stringify(runs.length > 1 ? { experiment: x.name, sweep: x.sweep, runs: results } : results[0]));
    else
      ctx.io.out(
        runs.length > 1
          ? `written: ${join(out, 'sweep.json')}, chart.svg; each run in run-N/`
          : `written: ${join(out, 'result.json')}, chart.svg, events/*.jsonl`,
      );
    return 0;
  },
});

export const labCommands: readonly CliCommand[] = [labRunCommand];

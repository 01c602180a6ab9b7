// What every `mvb bench ...` returns and how it is printed: figures (each with its unit) and
// ratios to the reference measured in the same run, with the target where it states one.
// Figures are medians over --runs runs; the spread is kept so a loaded machine shows.
import {
  type CommandContext,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  type TypedCommand,
  CliError,
  command,
  numberOption,
  parsedOption,
} from '../../../shared/node/cli/command.js';

export interface Figure {
  readonly name: string;
  /** Median over the runs. */
  readonly value: number;
  readonly unit: string;
  /** Every run's value, in order. */
  readonly runs: readonly number[];
}

export interface Ratio {
  readonly name: string;
  /** Median of the per-run ratios (numerator and denominator measured in the same run). */
  readonly value: number;
  /** What the issue asks for: at least (>=) or at most (<=) this. */
  readonly target?: { readonly op: '>=' | '<='; readonly value: number };
}

export interface BenchReport {
  readonly bench: string;
  readonly figures: readonly Figure[];
  readonly ratios: readonly Ratio[];
  readonly notes: readonly string[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function figure(name: string, unit: string, runs: readonly number[]): Figure {
  return { name, unit, runs, value: median(runs) };
}

/** The median of per-run ratios num[i] / den[i]. */
export function ratio(name: string, num: readonly number[], den: readonly number[], target?: Ratio['target']): Ratio {
  const per = num.map((n, i) => n / den[i]!);
  return target ? { name, value: median(per), target } : { name, value: median(per) };
}

export function met(r: Ratio): boolean | undefined {
  if (!r.target) return undefined;
  return r.target.op === '>=' ? r.value >= r.target.value : r.value <= r.target.value;
}

function fmt(v: number, unit = ''): string {
  if (unit === 'ms') return v >= 100 ? `${v.toFixed(0)} ` : `${v.toPrecision(3)} `;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  if (Math.abs(v) >= 100) return `${v.toFixed(0)} `;
  return `${v.toPrecision(3)} `;
}

export function printReport(r: BenchReport, ctx: CommandContext): void {
  if (ctx.json) return ctx.io.out(JSON.stringify(r));
  ctx.io.out(`${r.bench}:`);
  for (const f of r.figures) {
    const spread = f.runs.length > 1 ? `  (runs: ${f.runs.map((v) => fmt(v, f.unit).trim()).join(', ')})` : '';
    ctx.io.out(`  ${f.name.padEnd(50)} ${fmt(f.value, f.unit)}${f.unit}${spread}`);
  }
  for (const q of r.ratios) {
    const m = met(q);
    const target = q.target ? `  target ${q.target.op} ${q.target.value}x: ${m ? 'met' : 'NOT met'}` : '';
    ctx.io.out(`  ${q.name.padEnd(50)} ${q.value.toFixed(2)}x${target}`);
  }
  for (const n of r.notes) ctx.io.out(`  note: ${n}`);
}

/**
 * A bench as a command: optionsOf reads the typed options, run measures and the report is printed
 * (with --json as one JSON line). Exits 0: a target not met is reported, not a failure.
 */
export function benchCommand<O extends OptionTable, R>(
  spec: { name: string; describe: string; options: O },
  optionsOf: (opts: OptionValues<O>) => R,
  run: (o: R) => Promise<BenchReport>,
): TypedCommand<O> {
  return command({
    ...spec,
    async handler(_args, opts, ctx) {
      printReport(await run(optionsOf(opts)), ctx);
      return 0;
    },
  });
}

/** A number of seconds option bounded to (0, hi]. */
export function secondsOption(dflt: number, hi = 600): OptionSpec<number> {
  const parser = (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > hi) throw new CliError(`--seconds must be a number above 0 and at most ${hi}`, 2);
    return n;
  };
  return parsedOption('--seconds <n>', 'how long each measurement runs', parser, dflt);
}

/** --runs: repetitions, 1 to 50 (dflt when not given). */
export const runsOption = (dflt = 3): OptionSpec<number> => numberOption('--runs <n>', 'repetitions; figures are medians', 1, 50, dflt);

// What every `mvb bench ...` returns and how it is printed: figures (each with its unit) and
// ratios to the reference measured in the same run, with the issue's target where it states one
// (on a figure only when there is no reference to measure). Figures are medians over --runs runs;
// the spread is kept so a loaded machine shows. With --check a missed target is exit code 1.
import {
  type CliCommand,
  type CommandContext,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  CliError,
  checkOptionKey,
  flag,
  optionValues,
  numberOption,
  parsedOption,
} from '../../../shared/node/cli/command.js';

/** What the project asks of a figure or ratio: at least (>=) or at most (<=) `value`. */
export interface Target {
  readonly op: '>=' | '<=';
  /** The project's target (checked by a full-size run). */
  readonly value: number;
  /** The floor a --quick run is checked against: what holds on a loaded 2-core machine. */
  readonly quick: number;
}

export interface Figure {
  readonly name: string;
  /** Median over the runs. */
  readonly value: number;
  readonly unit: string;
  /** Every run's value, in order. */
  readonly runs: readonly number[];
  /** An absolute target (a figure with no reference to compare with in the same run). */
  readonly target?: Target;
}

export interface Ratio {
  readonly name: string;
  /** Median of the per-run ratios (numerator and denominator measured in the same run). */
  readonly value: number;
  readonly target?: Target;
}

export interface BenchReport {
  readonly bench: string;
  readonly figures: readonly Figure[];
  readonly ratios: readonly Ratio[];
  readonly notes: readonly string[];
}

/** How targets are checked: the full or the quick one, made harder by `scale` (1: as set). */
export interface TargetMode {
  readonly quick: boolean;
  /** > 1 makes every target harder (a >= target times it, a <= target divided by it). */
  readonly scale: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function figure(name: string, unit: string, runs: readonly number[], target?: Target): Figure {
  const f = { name, unit, runs, value: median(runs) };
  return target ? { ...f, target } : f;
}

/** The median of per-run ratios num[i] / den[i]. */
export function ratio(name: string, num: readonly number[], den: readonly number[], target?: Target): Ratio {
  const per = num.map((n, i) => n / den[i]!);
  return target ? { name, value: median(per), target } : { name, value: median(per) };
}

/** A target: `op value` for a full run, `op quick` for a --quick one. */
export const atLeast = (value: number, quick = value): Target => ({ op: '>=', value, quick });
export const atMost = (value: number, quick = value): Target => ({ op: '<=', value, quick });

/** The bound a value is checked against in this mode. */
export function bound(t: Target, mode: TargetMode): number {
  const v = mode.quick ? t.quick : t.value;
  return t.op === '>=' ? v * mode.scale : v / mode.scale;
}

export function met(r: Figure | Ratio, mode: TargetMode = { quick: false, scale: 1 }): boolean | undefined {
  if (!r.target) return undefined;
  const b = bound(r.target, mode);
  return r.target.op === '>=' ? r.value >= b : r.value <= b;
}

function fmt(v: number, unit = ''): string {
  if (unit === 'ms') return v >= 100 ? `${v.toFixed(0)} ` : `${v.toPrecision(3)} `;
  if (v === 0) return '0 ';
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  if (Math.abs(v) >= 100) return `${v.toFixed(0)} `;
  return `${Number(v.toPrecision(3))} `;
}

/** "target <= 20 ms: met"; with --quick "quick floor <= 200 ms (target <= 20 ms): met" (a ratio's unit is x). */
function targetText(r: Figure | Ratio, unit: string, mode: TargetMode): string {
  if (!r.target) return '';
  const shown = (v: number): string => `${r.target!.op} ${fmt(v, unit).trim()}${unit === 'x' ? 'x' : ` ${unit}`}`;
  const full = shown(bound(r.target, { ...mode, quick: false }));
  const which = mode.quick ? `quick floor ${shown(bound(r.target, mode))} (target ${full})` : `target ${full}`;
  return `  ${which}: ${met(r, mode) ? 'met' : 'NOT met'}`;
}

export function printReport(r: BenchReport, ctx: CommandContext, mode: TargetMode = { quick: false, scale: 1 }): void {
  if (ctx.json) return ctx.io.out(JSON.stringify({ ...r, mode }));
  ctx.io.out(`${r.bench}:`);
  for (const f of r.figures) {
    const spread = f.runs.length > 1 ? `  (runs: ${f.runs.map((v) => fmt(v, f.unit).trim()).join(', ')})` : '';
    ctx.io.out(`  ${f.name.padEnd(50)} ${fmt(f.value, f.unit)}${f.unit}${spread}${targetText(f, f.unit, mode)}`);
  }
  for (const q of r.ratios) ctx.io.out(`  ${q.name.padEnd(50)} ${q.value.toFixed(2)}x${targetText(q, 'x', mode)}`);
  for (const n of r.notes) ctx.io.out(`  note: ${n}`);
}

/** One line per target the report misses in this mode (none: every target met). */
export function missedTargets(r: BenchReport, mode: TargetMode): string[] {
  const line = (x: Figure | Ratio, shown: string, unit: string): string =>
    `bench ${r.bench}: ${x.name} ${shown}, ${targetText(x, unit, mode).trim()}`;
  return [
    ...r.figures.filter((f) => met(f, mode) === false).map((f) => line(f, `${fmt(f.value, f.unit).trim()} ${f.unit}`, f.unit)),
    ...r.ratios.filter((q) => met(q, mode) === false).map((q) => line(q, `${q.value.toFixed(2)}x`, 'x')),
  ];
}

/** --target-scale: a number from 0.001 to 1e6 that makes every target harder (> 1) or easier (< 1). */
function scaleParser(v: string): number {
  const n = Number(v);
  if (!/^[0-9.e+-]{1,20}$/.test(v) || !Number.isFinite(n) || n < 0.001 || n > 1e6)
    throw new CliError('--target-scale must be a number from 0.001 to 1000000', 2);
  return n;
}

/** The options every bench takes: --check, --quick and --target-scale. */
export const checkOptions = {
  check: flag('--check', 'exit 1 when a target is missed (one line per missed target on stderr)'),
  quick: flag('--quick', 'small sizes, checked against floors that hold on a loaded 2-core machine'),
  targetScale: parsedOption('--target-scale <x>', 'make every target x times harder (a test forces a miss with it)', scaleParser, 1),
};

/**
 * A bench as a command: optionsOf reads the typed options (with the quick sizes under --quick:
 * each option still at its default takes its `quick` value), run measures and the report is
 * printed (with --json as one JSON line). Exits 1 with --check when a target is missed, and with
 * one line when the bench itself fails.
 */
export function benchCommand<O extends OptionTable, R>(
  spec: { name: string; describe: string; options: O; quick: Partial<OptionValues<O>> },
  optionsOf: (opts: OptionValues<O>) => R,
  run: (o: R) => Promise<BenchReport>,
): CliCommand {
  const options: OptionTable = { ...spec.options, ...checkOptions };
  for (const [key, s] of Object.entries(options)) checkOptionKey(key, s);
  return {
    name: spec.name,
    describe: spec.describe,
    options,
    async run(_args, given, ctx) {
      const c = optionValues(checkOptions, given);
      const mode: TargetMode = { quick: c.quick, scale: c.targetScale };
      const opts = optionValues(spec.options, given);
      const report = await measured(spec.name, () => run(optionsOf(mode.quick ? quickSizes(spec.options, opts, spec.quick) : opts)));
      printReport(report, ctx, mode);
      const missed = missedTargets(report, mode);
      if (!c.check) return 0;
      for (const m of missed) ctx.io.err(m);
      return missed.length ? 1 : 0;
    },
  };
}

/** The bench's report; a failure of the bench itself as one line (CliError, exit 1), never a stack. */
async function measured(name: string, f: () => Promise<BenchReport>): Promise<BenchReport> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`bench ${name} failed: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
}

/** The options with each one still at its default replaced by its quick value. */
function quickSizes<O extends OptionTable>(table: O, opts: OptionValues<O>, quick: Partial<OptionValues<O>>): OptionValues<O> {
  const out: Record<string, unknown> = { ...opts };
  for (const [k, v] of Object.entries(quick)) if (out[k] === table[k]?.default) out[k] = v;
  // Same keys as opts, each quick value typed by the option it replaces.
  return out as OptionValues<O>;
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

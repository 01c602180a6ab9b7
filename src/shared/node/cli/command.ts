// A command's definition, typed: each option is declared once, under the camelCase key commander
// files its value by, with a builder (flag, string, bounded whole number, repeatable list, parsed)
// whose value type the handler's options then carry, so no handler casts what commander parsed.
// The runner (runner.ts) registers the definitions with commander and calls them.
import { Option } from 'commander';
import type { Settings } from './config.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** A failure the user caused or can fix: printed as one line, exit code `code`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/**
 * An option parser for a whole number from min to max (decimal digits only: not '', ' 3', '1e3'
 * or '0x10', which Number() would accept). A bad value is a usage error (exit code 2).
 */
export function integerOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new CliError(`${flag} must be a whole number from ${min} to ${max}`, 2);
    return n;
  };
}

/** One option: what commander is told, and how its parsed value becomes the handler's. */
export interface OptionSpec<T> {
  /** Commander flags, e.g. '--fee <amount>' or '--once'. */
  readonly flags: string;
  readonly description: string;
  /** Given to commander (so --help shows it). */
  readonly default?: unknown;
  readonly parser?: (value: string, previous: unknown) => unknown;
  /** The handler's value from commander's (undefined when the option was not given and has no default). */
  readonly value: (given: unknown) => T;
}

export type OptionTable = Readonly<Record<string, OptionSpec<unknown>>>;

/** The handler's options: each key of the table with its builder's value type. */
export type OptionValues<O extends OptionTable> = { readonly [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never };

/** `--name`: true when given; `--no-name`: false when given, true otherwise. */
export function flag(flags: string, description: string): OptionSpec<boolean> {
  const negated = flags.startsWith('--no-');
  return { flags, description, value: (v) => (v === undefined ? negated : v === true) };
}

/** `--name <value>` as given; undefined when not given and there is no default. */
export function stringOption(flags: string, description: string): OptionSpec<string | undefined>;
export function stringOption(flags: string, description: string, dflt: string): OptionSpec<string>;
export function stringOption(flags: string, description: string, dflt?: string): OptionSpec<string | undefined> {
  return { flags, description, default: dflt, value: (v) => (typeof v === 'string' ? v : dflt) };
}

/** `--name <n>`: a whole number from min to max (integerOption), else a usage error. */
export function numberOption(flags: string, description: string, min: number, max: number): OptionSpec<number | undefined>;
export function numberOption(flags: string, description: string, min: number, max: number, dflt: number): OptionSpec<number>;
export function numberOption(flags: string, description: string, min: number, max: number, dflt?: number): OptionSpec<number | undefined> {
  const parser = integerOption(flags.split(/[ ,]/)[0]!, min, max);
  return { flags, description, default: dflt, parser, value: (v) => (typeof v === 'number' ? v : dflt) };
}

/** `--name <value>`, repeatable: every value given, in order (none: []). */
export function listOption(flags: string, description: string): OptionSpec<readonly string[]> {
  const collect = (v: string, previous: unknown): string[] => [...(Array.isArray(previous) ? previous : []), v];
  return {
    flags,
    description,
    default: [],
    parser: collect,
    value: (v) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []),
  };
}

/** `--name <value>` read by parse (which throws CliError for a bad value); dflt when not given. */
export function parsedOption<T>(flags: string, description: string, parse: (value: string) => T, dflt: T): OptionSpec<T> {
  // Commander hands back what parse returned, or dflt: the one place a value is taken on trust.
  return { flags, description, default: dflt, parser: parse, value: (v) => (v === undefined ? dflt : (v as T)) };
}

/** The shared options every program takes (before or after the command name). */
export const SHARED_OPTIONS = {
  datadir: stringOption('--datadir <dir>', 'data directory (default: a per-user folder for the network)'),
  network: stringOption('--network <name>', 'network: lan (default), classroom or devnet (see the README presets table)'),
  config: stringOption('--config <file>', 'config file (default: the config.json shipped with mvb)'),
  set: listOption('--set <key=value>', 'override any config key (repeatable)'),
  json: flag('--json', 'print data as JSON'),
} as const;

export type SharedOptions = OptionValues<typeof SHARED_OPTIONS>;

export interface CommandContext {
  readonly settings: Settings;
  readonly datadir: string;
  readonly json: boolean;
  readonly io: Output;
  /** Aborted on SIGINT/SIGTERM (daemons and loops stop cleanly). */
  readonly signal: AbortSignal;
  readonly env: NodeJS.ProcessEnv;
  /** The shared options as given (--datadir may be undefined: `datadir` above is the one in use). */
  readonly shared: SharedOptions;
}

/** A command as the runner registers it. Made with command() or commandGroup(). */
export interface CliCommand {
  readonly name: string;
  readonly describe: string;
  /** Positional arguments in commander syntax, e.g. ['<name>', '[file]']. */
  readonly args?: readonly string[];
  readonly options?: OptionTable;
  /**
   * Reads what an earlier command made (a wallet's keys and chain): a data directory that does not
   * exist is refused, not created empty (a misspelt --datadir must not look like lost coins).
   * Returns how to create one, for the error.
   */
  readonly readsDataDir?: (datadir: string) => string;
  /**
   * The index of a positional argument that names a data directory (`mvb verify <datadir>`): it is
   * read as --datadir would be, so the network that directory remembers applies.
   */
  readonly datadirArg?: number;
  /**
   * The command makes its data directory itself, for a network it learns (`mvb-wallet join URL`): the
   * runner neither creates the directory nor writes its settings.json.
   */
  readonly makesDataDir?: boolean;
  /** Subcommands (`mvb devnet start`): the command itself then only groups them. */
  readonly subcommands?: readonly CliCommand[];
  /** Runs the handler on commander's parsed options (missing ones take their defaults); returns the exit code. */
  run(args: string[], given: Readonly<Record<string, unknown>>, ctx: CommandContext): Promise<number>;
}

export interface CommandDefinition<O extends OptionTable> {
  readonly name: string;
  readonly describe: string;
  readonly args?: readonly string[];
  /** Each option under the key commander names it by ('--no-python' -> python, '--max-x' -> maxX). */
  readonly options?: O;
  readonly readsDataDir?: (datadir: string) => string;
  readonly datadirArg?: number;
  readonly makesDataDir?: boolean;
  /** Returns the exit code. Throw CliError for a clear one-line failure. */
  handler(args: string[], opts: OptionValues<O>, ctx: CommandContext): Promise<number>;
}

export type TypedCommand<O extends OptionTable> = CliCommand & CommandDefinition<O>;

/**
 * A command from its definition. An option whose key is not commander's name for its flags is a
 * programming error, thrown here (when the module loads), not a value silently missing.
 */
export function command<O extends OptionTable = Record<never, never>>(def: CommandDefinition<O>): TypedCommand<O> {
  for (const [key, spec] of Object.entries(def.options ?? {})) checkOptionKey(key, spec);
  return { ...def, run: (args, given, ctx) => def.handler(args, optionValues(def.options, given), ctx) };
}

/** A command that only groups subcommands (`mvb devnet`): commander runs one or prints help. */
export function commandGroup(def: { name: string; describe: string; subcommands: readonly CliCommand[] }): CliCommand {
  return { ...def, run: () => Promise.resolve(2) };
}

export function checkOptionKey(key: string, spec: OptionSpec<unknown>): void {
  const name = new Option(spec.flags).attributeName();
  if (name !== key) throw new Error(`option ${spec.flags} is declared as "${key}" but commander names it "${name}"`);
}

/** The handler's options from commander's values, each through its builder. */
export function optionValues<O extends OptionTable>(options: O | undefined, given: Readonly<Record<string, unknown>>): OptionValues<O> {
  const entries = Object.entries(options ?? {}).map(([key, spec]) => [key, spec.value(given[key])]);
  // Built key by key from the table itself, so it has exactly the keys and value types of O.
  return Object.fromEntries(entries) as OptionValues<O>;
}

/** The commander Option for a spec. */
export function commanderOption(spec: OptionSpec<unknown>): Option {
  const opt = new Option(spec.flags, spec.description);
  if (spec.default !== undefined) opt.default(spec.default);
  if (spec.parser) opt.argParser(spec.parser);
  return opt;
}

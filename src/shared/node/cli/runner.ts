// The command-line shell shared by mvb, mvb-miner and mvb-wallet (after Lodestar): each command
// is one small module (name, arguments, typed options, handler: see command.ts) registered in one
// list, and runCli runs a list in-process and returns the exit code, so tests call commands
// without spawning.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { NetworkMismatchError } from '../../core/chain.js';
import { type Settings, ConfigError, configNetworks, defaultDataDir, loadSettings } from './config.js';
import { KeyError } from '../store/keystore.js';
import { LockError } from '../store/lock.js';
import { InputError } from '../check/input-error.js';
import { EventLogError } from '../events.js';
import { StoreDamagedError, damageReason, isStoreDamage } from '../store/damage.js';
import {
  type CliCommand,
  type CommandContext,
  type Output,
  type SharedOptions,
  CliError,
  SHARED_OPTIONS,
  commanderOption,
  optionValues,
} from './command.js';

// What commands have always imported from here; command definitions themselves come from command.ts.
export { type CliCommand, type CommandContext, type Output, CliError, integerOption } from './command.js';

export const processOutput: Output = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
};

export interface RunOptions {
  readonly io?: Output;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Which data directory to default to: the miner's or the wallet's. */
  readonly app: 'miner' | 'wallet' | 'tool';
  /** Extra description for --help. */
  readonly description?: string;
}

/**
 * A data directory used with another network than the one it belongs to. `holds` is the network
 * it belongs to, when known; the advice names the flag that fixes it.
 */
export class DatadirNetworkError extends CliError {
  constructor(datadir: string, wanted: string, holds: string | undefined, detail = '') {
    super(
      holds
        ? `${datadir} belongs to network ${holds}, not ${wanted}${detail}: use --network ${holds} (or leave --network out), or pick another --datadir for ${wanted}`
        : `${datadir} holds another network's chain, not ${wanted}'s${detail}: give the --network (and --set options) it was made with, or pick another --datadir for ${wanted}`,
      2,
    );
  }
}

/** The version in mvb's package.json (one version for every binary). */
export function packageVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(new URL('../../../../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Adds the shared options (--datadir --network --config --set --json) to cmd. */
export function sharedOptions(cmd: Command): Command {
  for (const spec of Object.values(SHARED_OPTIONS)) cmd.addOption(commanderOption(spec));
  return cmd;
}

/**
 * Runs argv (without node and script) against the commands; returns the exit code.
 * A single command may be the default (name '').
 */
export async function runCli(program: string, commands: readonly CliCommand[], argv: readonly string[], o: RunOptions): Promise<number> {
  const io = o.io ?? processOutput;
  const root = new Command(program);
  if (o.description) root.description(o.description);
  root.version(packageVersion(), '-V, --version', 'print the mvb version');
  root.exitOverride();
  root.configureOutput({
    writeOut: (s) => io.out(s.trimEnd()),
    writeErr: (s) => io.err(s.trimEnd()),
    outputError: (s) => io.err(s.trimEnd()),
  });
  if (!commands.some((c) => c.name === '')) sharedOptions(root);
  let result: Promise<number> | undefined;
  const run = (c: CliCommand, args: string[], opts: Record<string, unknown>) => (result = runHandler(c, args, opts, io, o));
  for (const c of commands) addCommand(root, c, io, run);
  try {
    await root.parseAsync(argv as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    // An option's value parser (e.g. --threads 0) refused the value while commander was parsing.
    const known = reportKnownError(e, io, {});
    if (known === undefined) throw e;
    return known;
  }
  if (!result) {
    io.err(root.helpInformation().trimEnd());
    return 2;
  }
  return result;
}

/** What the runner knows when an error reaches it: enough to word advice. */
interface ErrorScene {
  readonly datadir?: string;
  readonly network?: string;
}

interface ErrorRow<E extends Error> {
  readonly type: abstract new (...args: never[]) => E;
  readonly exitCode: (e: E) => number;
  /** Appended after the message: what the user can do about it. */
  readonly advice?: (e: E, scene: ErrorScene) => string;
}

const row = <E extends Error>(r: ErrorRow<E>): ErrorRow<Error> => r as unknown as ErrorRow<Error>;

/**
 * The errors a command may end with that are the user's to fix, each printed as one line
 * `error: <message>[; <advice>]` with its exit code; matched by class (first row that fits).
 * Anything else is a bug and prints its stack.
 */
const ERROR_TABLE: readonly ErrorRow<Error>[] = [
  row<CliError>({ type: CliError, exitCode: (e) => e.code }),
  row({ type: ConfigError, exitCode: () => 2 }),
  row({ type: InputError, exitCode: () => 2 }),
  row({ type: EventLogError, exitCode: () => 2 }),
  row({ type: LockError, exitCode: () => 1 }),
  row({ type: KeyError, exitCode: () => 1 }),
  row<NetworkMismatchError>({
    type: NetworkMismatchError,
    exitCode: () => 1,
    advice: mismatchAdvice,
  }),
];

/** Prints e as one line and returns its exit code if the table knows it; undefined otherwise. */
function reportKnownError(e: unknown, io: Output, scene: ErrorScene): number | undefined {
  const r = ERROR_TABLE.find((x) => e instanceof x.type);
  if (r === undefined) return undefined;
  const err = e as Error;
  const advice = r.advice?.(err, scene);
  io.err(`error: ${err.message}${advice ? `; ${advice}` : ''}`);
  return r.exitCode(err);
}

/** Registers one command (and its subcommands, `mvb devnet start`) under parent. */
function addCommand(
  parent: Command,
  c: CliCommand,
  io: Output,
  run: (c: CliCommand, args: string[], opts: Record<string, unknown>) => void,
): void {
  const cmd = c.name === '' ? parent : parent.command(c.name).description(c.describe);
  if (c.name === '') cmd.description(c.describe);
  for (const a of c.args ?? []) cmd.argument(a);
  // Shared options live on the program, so they work before or after the command name.
  if (c.name === '') sharedOptions(cmd);
  for (const spec of Object.values(c.options ?? {})) cmd.addOption(commanderOption(spec));
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => io.out(s.trimEnd()),
    writeErr: (s) => io.err(s.trimEnd()),
    outputError: (s) => io.err(s.trimEnd()),
  });
  for (const sub of c.subcommands ?? []) addCommand(cmd, sub, io, run);
  if (c.subcommands?.length) return;
  cmd.action((...all: unknown[]) => {
    const command = all[all.length - 1] as Command;
    const args = all.slice(0, c.args?.length ?? 0).map((x) => x as string);
    run(c, args, command.optsWithGlobals());
  });
}

async function runHandler(c: CliCommand, args: string[], opts: Record<string, unknown>, io: Output, o: RunOptions): Promise<number> {
  const scene: { datadir?: string; network?: string } = {};
  try {
    const shared = optionValues(SHARED_OPTIONS, opts);
    const named = c.datadirArg !== undefined ? args[c.datadirArg] : undefined;
    const { settings, datadir } = settingsFor(
      c,
      named !== undefined && shared.datadir === undefined ? { ...shared, datadir: named } : shared,
      o,
    );
    scene.datadir = datadir;
    scene.network = settings.network;
    const ctx: CommandContext = {
      settings,
      datadir,
      json: shared.json,
      io,
      signal: o.signal ?? new AbortController().signal,
      env: o.env ?? process.env,
      shared,
    };
    return await c.run(args, opts, ctx);
  } catch (e) {
    const known = reportKnownError(e, io, scene);
    if (known !== undefined) return known;
    // LMDB's own errors carry no class of theirs: told apart by their MDB_* codes.
    if (isStoreDamage(e)) {
      io.err(`error: ${damageLine(e, o.app, scene.datadir)}`);
      return 3;
    }
    // A file the command needs cannot be read or written (a damaged or read-only data directory).
    const fe = e as NodeJS.ErrnoException;
    if (typeof fe?.code === 'string' && typeof fe.syscall === 'string' && typeof fe.path === 'string') {
      io.err(`error: cannot ${fe.syscall} ${fe.path}: ${fsReason(fe)}`);
      return 1;
    }
    io.err(`error: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}

/**
 * Refuses a chain store that holds another network's chain (for commands that read a store
 * without building a Chain, which checks the same). The error carries the genesis of the network
 * the store holds when it is one of config.json's, so the advice can name its --network.
 */
export function checkStoreNetwork(
  store: { getTip(): Uint8Array | undefined; getBlock(hash: Uint8Array): unknown },
  settings: Settings,
): void {
  if (store.getTip() === undefined || store.getBlock(settings.params.genesisHash) !== undefined) return;
  for (const name of configNetworks()) {
    const genesis = genesisOf(name);
    if (genesis && store.getBlock(genesis)) throw new NetworkMismatchError(settings.network, genesis);
  }
  throw new NetworkMismatchError(settings.network);
}

function genesisOf(network: string): Uint8Array | undefined {
  try {
    return loadSettings({ network }).params.genesisHash;
  } catch {
    return undefined; // a network entry that does not load is not the one
  }
}

/** The config.json network whose genesis block has this hash, if any. */
export function networkOfGenesis(hash: Uint8Array): string | undefined {
  const hex = Buffer.from(hash).toString('hex');
  return configNetworks().find((n) => {
    const g = genesisOf(n);
    return g !== undefined && Buffer.from(g).toString('hex') === hex;
  });
}

/** Advice for a data directory of another network: name the flag when the network is known. */
function mismatchAdvice(e: NetworkMismatchError, s: ErrorScene): string {
  const wanted = s.network ?? e.network;
  const holds = e.storedGenesis ? networkOfGenesis(e.storedGenesis) : undefined;
  if (holds)
    return `${s.datadir ?? 'the data directory'} belongs to network ${holds}: use --network ${holds} (or leave --network out), or another --datadir for network ${wanted}`;
  return `use another --datadir${s.datadir ? ` than ${s.datadir}` : ''} for network ${wanted}`;
}

/**
 * The settings for a command: config file, the network the data directory remembers (or --network),
 * then --set. A data directory remembers its network from the command that created it.
 */
function settingsFor(c: CliCommand, shared: SharedOptions, o: RunOptions): { settings: Settings; datadir: string } {
  const explicitDir = shared.datadir;
  const saved = explicitDir ? readDatadirSettings(explicitDir) : undefined;
  const asked = shared.network;
  if (explicitDir && saved?.network && asked && asked !== saved.network) throw new DatadirNetworkError(explicitDir, asked, saved.network);
  const settings = loadSettings({
    configFile: shared.config ?? saved?.config,
    network: asked ?? saved?.network,
    sets: [...(saved?.sets ?? []), ...shared.set],
  });
  const datadir = explicitDir ?? defaultDataDir(o.app === 'miner' ? 'miner' : 'wallet', settings.network);
  if (o.app === 'tool') return { settings, datadir };
  const existed = existsSync(datadir);
  if (c.makesDataDir) return { settings, datadir };
  if (!existed && c.readsDataDir) {
    throw new CliError(`no data directory ${datadir} (a misspelt --datadir?); create one with: ${c.readsDataDir(datadir)}`);
  }
  prepareDataDir(datadir);
  if (!existed) writeDatadirSettings(datadir, { network: settings.network });
  return { settings, datadir };
}

/** Writes DATADIR/settings.json (atomically: a half-written file must not lose the network). */
export function writeDatadirSettings(dir: string, v: DatadirSettings): void {
  const file = join(dir, DATADIR_SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(v, null, 2) + '\n');
  renameSync(tmp, file);
}

/** One line: which store, what LMDB said, and the command that repairs it. */
function damageLine(e: unknown, app: RunOptions['app'], datadir: string | undefined): string {
  const store = e instanceof StoreDamagedError ? e.store : datadir ? join(datadir, 'chain') : 'the chain store';
  const dd = datadir ? ` --datadir ${datadir}` : '';
  const fix =
    app === 'miner'
      ? `run \`mvb-miner${dd} --resync\` to rebuild it from the network (keys are kept)`
      : app === 'wallet'
        ? `run \`mvb-wallet${dd} resync\` to rebuild it from the network (keys and payments are kept)`
        : 'rebuild it with `mvb-wallet resync` or `mvb-miner --resync`';
  const how = e instanceof StoreDamagedError ? e.how : {};
  return `the chain store ${store} ${how.state ?? 'is damaged'} (${damageReason(e)}); ${how.fix ? `${how.fix}; or ${fix}` : fix}`;
}

function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOTDIR') return 'part of the path is a file, not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'ENOENT') return 'cannot create it there';
  if (code === 'EEXIST') return 'a file is in the way';
  return code ?? (e as Error)?.message ?? String(e);
}

/**
 * Creates the data directory if needed and checks that it is a writable directory, so a bad
 * --datadir gives one clear line instead of a stack trace from deep inside the key or chain store.
 * Created one level at a time: Node's recursive mkdir never returns for some paths (under /proc).
 */
export function prepareDataDir(dir: string): void {
  const fail = (why: string): never => {
    throw new CliError(`cannot use data directory ${dir}: ${why}`);
  };
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && dirname(p) !== p) {
        missing.push(p);
        continue;
      }
      return fail(fsReason(e));
    }
    if (!isDir) fail(`${p} is not a directory`);
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fail(fsReason(e));
    }
  }
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'w', 0o600));
    unlinkSync(probe);
  } catch (e) {
    fail(`not writable (${fsReason(e)})`);
  }
}

/** Name of the file in a data directory that remembers its network settings (written by `mvb devnet`). */
export const DATADIR_SETTINGS_FILE = 'settings.json';

export interface DatadirSettings {
  readonly network?: string;
  readonly config?: string;
  /** `key=value` overrides, applied before any given on the command line. */
  readonly sets?: readonly string[];
}

/** The settings a data directory was created with, so `--datadir DIR` alone reaches the right network. */
export function readDatadirSettings(dir: string): DatadirSettings | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, DATADIR_SETTINGS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as DatadirSettings;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    if (v.network !== undefined && typeof v.network !== 'string') throw new Error('network must be a name');
    if (v.sets !== undefined && (!Array.isArray(v.sets) || !v.sets.every((x) => typeof x === 'string')))
      throw new Error('sets must be a list of key=value strings');
    return v;
  } catch (e) {
    throw new ConfigError(`${join(dir, DATADIR_SETTINGS_FILE)}: ${(e as Error).message}`);
  }
}

/** An AbortSignal that fires on SIGINT or SIGTERM (for a process's main). */
export function shutdownSignal(): AbortSignal {
  const ac = new AbortController();
  let firstAt = 0;
  const stop = (sig: NodeJS.Signals) => {
    if (!ac.signal.aborted) {
      firstAt = Date.now();
      ac.abort();
      return;
    }
    // The same signal often comes twice at once (timeout(1), docker and process-group kills send it
    // to the process and to its group): that must not cut a clean shutdown short. A later one
    // means "stop now": the default action, as before.
    if (Date.now() - firstAt < 2000) return;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.kill(process.pid, sig);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return ac.signal;
}

/** Main for a bin: runs the commands on process.argv and exits with their code. */
export async function main(program: string, commands: readonly CliCommand[], o: Omit<RunOptions, 'signal'>): Promise<void> {
  quietOnClosedPipe();
  const code = await runCli(program, commands, process.argv.slice(2), { ...o, signal: shutdownSignal() });
  process.exitCode = code;
}

/**
 * `mvb-wallet list-addresses | head -1`: once the reader has gone, writing to stdout fails with
 * EPIPE. That is the reader's choice, not an error: end quietly with exit code 0.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}

// Network-namespace primitives on Linux through iproute2 (`ip netns`), shared by the lab's emulated
// network (netns.ts) and the multi-host test suite's bridged LAN (test/kit/netns.ts). Every
// namespace made through them is named `<prefix>-<pid of the creating process>-<n>-<role>` (role
// `sw` or `h<i>`), which is what lets a later run find and remove what a crashed run left behind.
import { execFileSync } from 'node:child_process';
import { processAlive } from '../shared/node/store/lock.js';

export class NetnsError extends Error {
  override readonly name = 'NetnsError';
}

/** Runs a command to completion (60 s at most) and returns its stdout; a failure becomes a one-line NetnsError. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 60_000,
      ...(input === undefined ? {} : { input }),
    });
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string };
    const detail =
      err.code === 'ENOENT'
        ? `the \`${cmd}\` command (iproute2) is not installed`
        : (err.stderr || err.message).trim().split('\n').slice(0, 3).join('; ');
    throw new NetnsError(`${cmd} ${args.slice(0, 6).join(' ')}: ${detail}`);
  }
}

export const ip = (args: readonly string[]): string => run('ip', args);

/** Runs `ip` commands (one a line, without the leading `ip`) inside namespace ns in one process. */
export function ipBatch(ns: string, lines: readonly string[]): string {
  return run('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
}

/**
 * Why network namespaces cannot be used here, or undefined if they probably can: needs Linux,
 * root and `ip`, plus each of tools (each asked for `-V`; the lab asks for python3, its switch).
 */
export function netnsUnavailable(tools: readonly string[] = []): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  const uid = process.getuid?.();
  if (uid !== 0) return `network namespaces need root (this runs as uid ${uid}); try sudo`;
  try {
    ip(['-V']);
    for (const t of tools) run(t, ['-V']);
    ip(['netns', 'list']);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

export function listNamespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Processes (PIDs) running inside a namespace. */
export function namespacePids(ns: string): number[] {
  return ip(['netns', 'pids', ns]).split('\n').filter(Boolean).map(Number);
}

/**
 * Deletes namespaces named `<prefix>-<pid>-<n>-<role>` whose creating process is gone (a run that
 * was killed with SIGKILL). Processes still inside are reported, not ended: this run did not start
 * them. Returns what was removed and warnings.
 */
export function cleanupLeftovers(prefix: string): { removed: string[]; warnings: string[] } {
  const re = new RegExp(`^${prefix}-(\\d+)-\\d+-(sw|h\\d+)$`);
  const removed: string[] = [];
  const warnings: string[] = [];
  for (const name of listNamespaces()) {
    const m = re.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    try {
      const pids = namespacePids(name);
      if (pids.length) warnings.push(`namespace ${name} from a crashed run still has processes ${pids.join(', ')}; they were left running`);
    } catch {
      /* reported by the delete below if it matters */
    }
    try {
      ip(['netns', 'del', name]);
      removed.push(name);
    } catch (e) {
      warnings.push((e as Error).message);
    }
  }
  return { removed, warnings };
}

/** The command prefix that runs a program inside namespace ns. */
export function execIn(ns: string): string[] {
  return ['ip', 'netns', 'exec', ns];
}

/** The namespaces one network made, in order, so they can all be removed (newest first). */
export class NamespaceSet {
  private readonly created: string[] = [];

  /** Creates namespace name with its loopback up. */
  add(name: string): void {
    ip(['netns', 'add', name]);
    this.created.push(name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** Namespaces of this set that still exist. */
  remaining(): string[] {
    const live = new Set(listNamespaces());
    return this.created.filter((n) => live.has(n));
  }

  /** Deletes every namespace of the set (and so every veth in them), newest first; returns errors. */
  deleteAll(): string[] {
    const errors: string[] = [];
    for (const name of [...this.created].reverse()) {
      try {
        ip(['netns', 'del', name]);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return errors;
  }
}

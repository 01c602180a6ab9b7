// Every process a test starts is registered here, so that stopping a test run (Ctrl-C, or SIGTERM
// to mocha) stops them too: child processes (a detached one with its whole process group) and
// devnets (`mvb devnet stop --dir`, which ends the detached nodes `mvb devnet start` started).
// The root hooks (root-hooks.ts, loaded by .mocharc.json) install the signal handlers and, after
// the run, stop anything a failed test left behind. Only processes we started, by PID.
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MVB = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist/src/tools/mvb.js');
/** Each child, and whether it leads a process group of its own (spawned detached). */
const children = new Map<ChildProcess, boolean>();
const devnets = new Set<string>();

/** Registers a child (group: spawned detached); it leaves the registry when it exits. Returns it. */
export function track<T extends ChildProcess>(child: T, group = false): T {
  if (child.exitCode !== null || child.signalCode !== null) return child;
  children.set(child, group);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers a devnet folder (before `mvb devnet start`); untrack it once stopped. */
export function trackDevnet(dir: string): void {
  devnets.add(dir);
}

export function untrackDevnet(dir: string): void {
  devnets.delete(dir);
}

/** How many processes and devnets are registered now (for tests of this registry). */
export function tracked(): { children: number; devnets: number } {
  return { children: children.size, devnets: devnets.size };
}

/**
 * Stops everything registered, synchronously (it runs from a signal handler): SIGTERM to each
 * child (to the group of a detached one), then `mvb devnet stop` for each devnet (bounded).
 */
export function stopAllTracked(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const [c, group] of children) {
    if (c.pid === undefined) continue;
    try {
      // A detached child leads its own process group: signal the group (a wrapper and what it runs).
      process.kill(group ? -c.pid : c.pid, signal);
    } catch {
      /* already gone */
    }
  }
  children.clear();
  for (const dir of devnets) spawnSync(process.execPath, [MVB, 'devnet', 'stop', '--dir', dir], { stdio: 'ignore', timeout: 30_000 });
  devnets.clear();
}

let installed = false;

/** On SIGINT/SIGTERM: stop what the tests started, then end the run (exit code 130 / 143). */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (sig: NodeJS.Signals) => {
    stopAllTracked('SIGTERM');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

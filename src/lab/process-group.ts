// Ending a child process that was started in a process group of its own (spawn with detached:
// true): the whole group is signalled by the leader's PID, so a wrapper (`ip netns exec ...`) and
// the program it runs end together.
import type { ChildProcess } from 'node:child_process';

/** A child process and a promise of its exit code (null: ended by a signal). */
export interface GroupLeader {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/**
 * Sends signal to the process group led by p, then SIGKILL if it has not exited after graceMs.
 * Resolves with its exit code (null if it never started or was ended by a signal).
 */
export async function stopProcessGroup(p: GroupLeader, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number | null> {
  if (p.child.pid === undefined) return null;
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-p.child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  kill(signal);
  const t = setTimeout(() => kill('SIGKILL'), graceMs);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

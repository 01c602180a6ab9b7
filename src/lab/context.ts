// What one run hands to the code that plays it (the schedule in run.ts, an attack in
// double-spend.ts or selfish.ts): the network, the processes, the files, and an interruptible pause.
// Its own module so that run.ts imports the attacks and the attacks import this, not run.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../shared/node/cli/runner.js';
import type { EmulatedNet } from './netns.js';
import type { Experiment } from './experiment.js';
import type { LabProcs, Proc } from './nodes.js';

export interface RunContext {
  readonly x: Experiment;
  readonly net: EmulatedNet;
  readonly procs: LabProcs;
  readonly dir: string;
  readonly miners: (Proc | undefined)[];
  readonly walletDirs: string[];
  readonly addresses: string[];
  readonly eventFiles: string[];
  readonly t0: number;
  readonly signal: AbortSignal;
  note(msg: string): void;
  startMiner(i: number): void;
}

export function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new CliError('interrupted: everything the lab made was removed', 130);
}

/** Sleeps up to ms, returning early (and throwing) when the run is interrupted. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    /* aborted */
  }
  checkAbort(signal);
}

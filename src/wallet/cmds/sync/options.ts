// sync's options: one typed record, parsed and bounded in one place.
import { CliError, type OptionValues, flag, stringOption } from '../../../shared/node/cli/command.js';

export interface SyncOptions {
  /** Catch up, rebroadcast once, print a summary and exit (else: run until Ctrl-C). */
  readonly once: boolean;
  /** --once only: seconds to wait for a first miner, and then for progress while catching up. */
  readonly timeoutSeconds: number;
  /** --once only: seconds in all, caught up or not. */
  readonly deadlineSeconds: number;
  readonly verbose: boolean;
  /** --events FILE: the node's event log (see shared/node/events.ts). */
  readonly events?: string;
}

/** --once's --timeout when none is given. */
export const DEFAULT_ONCE_TIMEOUT_SECONDS = 10;
/** --once's hard --deadline when none is given. */
export const DEFAULT_ONCE_DEADLINE_SECONDS = 300;

export const SYNC_OPTIONS = {
  once: flag('--once', 'catch up with the best chain heard, rebroadcast pending payments once, print a summary and exit'),
  timeout: stringOption(
    '--timeout <seconds>',
    `with --once: give up after this long without hearing a miner, or without progress while catching up (default ${DEFAULT_ONCE_TIMEOUT_SECONDS}); the loop without --once runs until Ctrl-C and warns while it hears no miner`,
  ),
  deadline: stringOption(
    '--deadline <seconds>',
    `with --once: stop after this long in all, caught up or not (default ${DEFAULT_ONCE_DEADLINE_SECONDS})`,
  ),
  verbose: flag('--verbose', 'also log network details'),
  events: stringOption(
    '--events <file>',
    'append an event log (JSON lines: tips heard, blocks connected and disconnected, reorganisations) to this file',
  ),
};

export function parseSyncOptions(opts: OptionValues<typeof SYNC_OPTIONS>): SyncOptions {
  const once = opts.once;
  const given = opts.timeout;
  if (given !== undefined && !once) {
    throw new CliError('--timeout applies to --once only: without --once, sync runs until Ctrl-C and warns while it hears no miner', 2);
  }
  const timeoutSeconds = given === undefined ? DEFAULT_ONCE_TIMEOUT_SECONDS : Number(given);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 86400)
    throw new CliError(`invalid --timeout "${String(given)}": seconds, more than 0 and at most 86400`, 2);
  const givenDeadline = opts.deadline;
  if (givenDeadline !== undefined && !once) throw new CliError('--deadline applies to --once only', 2);
  const deadlineSeconds = givenDeadline === undefined ? DEFAULT_ONCE_DEADLINE_SECONDS : Number(givenDeadline);
  if (!Number.isFinite(deadlineSeconds) || deadlineSeconds <= 0 || deadlineSeconds > 86400)
    throw new CliError(`invalid --deadline "${String(givenDeadline)}": seconds, more than 0 and at most 86400`, 2);
  return {
    once,
    timeoutSeconds,
    deadlineSeconds,
    verbose: opts.verbose,
    ...(opts.events !== undefined ? { events: opts.events } : {}),
  };
}

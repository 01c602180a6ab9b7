// `mvb devnet stop`: ends exactly the processes `start` started: PIDs recorded in DIR/devnet.json,
// each checked against its command line (a recycled PID is not ours). Data stays.
import { command } from '../../../shared/node/cli/command.js';
import { resolve } from 'node:path';
import { DIR_OPTION, type DevnetNode, isOurProcess, requireState, writeState } from './state.js';

/** Grace before SIGKILL for a node that does not stop on SIGTERM. */
const STOP_GRACE_MS = 15_000;

export async function devnetStop(dirArg: string, log: (l: string) => void = () => {}): Promise<number> {
  const state = requireState(dirArg);
  const ours = state.nodes.filter((n) => isOurProcess(n.pid, n.datadir));
  for (const n of ours) process.kill(n.pid!, 'SIGTERM');
  await Promise.all(ours.map((n) => waitStopped(n, log)));
  for (const n of state.nodes) delete n.pid;
  writeState(resolve(dirArg), state);
  return ours.length;
}

async function waitStopped(n: DevnetNode, log: (l: string) => void): Promise<void> {
  const pid = n.pid!;
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isOurProcess(pid, n.datadir)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`stopped ${n.name} (pid ${pid})`);
}

export const stopCommand = command({
  name: 'stop',
  describe: 'stop every process `start` started (data is kept)',
  options: { dir: DIR_OPTION },
  async handler(_args, opts, ctx) {
    const dir = opts.dir;
    const n = await devnetStop(dir, (l) => !ctx.json && ctx.io.out(l));
    if (ctx.json) ctx.io.out(JSON.stringify({ stopped: n }));
    else ctx.io.out(n ? `stopped ${n} process(es); data kept in ${resolve(dir)}` : 'nothing was running');
    return 0;
  },
});

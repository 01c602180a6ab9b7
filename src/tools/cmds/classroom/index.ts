// `mvb classroom`: a class on the teacher's machine: `start` (miner, explorer, faucet, the join
// line), `status` and `stop`, which are the devnet's, on the class's folder.
import { command, commandGroup } from '../../../shared/node/cli/command.js';
import { resolve } from 'node:path';
import { devnetStatus } from '../devnet/status.js';
import { devnetStop } from '../devnet/stop.js';
import { CLASSROOM_DIR_OPTION, classroomStartCommand } from './start.js';

const classroomStatus = command({
  name: 'status',
  describe: "the class's processes: running or not, the miner's tip, the explorer's URL",
  options: { dir: CLASSROOM_DIR_OPTION },
  async handler(_args, opts, ctx) {
    const rows = await devnetStatus(opts.dir);
    if (ctx.json) ctx.io.out(JSON.stringify(rows));
    else
      for (const r of rows) {
        const what = r.kind === 'miner' && r.height !== undefined ? `height ${r.height} tip ${r.tip!.slice(0, 16)}…` : (r.url ?? '');
        ctx.io.out(`${r.name.padEnd(9)} ${r.running ? `running (pid ${r.pid})` : 'stopped'}  ${what}`);
      }
    return 0;
  },
});

const classroomStop = command({
  name: 'stop',
  describe: 'stop what `mvb classroom start` started (the chain and the faucet key are kept)',
  options: { dir: CLASSROOM_DIR_OPTION },
  async handler(_args, opts, ctx) {
    const n = await devnetStop(opts.dir, (l) => !ctx.json && ctx.io.out(l));
    if (ctx.json) ctx.io.out(JSON.stringify({ stopped: n }));
    else ctx.io.out(n ? `stopped ${n} process(es); data kept in ${resolve(opts.dir)}` : 'nothing was running');
    return 0;
  },
});

export const classroomCommand = commandGroup({
  name: 'classroom',
  describe: "A class on this machine: `start` (miner, explorer, faucet, the students' join line), `status`, `stop`",
  subcommands: [classroomStartCommand, classroomStatus, classroomStop],
});

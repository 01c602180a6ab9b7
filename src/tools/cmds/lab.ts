// `mvb lab <action> ...`: runs the lab app (src/lab, its own process: apps do not import each other)
// with the same arguments, passing its output through; SIGINT/SIGTERM reach it, and it removes
// everything it made before it exits.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { command, stringOption } from '../../shared/node/cli/command.js';

export const LAB_BIN = fileURLToPath(new URL('../../lab/main.js', import.meta.url));

export const labCommand = command({
  name: 'lab',
  describe: 'network lab: `mvb lab run <experiment.json> [--json] [--out DIR]` runs real nodes over emulated links (root)',
  args: ['<action>', '<experiment>'],
  options: { out: stringOption('--out <dir>', "where to write result.json, chart.svg and the nodes' event logs") },
  async handler(args, opts, ctx) {
    const argv = [LAB_BIN, ...args, ...(opts.out ? ['--out', opts.out] : []), ...(ctx.json ? ['--json'] : [])];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (write: (l: string) => void) => {
      let buf = '';
      return (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        for (const l of parts) write(l);
      };
    };
    child.stdout.on(
      'data',
      lines((l) => ctx.io.out(l)),
    );
    child.stderr.on(
      'data',
      lines((l) => ctx.io.err(l)),
    );
    const stop = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', stop, { once: true });
    const code = await new Promise<number>((r) => child.on('close', (c, sig) => r(c ?? (sig ? 130 : 1))));
    ctx.signal.removeEventListener('abort', stop);
    return code;
  },
});

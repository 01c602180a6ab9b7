// mvb explorer: runs the explorer app (src/explorer, bin mvb-explorer) with the same arguments.
// Apps never import each other, so the mvb tool starts it as a child process, as devnet starts
// miners; SIGINT/SIGTERM are passed on and its exit code is ours.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type SharedOptions, command, stringOption } from '../../shared/node/cli/command.js';

export const EXPLORER_BIN = fileURLToPath(new URL('../../explorer/main.js', import.meta.url));

/** The shared options as given, to pass on. */
function passOn(shared: SharedOptions): string[] {
  const out: string[] = [];
  for (const k of ['datadir', 'network', 'config'] as const) {
    const v = shared[k];
    if (v !== undefined) out.push(`--${k}`, v);
  }
  for (const s of shared.set) out.push('--set', s);
  if (shared.json) out.push('--json');
  return out;
}

export const explorerCommand = command({
  name: 'explorer',
  describe: 'run the explorer: a live page of the chain, forks and mempool, and an Esplora-compatible API (default http://127.0.0.1:3000/)',
  options: {
    http: stringOption('--http <host:port>', 'where to serve HTTP (e.g. 0.0.0.0:3000 to let the class in)', '127.0.0.1:3000'),
    electrum: stringOption('--electrum <[host:]port>', 'also serve the Electrum protocol (1.4) on this TCP port; a port alone is loopback'),
  },
  async handler(_args, opts, ctx) {
    const child = spawn(
      process.execPath,
      [EXPLORER_BIN, '--http', opts.http, ...(opts.electrum === undefined ? [] : ['--electrum', opts.electrum]), ...passOn(ctx.shared)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: ctx.env,
      },
    );
    child.stdout.setEncoding('utf8').on('data', (s: string) =>
      s
        .replace(/\n$/, '')
        .split('\n')
        .forEach((l) => ctx.io.out(l)),
    );
    child.stderr.setEncoding('utf8').on('data', (s: string) =>
      s
        .replace(/\n$/, '')
        .split('\n')
        .forEach((l) => ctx.io.err(l)),
    );
    const stop = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', stop, { once: true });
    const code = await new Promise<number>((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 130 : 1))));
    ctx.signal.removeEventListener('abort', stop);
    return code;
  },
});

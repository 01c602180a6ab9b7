// `mvb lab run --explorer`: the class watches the lab's forks on the projector. The explorer runs on
// the lab's first host (inside its network namespace, where it hears the miners' broadcasts), and
// this bridge makes its page reachable from the machine itself: a process inside the namespace
// listens on a Unix socket in the run's folder and forwards to the explorer's port on the host's address there;
// the lab (outside) listens on 127.0.0.1:PORT and forwards each connection to that socket. A file
// path is the one thing both sides of a namespace share. Each connection is a plain byte pipe with
// an idle deadline; at most MAX_BRIDGED connections at once.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Connections bridged at once, at most (a class's browsers). */
export const MAX_BRIDGED = 512;
/** A bridged connection idle this long is closed (the explorer's event stream sends a heartbeat). */
const IDLE_MS = 120_000;

/** Pipes a and b both ways; either closing or going idle closes both. */
function pipe(a: Socket, b: Socket): void {
  const close = () => (a.destroy(), b.destroy());
  for (const s of [a, b]) {
    s.setTimeout(IDLE_MS, close);
    s.on('error', close);
    s.on('close', close);
  }
  a.pipe(b);
  b.pipe(a);
}

/** Listens on `listen` (a Unix socket path or a TCP port on 127.0.0.1) and forwards to `to`. */
export function bridge(listen: string | number, to: () => Socket): Promise<Server> {
  if (typeof listen === 'string') rmSync(listen, { force: true });
  const server = createServer((c) => {
    server.getConnections((_e, n) => (n > MAX_BRIDGED ? c.destroy() : pipe(c, to())));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => resolve(server);
    if (typeof listen === 'string') server.listen(listen, done);
    else server.listen(listen, '127.0.0.1', done);
  });
}

/** The inside end, run in the namespace: `node explorer-bridge.js --unix PATH --host IP --port N` (other arguments ignored). */
async function main(argv: readonly string[]): Promise<void> {
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const path = at('--unix');
  const port = Number(at('--port'));
  const host = at('--host') ?? '127.0.0.1';
  if (!path || !(port > 0 && port < 65536)) {
    process.stderr.write('usage: explorer-bridge --unix PATH [--host IP] --port N\n');
    process.exitCode = 2;
    return;
  }
  const server = await bridge(path, () => connect(port, host));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main(process.argv.slice(2));

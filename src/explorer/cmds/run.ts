// `mvb-explorer` (and `mvb explorer`): follows the chain, hears transactions and miners, serves the
// page and the API until SIGINT/SIGTERM, then closes the HTTP server, the node and the store.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { type CliCommand, CliError, command, stringOption } from '../../shared/node/cli/command.js';
import { prepareDataDir, writeDatadirSettings } from '../../shared/node/cli/runner.js';
import { defaultDataDir } from '../../shared/node/cli/config.js';
import { Api } from '../api.js';
import { Explorer } from '../explorer.js';
import { ExplorerHttp } from '../http.js';

export const DEFAULT_HTTP = '127.0.0.1:3000';

/** HOST:PORT, HOST an IP address or localhost, PORT 0 (any free port) to 65535. */
export function parseHttp(v: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):([0-9]{1,5})$/.exec(v);
  const host = m?.[1]?.replace(/^\[|\]$/g, '');
  const port = Number(m?.[2]);
  if (!m || !host || (host !== 'localhost' && !isIP(host)) || port > 65535)
    throw new CliError(`invalid --http "${v}": expected HOST:PORT, e.g. 127.0.0.1:3000 or 0.0.0.0:3000`, 2);
  return { host, port };
}

/** The URLs people can open: a wildcard address means every IPv4 address of this machine. */
export function urlsFor(host: string, port: number): string[] {
  const fmt = (h: string) => `http://${h.includes(':') ? `[${h}]` : h}:${port}/`;
  if (host !== '0.0.0.0' && host !== '::') return [fmt(host)];
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(fmt(a.address));
  return out.length ? out : [fmt('127.0.0.1')];
}

export const runExplorerCommand = command({
  name: '',
  describe: 'Run the mvb explorer: follows the best chain, hears transactions and miners, serves a live page and an Esplora-compatible API',
  options: {
    http: stringOption('--http <host:port>', `where to serve HTTP (a LAN address such as 0.0.0.0:3000 only when asked)`, DEFAULT_HTTP),
  },
  async handler(_args, opts, ctx) {
    const { host, port } = parseHttp(opts.http);
    const datadir = ctx.shared.datadir ?? join(dirname(defaultDataDir('wallet', ctx.settings.network)), 'explorer');
    const existed = existsSync(datadir);
    prepareDataDir(datadir);
    // As the miner's and wallet's: a new data directory remembers its network.
    if (!existed) writeDatadirSettings(datadir, { network: ctx.settings.network });
    const ex = new Explorer({
      settings: ctx.settings,
      chainDir: join(datadir, 'chain'),
      log: (level, msg) => level === 'warn' && ctx.io.err(`warning: ${msg}`),
    });
    const http = new ExplorerHttp(new Api(ex), (m) => ctx.io.err(`warning: ${m}`));
    try {
      await ex.start();
      const addr = await http.listen(host, port).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') throw new CliError(`HTTP port ${host}:${port} is in use: pick another with --http HOST:PORT`);
        if (e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') throw new CliError(`cannot serve HTTP on ${host}:${port}: ${e.code}`);
        throw e;
      });
      const urls = urlsFor(host, addr.port);
      if (ctx.json) ctx.io.out(JSON.stringify({ url: urls[0], urls, height: ex.chain.height, network: ctx.settings.network, datadir }));
      else ctx.io.out(`explorer: ${urls.join(' ')} (network ${ctx.settings.network}, height ${ex.chain.height}); Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (!ctx.json) ctx.io.out(`stopping explorer at height ${ex.chain.height}`);
      return 0;
    } finally {
      await http.close();
      await ex.stop();
    }
  },
});

export const explorerCommands: readonly CliCommand[] = [runExplorerCommand];

// `mvb-explorer` (and `mvb explorer`): follows the chain, hears transactions and miners, serves the
// page and the API until SIGINT/SIGTERM, then closes the HTTP server, the node and the store.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { type CliCommand, CliError, command, flag, numberOption, parsedOption, stringOption } from '../../shared/node/cli/command.js';
import { AmountError, parseCoins } from '../../shared/core/amount.js';
import { COIN } from '../../shared/core/params.js';
import { prepareDataDir, writeDatadirSettings } from '../../shared/node/cli/runner.js';
import { defaultDataDir } from '../../shared/node/cli/config.js';
import { Api } from '../api.js';
import { Explorer } from '../explorer.js';
import { ExplorerHttp } from '../http.js';
import { Faucet } from '../faucet.js';
import type { Classroom } from '../lookups.js';
import { serveElectrum } from '../electrum/option.js';
import type { ElectrumServer } from '../electrum/server.js';

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

/** The join details and the faucet of a classroom explorer. */
function classroomFor(
  ex: Explorer,
  url: string,
  o: { faucet: string | undefined; faucetAmount: bigint; faucetPerHour: number; faucetStampBits: number },
): Classroom {
  if (o.faucet === undefined) return { url };
  const faucet = new Faucet(ex, {
    keysDir: o.faucet,
    amount: o.faucetAmount,
    maxPerHour: o.faucetPerHour,
    stampBits: o.faucetStampBits,
    feeRate: ex.settings.defaultFeeRate,
  });
  return { url, faucet };
}

/** Coins as typed (12.5); a bad amount is a usage error. */
function parseCoinsOption(flagName: string, v: string): bigint {
  try {
    const units = parseCoins(v, flagName);
    if (units <= 0n) throw new CliError(`${flagName} must be above 0`, 2);
    return units;
  } catch (e) {
    if (e instanceof AmountError) throw new CliError(e.message, 2);
    throw e;
  }
}

export const runExplorerCommand = command({
  name: '',
  describe: 'Run the mvb explorer: follows the best chain, hears transactions and miners, serves a live page and an Esplora-compatible API',
  options: {
    http: stringOption('--http <host:port>', `where to serve HTTP (a LAN address such as 0.0.0.0:3000 only when asked)`, DEFAULT_HTTP),
    classroom: flag(
      '--classroom',
      'serve a class: how to join (GET /api/mvb/classroom), shown large on the page (mvb classroom start sets it)',
    ),
    electrum: stringOption(
      '--electrum <[host:]port>',
      'also serve the Electrum protocol (1.4) on this TCP port; a port alone is loopback (127.0.0.1)',
    ),
    faucet: stringOption('--faucet <keys-dir>', "with --classroom: give coins from the key 'faucet' in this folder (created if missing)"),
    faucetAmount: parsedOption(
      '--faucet-amount <coins>',
      'coins per faucet grant',
      (v) => parseCoinsOption('--faucet-amount', v),
      10n * COIN,
    ),
    faucetPerHour: numberOption('--faucet-per-hour <n>', 'faucet grants per hour, in all', 1, 100_000, 300),
    faucetStampBits: numberOption(
      '--faucet-stamp-bits <n>',
      'leading zero bits of the hashcash stamp a faucet request needs (16: 65 536 hashes, well under a second)',
      0,
      32,
      16,
    ),
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
    const api = new Api(ex);
    const http = new ExplorerHttp(api, (m) => ctx.io.err(`warning: ${m}`));
    let electrum: { server: ElectrumServer; at: string } | undefined;
    try {
      await ex.start();
      const addr = await http.listen(host, port).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') throw new CliError(`HTTP port ${host}:${port} is in use: pick another with --http HOST:PORT`);
        if (e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') throw new CliError(`cannot serve HTTP on ${host}:${port}: ${e.code}`);
        throw e;
      });
      if (opts.electrum !== undefined) electrum = await serveElectrum(api, opts.electrum, (m) => ctx.io.err(`warning: ${m}`));
      const urls = urlsFor(host, addr.port);
      if (opts.classroom) api.classroom = classroomFor(ex, urls[0]!, opts);
      else if (opts.faucet !== undefined) throw new CliError('--faucet needs --classroom', 2);
      if (ctx.json)
        ctx.io.out(
          JSON.stringify({ url: urls[0], urls, electrum: electrum?.at, height: ex.chain.height, network: ctx.settings.network, datadir }),
        );
      else {
        ctx.io.out(`explorer: ${urls.join(' ')} (network ${ctx.settings.network}, height ${ex.chain.height}); Ctrl-C to stop`);
        if (electrum) ctx.io.out(`electrum: tcp://${electrum.at}`);
      }
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (!ctx.json) ctx.io.out(`stopping explorer at height ${ex.chain.height}`);
      return 0;
    } finally {
      await electrum?.server.close();
      await http.close();
      await ex.stop();
    }
  },
});

export const explorerCommands: readonly CliCommand[] = [runExplorerCommand];

// `--electrum [HOST:]PORT`: where the explorer serves the Electrum protocol. A port alone means
// loopback (127.0.0.1), as electrs's --electrum-rpc-addr defaults to; a LAN address only when
// written out. Not given: no Electrum server (the explorer's HTTP side is its main face).
import { isIP } from 'node:net';
import { CliError } from '../../shared/node/cli/command.js';
import type { Lookups } from '../lookups.js';
import { ElectrumServer } from './server.js';

export const ELECTRUM_DEFAULT_HOST = '127.0.0.1';

export function parseElectrum(v: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[^:]+):)?([0-9]{1,5})$/.exec(v);
  const host = m?.[1]?.replace(/^\[|\]$/g, '') ?? ELECTRUM_DEFAULT_HOST;
  const port = Number(m?.[2]);
  if (!m || (host !== 'localhost' && !isIP(host)) || port > 65535)
    throw new CliError(`invalid --electrum "${v}": expected [HOST:]PORT, e.g. 50001 (loopback) or 0.0.0.0:50001`, 2);
  return { host, port };
}

/** HOST:PORT as a person writes it (IPv6 in brackets). */
export const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Starts the Electrum server on `--electrum`'s address; a port in use or not ours is a one-line error. */
export async function serveElectrum(l: Lookups, value: string, warn: (m: string) => void): Promise<{ server: ElectrumServer; at: string }> {
  const { host, port } = parseElectrum(value);
  const server = new ElectrumServer(l, { host, warn });
  const a = await server.listen(host, port).catch(async (e: NodeJS.ErrnoException) => {
    await server.close();
    if (e.code === 'EADDRINUSE') throw new CliError(`Electrum port ${host}:${port} is in use: pick another with --electrum HOST:PORT`);
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') throw new CliError(`cannot serve Electrum on ${host}:${port}: ${e.code}`);
    throw e;
  });
  return { server, at: hostPort(host, a.port) };
}

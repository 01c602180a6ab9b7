// Which address the class reaches the teacher's machine at, and the subnet's broadcast address that
// carries the miners' statuses and the students' payments: from the machine's interfaces (the first
// IPv4 address that is not loopback, or the one --host names), broadcast = address | ~netmask.
import { networkInterfaces } from 'node:os';
import { CliError } from '../../../shared/node/cli/command.js';

export interface LanAddress {
  readonly address: string;
  readonly broadcast: string;
  readonly interfaceName: string;
}

const toInt = (ip: string) => ip.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');

/** The subnet's broadcast address for an IPv4 address and its netmask. */
export function broadcastOf(address: string, netmask: string): string {
  return toIp((toInt(address) | ~toInt(netmask)) >>> 0);
}

/** The LAN address to serve the class on: --host if given (it must be this machine's), else the first non-loopback IPv4. */
export function lanAddress(host: string | undefined): LanAddress {
  const all = Object.entries(networkInterfaces()).flatMap(([name, list]) =>
    (list ?? []).filter((a) => a.family === 'IPv4').map((a) => ({ name, ...a })),
  );
  const pick = host === undefined ? all.find((a) => !a.internal) : all.find((a) => a.address === host);
  if (pick === undefined) {
    const have = all.map((a) => `${a.address} (${a.name})`).join(', ') || 'none';
    throw new CliError(
      host === undefined
        ? `this machine has no LAN address (IPv4 addresses: ${have}): join the class's Wi-Fi or hotspot first, or give --host`
        : `--host ${host} is not an address of this machine (its IPv4 addresses: ${have})`,
      2,
    );
  }
  return { address: pick.address, broadcast: broadcastOf(pick.address, pick.netmask), interfaceName: pick.name };
}

// Settings: config.json (or --config FILE), the chosen network's entry, then --set overrides.
// Every key is overridable; consensus keys change the network id, so a node with changed rules
// does not talk to nodes without them. This is the shell around the pure core: it reads files.
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { type ConsensusParams, type NetworkConfig, makeParams } from '../../core/params.js';

export const DEFAULT_CONFIG_PATH = new URL('../../../../../config.json', import.meta.url);

export interface Settings {
  readonly network: string;
  readonly params: ConsensusParams;
  readonly transactionPort: number;
  readonly statusPort: number;
  readonly blockServerPort: number;
  readonly broadcastAddress: string;
  readonly peers: readonly string[];
  readonly statusBroadcastIntervalSeconds: number;
  readonly transactionBroadcastIntervalSeconds: number;
  /** Base units per byte a transaction must pay to be relayed and mined. */
  readonly minRelayFeeRate: number;
  /** Base units per byte the wallet pays by default. */
  readonly defaultFeeRate: number;
  /**
   * The highest fee `send` pays without --force, as a share of the amount (0.1: a tenth), after
   * Core's -maxtxfee. A fee at defaultFeeRate is always allowed (tiny payments need it).
   */
  readonly maxFee: number;
  readonly mempoolMaxBytes: number;
  readonly minBlockTransactions: number;
  /** Header hashes per second a miner may do in total; 0 = as fast as it can. */
  readonly maxHashrate: number;
  readonly maxTcpConnections: number;
  readonly tcpTimeoutSeconds: number;
  readonly peerBanSeconds: number;
  /** Every effective key, for printing and for keys this interface does not name. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const CONSENSUS_KEYS = ['name', 'magic', 'addressVersion', 'genesis', 'targetBlockSeconds', 'retargetInterval', 'powLimitBits', 'subsidy', 'halvingInterval', 'coinbaseMaturity', 'maxBlockBytes', 'maxTxBytes'];

/** Parses one `key=value`; the value is JSON when it parses as JSON, else a string. */
/** The other way: config values as `key=value` overrides parseSet reads back (strings raw, the rest as JSON). */
export function formatSets(values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

export function parseSet(s: string): [string, unknown] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set expects key=value, got "${s}"`);
  const key = s.slice(0, eq).trim();
  const text = s.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    /* a plain string */
  }
  return [key, value];
}

function num(raw: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ConfigError(`${key} must be a number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return v;
}

/** min 1 for the UDP ports, which everyone must agree on; 0 (any free port) is fine for a block server. */
function port(raw: Record<string, unknown>, key: string, min = 0): number {
  const v = num(raw, key, min, 65535);
  if (!Number.isInteger(v)) throw new ConfigError(`${key} must be an integer port`);
  return v;
}

export interface LoadOptions {
  readonly configFile?: string;
  readonly network?: string;
  readonly sets?: readonly string[];
}

export function loadSettings(opts: LoadOptions = {}): Settings {
  let file: Record<string, unknown>;
  const path = opts.configFile ?? DEFAULT_CONFIG_PATH;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`cannot read config ${String(path)}: ${(e as Error).message.replace(/\s+/g, ' ')}`);
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError(`config ${String(path)} is not a JSON object`);
  const sets = (opts.sets ?? []).map(parseSet);
  const setNetwork = sets.find(([k]) => k === 'network')?.[1];
  const network = String(opts.network ?? setNetwork ?? file['network'] ?? 'lan');
  const networks = (file['networks'] ?? {}) as Record<string, Record<string, unknown>>;
  const net = typeof networks === 'object' && Object.hasOwn(networks, network) ? networks[network] : undefined;
  if (net !== undefined && (typeof net !== 'object' || net === null)) throw new ConfigError(`network "${network}" in config ${String(path)} is not an object`);
  if (!net) throw new ConfigError(`unknown network "${network}" (config has: ${Object.keys(networks).join(', ')})`);
  const raw: Record<string, unknown> = { ...file, ...net, network };
  delete raw['networks'];
  for (const [k, v] of sets) {
    if (!Object.hasOwn(raw, k)) throw new ConfigError(`unknown config key "${k}"`);
    raw[k] = v;
  }
  let params: ConsensusParams;
  try {
    const nc = Object.fromEntries(CONSENSUS_KEYS.map((k) => [k, raw[k]])) as unknown as NetworkConfig;
    params = makeParams(nc);
  } catch (e) {
    throw new ConfigError(`network "${network}": ${(e as Error).message}`);
  }
  const peers = raw['peers'];
  if (!Array.isArray(peers) || !peers.every((p) => typeof p === 'string')) throw new ConfigError('peers must be a list of addresses');
  if (typeof raw['broadcastAddress'] !== 'string' || !isIPv4(raw['broadcastAddress'])) {
    throw new ConfigError(`broadcastAddress must be an IPv4 address such as 192.168.1.255 (got ${JSON.stringify(raw['broadcastAddress'])})`);
  }
  return {
    network,
    params,
    transactionPort: port(raw, 'transactionPort', 1),
    statusPort: port(raw, 'statusPort', 1),
    blockServerPort: port(raw, 'blockServerPort'),
    broadcastAddress: raw['broadcastAddress'],
    peers: peers as string[],
    statusBroadcastIntervalSeconds: num(raw, 'statusBroadcastIntervalSeconds', 0.05, 3600),
    transactionBroadcastIntervalSeconds: num(raw, 'transactionBroadcastIntervalSeconds', 0.05, 3600),
    minRelayFeeRate: num(raw, 'minRelayFeeRate', 0, 1e6),
    defaultFeeRate: num(raw, 'defaultFeeRate', 0, 1e6),
    maxFee: raw['maxFee'] === undefined ? 0.1 : num(raw, 'maxFee', 0, 1e6),
    mempoolMaxBytes: num(raw, 'mempoolMaxBytes', 1000, 1e10),
    minBlockTransactions: num(raw, 'minBlockTransactions', 0, 1e6),
    maxHashrate: num(raw, 'maxHashrate', 0, 1e12),
    maxTcpConnections: num(raw, 'maxTcpConnections', 1, 10000),
    tcpTimeoutSeconds: num(raw, 'tcpTimeoutSeconds', 0.1, 3600),
    peerBanSeconds: num(raw, 'peerBanSeconds', 0, 1e7),
    raw,
  };
}

/** The names of the networks config.json (or the given file) defines. */
export function configNetworks(configFile: string | URL = DEFAULT_CONFIG_PATH): string[] {
  try {
    const file = JSON.parse(readFileSync(configFile, 'utf8')) as { networks?: unknown };
    return typeof file.networks === 'object' && file.networks !== null ? Object.keys(file.networks) : [];
  } catch {
    return [];
  }
}

/** Default data directory: the per-user data folder (XDG on Linux), one subfolder per network. */
export function defaultDataDir(app: 'miner' | 'wallet', network: string): string {
  return join(envPaths('mvb', { suffix: '' }).data, network, app);
}

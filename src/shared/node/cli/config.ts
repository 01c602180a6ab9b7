// Settings: config.json (or --config FILE), the chosen network's entry, then --set overrides.
// Every key is overridable; consensus keys change the network id, so a node with changed rules
// does not talk to nodes without them. This is the shell around the pure core: it reads files.
// Each layer is checked by one schema (src/shared/node/check); a bad key is one InputError line
// naming where it came from: `config.json: networks.lan.statusPort: ...` or `--set: statusPort: ...`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import envPaths from 'env-paths';
import { type ConsensusParams, MAX_TX_BYTES_LIMIT, makeParams } from '../../core/params.js';
import { type FieldPath, InputError } from '../check/input-error.js';
import { ipv4 } from '../check/fields.js';
import { readJsonFile } from '../check/json-file.js';
import {
  type Infer,
  type Schema,
  Rejection,
  check,
  either,
  list,
  number,
  object,
  partial,
  record,
  show,
  string,
  unknownKey,
  withDefault,
} from '../check/schema.js';

export const DEFAULT_CONFIG_PATH = new URL('../../../../../config.json', import.meta.url);

/** config.json is small (three networks with their genesis blocks are 4 KB); anything bigger is refused unread. */
const MAX_CONFIG_BYTES = 4_000_000;
const MAX_NETWORKS = 64;

const whole = (min: number, max: number) => number({ min, max, whole: true });
/** min 1 for the UDP ports, which everyone must agree on; 0 (any free port) is fine for a block server. */
const port = (min: number) => whole(min, 65535);
const networkName = string({ min: 1, max: 32, pattern: /^[a-z0-9-]+$/, expected: 'a network name (1-32 of a-z 0-9 -)' });

/**
 * A network's consensus keys, bounded by type and size here (with the file and key in the
 * message); makeParams in the core then checks what they mean (the genesis decodes, and so on).
 * Changing one changes the network id, so a node with changed rules does not talk to nodes without them.
 */
const consensusFields = {
  name: networkName,
  magic: string({ max: 8, pattern: /^[0-9a-fA-F]{8}$/, expected: '8 hex digits' }),
  addressVersion: whole(0, 255),
  genesis: string({ max: 2 * MAX_CONFIG_BYTES, pattern: /^([0-9a-fA-F]{2})+$/, expected: 'a serialized block in hex' }),
  targetBlockSeconds: whole(1, Number.MAX_SAFE_INTEGER),
  retargetInterval: whole(1, Number.MAX_SAFE_INTEGER),
  powLimitBits: either(
    'a 32-bit compact target ("0x1f00ffff")',
    (v) => typeof v === 'string',
    string({ max: 10, pattern: /^(0x[0-9a-fA-F]{1,8}|[0-9]{1,10})$/, expected: 'a 32-bit compact target ("0x1f00ffff")' }),
    whole(1, 0xffffffff),
  ),
  subsidy: either(
    'base units as a decimal string',
    (v) => typeof v === 'string',
    string({ max: 20, pattern: /^[0-9]+$/, expected: 'base units as a decimal string' }),
    whole(0, Number.MAX_SAFE_INTEGER),
  ),
  halvingInterval: whole(1, Number.MAX_SAFE_INTEGER),
  coinbaseMaturity: whole(1, 10_000),
  maxBlockBytes: whole(1, 32_000_000),
  maxTxBytes: whole(1, MAX_TX_BYTES_LIMIT),
};

/** What a process needs besides consensus: ports, peers, intervals, fees, limits. The Settings type is inferred from it. */
const nodeFields = {
  transactionPort: port(1),
  statusPort: port(1),
  blockServerPort: port(0),
  broadcastAddress: ipv4(),
  peers: list(string({ min: 1, max: 255, expected: 'a peer address (host or host:port)' }), { max: 1000 }),
  statusBroadcastIntervalSeconds: number({ min: 0.05, max: 3600 }),
  transactionBroadcastIntervalSeconds: number({ min: 0.05, max: 3600 }),
  /** Base units per byte a transaction must pay to be relayed and mined. */
  minRelayFeeRate: number({ min: 0, max: 1e6 }),
  /** Base units per byte the wallet pays by default. */
  defaultFeeRate: number({ min: 0, max: 1e6 }),
  /**
   * The highest fee `send` pays without --force, as a share of the amount (0.1: a tenth), after
   * Core's -maxtxfee. A fee at defaultFeeRate is always allowed (tiny payments need it).
   */
  maxFee: withDefault(number({ min: 0, max: 1e6 }), 0.1),
  mempoolMaxBytes: number({ min: 1000, max: 1e10 }),
  minBlockTransactions: whole(0, 1e6),
  /** Header hashes per second a miner may do in total; 0 = as fast as it can. */
  maxHashrate: number({ min: 0, max: 1e12 }),
  maxTcpConnections: whole(1, 10_000),
  tcpTimeoutSeconds: number({ min: 0.1, max: 3600 }),
  peerBanSeconds: number({ min: 0, max: 1e7 }),
  /**
   * The name a miner puts in its coinbase tag ("/alice/", as pools tag theirs), shown by the explorer;
   * '' = none. The same rules as core's checkMinerName (coinbase-tag.ts).
   */
  minerName: withDefault(
    string({
      max: 20,
      pattern: /^([A-Za-z0-9._+#@()-]([A-Za-z0-9 ._+#@()-]{0,18}[A-Za-z0-9._+#@()-])?)?$/,
      expected: 'a miner name (1-20 letters, digits, spaces, . _ + # @ ( ) -)',
    }),
    '',
  ),
  /** Mining threads when --threads is not given; 0 = one per core. The classroom preset uses 1 (thirty laptops, one fan each). */
  minerThreads: withDefault(whole(0, 1024), 0),
};

/** Every key one layer (the file, a network's entry, --set) may give. */
const keyFields = { network: networkName, ...consensusFields, ...nodeFields };
const KEYS = Object.keys(keyFields);
const layerSchema = object(partial(keyFields));
const fileSchema = object({
  ...partial(keyFields),
  networks: withDefault(record(layerSchema, { maxKeys: MAX_NETWORKS, key: networkName }), {}),
});
/** The effective settings, once the layers are merged: every key present. */
const effectiveSchema = object(keyFields);
const nodeSchema = object(nodeFields);

export interface Settings extends Infer<typeof nodeSchema> {
  readonly network: string;
  readonly params: ConsensusParams;
  /** Every effective key, for printing and for keys this interface does not name. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A data directory's settings file (settings.json) that is not what runner.ts wrote. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The other way: config values as `key=value` overrides parseSet reads back (strings raw, the rest as JSON). */
export function formatSets(values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

/** Parses one `key=value`; the value is JSON when it parses as JSON, else a string. */
export function parseSet(s: string): [string, unknown] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new InputError('--set', '', `expected key=value, got ${show(s)}`);
  const key = s.slice(0, eq).trim();
  if (!KEYS.includes(key)) throw new InputError('--set', [key], unknownKey(key, KEYS));
  const text = s.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    /* a plain string */
  }
  return [key, value];
}

export interface LoadOptions {
  readonly configFile?: string;
  readonly network?: string;
  readonly sets?: readonly string[];
}

/** Where one effective key came from: a failure names that source and path. */
interface Origin {
  readonly source: string;
  readonly path: FieldPath;
}

/** Reads a value that came from `o`; a failure names that source and path. */
function readAt<T>(schema: Schema<T>, value: unknown, o: Origin): T {
  try {
    return schema.read(value, o.path);
  } catch (e) {
    if (e instanceof Rejection) throw new InputError(o.source, e.path, e.reason);
    throw e;
  }
}

/** The file's keys, then the network's entry over them, then --set over both; each key remembers its origin. */
function mergeLayers(
  file: Infer<typeof fileSchema>,
  fileName: string,
  opts: LoadOptions,
): { raw: Record<string, unknown>; origins: Map<string, Origin> } {
  const sets = (opts.sets ?? []).map(parseSet);
  const setNetwork = sets.filter(([k]) => k === 'network').at(-1);
  const [chosen, from]: [unknown, Origin] =
    opts.network !== undefined
      ? [opts.network, { source: '--network', path: [] }]
      : setNetwork
        ? [setNetwork[1], { source: '--set', path: ['network'] }]
        : [file.network ?? 'lan', { source: fileName, path: ['network'] }];
  const network = readAt(networkName, chosen, from);
  const entry = Object.hasOwn(file.networks, network) ? file.networks[network] : undefined;
  if (!entry)
    throw new InputError(
      from.source,
      from.path,
      `unknown network "${network}" (${fileName} has: ${Object.keys(file.networks).join(', ') || 'none'})`,
    );
  const raw: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  const put = (k: string, v: unknown, o: Origin) => {
    if (v === undefined) return;
    raw[k] = v;
    origins.set(k, o);
  };
  for (const [k, v] of Object.entries(file)) if (k !== 'networks') put(k, v, { source: fileName, path: [k] });
  for (const [k, v] of Object.entries(entry)) put(k, v, { source: fileName, path: ['networks', network, k] });
  for (const [k, v] of sets) put(k, v, { source: '--set', path: [k] });
  put('network', network, from);
  return { raw, origins };
}

export function loadSettings(opts: LoadOptions = {}): Settings {
  const path = opts.configFile ?? DEFAULT_CONFIG_PATH;
  const fileName = typeof path === 'string' ? path : fileURLToPath(path);
  const file = check(fileSchema, readJsonFile(path, MAX_CONFIG_BYTES, fileName), fileName);
  const { raw, origins } = mergeLayers(file, fileName, opts);
  const originOf = (key: string): Origin => origins.get(key) ?? { source: fileName, path: [key] };
  let all: Infer<typeof effectiveSchema>;
  try {
    all = effectiveSchema.read(raw, []);
  } catch (e) {
    if (!(e instanceof Rejection)) throw e;
    const o = originOf(String(e.path[0]));
    throw new InputError(o.source, [...o.path, ...e.path.slice(1)], e.reason);
  }
  let params: ConsensusParams;
  try {
    params = makeParams(all);
  } catch (e) {
    // The core's ParamsError starts with the key it refuses ("genesis is not a block: ...").
    const message = (e as Error).message;
    const key = Object.keys(consensusFields).find((k) => message.startsWith(`${k} `));
    if (key === undefined) throw new InputError(fileName, ['networks', all.network], message);
    throw new InputError(originOf(key).source, originOf(key).path, message.slice(key.length + 1));
  }
  const {
    network,
    name,
    magic,
    addressVersion,
    genesis,
    targetBlockSeconds,
    retargetInterval,
    powLimitBits,
    subsidy,
    halvingInterval,
    coinbaseMaturity,
    maxBlockBytes,
    maxTxBytes,
    ...node
  } = all;
  return { ...node, network, params, raw };
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

// `mvb-wallet join URL --name alice`: one line for a student to join a class. It asks the class's
// explorer (GET URL/api/mvb/classroom) which network the class runs and how to reach it (ports,
// broadcast address, peers), checks that this mvb has the same rules (the genesis block), remembers
// those settings in a new wallet data directory (and in a miner data directory beside it, so the
// printed `mvb-miner` line needs no --set), creates the student's key, asks the faucet for coins
// (with the hashcash stamp it wants: core/hashcash.ts) and says how to mine and follow the chain.
// Every answer from the explorer is bounded (size, time) and checked field by field; a refusal by
// the faucet (it is empty, or was asked too often) is said and does not undo the join.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hashToHex } from '../../shared/core/bytes.js';
import { encodeAddress } from '../../shared/core/address.js';
import { checkMinerName } from '../../shared/core/coinbase-tag.js';
import { makeStamp } from '../../shared/core/hashcash.js';
import { CliError, command, stringOption } from '../../shared/node/cli/command.js';
import { prepareDataDir, readDatadirSettings, writeDatadirSettings } from '../../shared/node/cli/runner.js';
import { type Settings, configNetworks, defaultDataDir, formatSets, loadSettings } from '../../shared/node/cli/config.js';
import { ipv4 } from '../../shared/node/check/fields.js';
import { type Infer, check, list, nullable, number, object, string } from '../../shared/node/check/schema.js';
import { HttpClientError, fetchJson } from '../../shared/node/net/http-client.js';
import { KeyStore, checkNewKeyName } from '../../shared/node/store/keystore.js';
import { keysDir } from '../datadir.js';

/** SHA-256d by OpenSSL (node:crypto): the stamp's million hashes in about a second, not a minute. */
const nodeSha256d = (b: Uint8Array): Uint8Array => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();

/** Deadline for each request to the explorer. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Largest answer read from the explorer. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** The faucet's stamp may ask for at most this much work (2^26 hashes: about 15 s on a slow laptop). */
const MAX_STAMP_BITS = 26;

const port = number({ min: 1, max: 65535, whole: true });
/** What GET /api/mvb/classroom answers (explorer/api-mvb.ts classroomJson); unknown keys are ignored. */
const classroomSchema = object(
  {
    network: string({ min: 1, max: 32, pattern: /^[a-z0-9-]+$/, expected: 'a network name' }),
    genesis: string({ max: 64, pattern: /^[0-9a-f]{64}$/, expected: 'a block hash' }),
    url: string({ max: 300 }),
    settings: object(
      {
        statusPort: port,
        transactionPort: port,
        broadcastAddress: ipv4(),
        peers: list(string({ min: 1, max: 255 }), { max: 100 }),
      },
      { unknownKeys: 'ignore' },
    ),
    faucet: nullable(
      object({ stampBits: number({ min: 0, max: 32, whole: true }), challenge: string({ max: 64 }) }, { unknownKeys: 'ignore' }),
    ),
  },
  { unknownKeys: 'ignore' },
);
type ClassInfo = Infer<typeof classroomSchema>;

/** http://host:port (no path), as the teacher's screen shows it. */
function checkUrl(text: string): string {
  const m = /^(http:\/\/[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?)\/?$/.exec(text);
  if (!m) throw new CliError(`invalid class URL "${text.slice(0, 80)}": expected http://HOST:PORT as the teacher's screen shows it`, 2);
  return m[1]!;
}

async function askClass(url: string): Promise<ClassInfo> {
  const answer = await fetchJson(`${url}/api/mvb/classroom`, { timeoutMs: REQUEST_TIMEOUT_MS, maxBytes: MAX_ANSWER_BYTES }).catch(
    (e: unknown) => {
      if (e instanceof HttpClientError && e.status === 404)
        throw new CliError(`${url} is an mvb explorer but not a class's (the teacher starts one with mvb classroom start)`);
      throw e;
    },
  );
  const info = check(classroomSchema, answer, `${url}/api/mvb/classroom`);
  if (!configNetworks().includes(info.network))
    throw new CliError(`the class runs network ${info.network}, which this mvb does not know: update mvb`);
  const ours = hashToHex(loadSettings({ network: info.network }).params.genesisHash);
  if (ours !== info.genesis)
    throw new CliError(`the class's ${info.network} has another genesis block than this mvb's: update mvb (or the teacher's)`);
  return info;
}

/** The settings a student's wallet and miner remember: the class's ports, broadcast address and peers. */
function classSets(info: ClassInfo, name: string): string[] {
  const s = info.settings;
  return formatSets({
    statusPort: s.statusPort,
    transactionPort: s.transactionPort,
    broadcastAddress: s.broadcastAddress,
    peers: s.peers,
    minerName: name,
  });
}

/** Writes settings.json in dir for the class; refuses a directory of another network. */
function rememberClass(dir: string, network: string, sets: string[]): void {
  const saved = existsSync(dir) ? readDatadirSettings(dir) : undefined;
  if (saved?.network !== undefined && saved.network !== network)
    throw new CliError(`${dir} belongs to network ${saved.network}, not the class's ${network}: give another --datadir`, 2);
  prepareDataDir(dir);
  writeDatadirSettings(dir, { network, sets });
}

/** The student's key: created, or kept if this name exists (joining twice is fine). */
function studentKey(datadir: string, name: string, settings: Settings): string {
  const keys = new KeyStore(keysDir(datadir));
  if (!keys.has(name)) checkNewKeyName(name);
  const info = keys.has(name) ? keys.info(name) : keys.create(name);
  return encodeAddress(info.pubkeyHash, settings.params.addressVersion);
}

/** Asks the faucet for coins; the line to print (a grant, or why not). */
async function askFaucet(url: string, info: ClassInfo, address: string): Promise<string> {
  if (info.faucet === null) return 'this class has no faucet: mine your first coins';
  if (info.faucet.stampBits > MAX_STAMP_BITS)
    return `the faucet asks for a ${info.faucet.stampBits}-bit stamp, more than ${MAX_STAMP_BITS}: not asked`;
  const nonce = makeStamp(info.faucet.challenge, address, info.faucet.stampBits, nodeSha256d);
  if (nonce === undefined) return 'no faucet stamp found: not asked';
  try {
    const g = (await fetchJson(`${url}/api/mvb/faucet`, {
      method: 'POST',
      body: { address, challenge: info.faucet.challenge, nonce },
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxBytes: MAX_ANSWER_BYTES,
    })) as { txid?: unknown; amount?: unknown };
    if (typeof g.txid !== 'string' || !/^[0-9a-f]{64}$/.test(g.txid) || typeof g.amount !== 'string' || !/^[0-9.]{1,24}$/.test(g.amount))
      return 'the faucet answered something else than a payment';
    return `the faucet sent you ${g.amount} coins: transaction ${g.txid} (pending until a block includes it)`;
  } catch (e) {
    if (e instanceof HttpClientError) return `the faucet said no: ${e.message.replace(/^\S+: /, '')}`;
    throw e;
  }
}

export const join = command({
  name: 'join',
  describe: "join a class: learn its network from the teacher's explorer, make your key, get coins from the faucet",
  args: ['<url>'],
  makesDataDir: true,
  options: {
    name: stringOption('--name <name>', 'your name: your key, and the tag on the blocks you mine (letters, digits, spaces; 1-20)'),
    minerDatadir: stringOption(
      '--miner-datadir <dir>',
      "where your miner's data goes (default: the per-user folder for the class's network)",
    ),
  },
  async handler([urlText], opts, ctx) {
    if (opts.name === undefined) throw new CliError('--name is required: the name the class will see on your blocks', 2);
    const name = checkMinerName(opts.name);
    const url = checkUrl(urlText!);
    const info = await askClass(url);
    const sets = classSets(info, name);
    const datadir = ctx.shared.datadir ?? defaultDataDir('wallet', info.network);
    const minerDir = opts.minerDatadir ?? defaultDataDir('miner', info.network);
    rememberClass(datadir, info.network, sets);
    rememberClass(minerDir, info.network, sets);
    const settings = loadSettings({ network: info.network, sets });
    const address = studentKey(datadir, name.replace(/ /g, '-'), settings);
    const faucetLine = await askFaucet(url, info, address);
    const report = { url, network: info.network, name, address, datadir, minerDatadir: minerDir, faucet: faucetLine };
    if (ctx.json) ctx.io.out(JSON.stringify(report));
    else {
      ctx.io.out(`joined the class at ${url} (network ${info.network}) as ${name}: your address ${address}`);
      ctx.io.out(faucetLine);
      ctx.io.out(`follow the chain and see your coins: mvb-wallet --datadir ${datadir} sync`);
      ctx.io.out(`mine (your name goes on your blocks): mvb-miner --datadir ${minerDir} --address ${address}`);
    }
    return 0;
  },
});

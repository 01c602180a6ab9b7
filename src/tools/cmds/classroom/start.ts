// `mvb classroom start`: what the teacher runs. On the machine's LAN address it starts, in the
// background (as `mvb devnet` does, in DIR with a log per process): the teacher's miner (one thread,
// its blocks tagged with --name, its rewards paying the faucet's key), and the explorer with the
// class's join details and the faucet. It prints the one line a student types to join, which the
// page also shows. The class runs the classroom preset on the subnet's broadcast address and the
// default ports; `mvb classroom status` and `stop` take the same --dir.
import { resolve, join } from 'node:path';
import { encodeAddress } from '../../../shared/core/address.js';
import { checkMinerName } from '../../../shared/core/coinbase-tag.js';
import { CliError, command, numberOption, stringOption } from '../../../shared/node/cli/command.js';
import { type Settings, loadSettings } from '../../../shared/node/cli/config.js';
import { fetchJson } from '../../../shared/node/net/http-client.js';
import { KeyStore } from '../../../shared/node/store/keystore.js';
import { EXPLORER_BIN } from '../explorer.js';
import {
  type DevnetNode,
  type DevnetState,
  MINER_BIN,
  isOurProcess,
  listenStatus,
  readState,
  spawnNode,
  withStartLock,
  writeNodeSettings,
  writeState,
} from '../devnet/state.js';
import { lanAddress } from './lan.js';

export const CLASSROOM_DIR_OPTION = stringOption('--dir <dir>', "folder for the class's data and logs", 'mvb-classroom');
/** The preset a class runs unless --network names another (devnet: 1 s blocks, to try a class on one machine). */
const DEFAULT_NETWORK = 'classroom';
/** How long start waits for the miner's first status and the explorer's page. */
const START_TIMEOUT_MS = 30_000;

export interface ClassroomStart {
  readonly dir: string;
  readonly network?: string;
  readonly host?: string;
  readonly httpPort: number;
  readonly name: string;
  readonly sets: readonly string[];
  readonly log: (line: string) => void;
}

export interface ClassroomStarted {
  readonly state: DevnetState;
  readonly url: string;
  readonly joinLine: string;
  readonly faucetAddress: string;
}

export async function classroomStart(o: ClassroomStart): Promise<ClassroomStarted> {
  const dir = resolve(o.dir);
  return withStartLock(dir, { command: 'mvb classroom start', starting: 'a class' }, async () => {
    const old = readState(dir);
    if (old && old.nodes.some((n) => isOurProcess(n.pid, n.datadir)))
      throw new CliError(`a class is already running in ${dir}; stop it first with: mvb classroom stop --dir ${o.dir}`);
    return startLocked(o, dir);
  });
}

async function startLocked(o: ClassroomStart, dir: string): Promise<ClassroomStarted> {
  const lan = lanAddress(o.host);
  const network = o.network ?? DEFAULT_NETWORK;
  const sets = [`broadcastAddress=${lan.broadcast}`, ...o.sets];
  const settings = loadSettings({ network, sets });
  const faucetKeys = join(dir, 'faucet');
  const keys = new KeyStore(faucetKeys);
  const faucetKey = keys.has('faucet') ? keys.info('faucet') : keys.create('faucet');
  const faucetAddress = encodeAddress(faucetKey.pubkeyHash, settings.params.addressVersion);
  const state: DevnetState = {
    network,
    broadcastAddress: settings.broadcastAddress,
    statusPort: settings.statusPort,
    transactionPort: settings.transactionPort,
    nodes: [],
    startedAt: new Date().toISOString(),
  };
  const miner = startMiner(dir, network, sets, o.name, faucetAddress, settings);
  state.nodes.push(miner);
  o.log(`started the teacher's miner (pid ${miner.pid}), blocks tagged /${o.name}/, rewards to the faucet ${faucetAddress}`);
  const url = `http://${lan.address}:${o.httpPort}`;
  const explorer = startExplorer(dir, network, sets, `${lan.address}:${o.httpPort}`, faucetKeys, url);
  state.nodes.push(explorer);
  o.log(`started the explorer (pid ${explorer.pid}) on ${url}/ with the faucet`);
  writeState(dir, state);
  await waitUp(state, settings, miner, url);
  return { state, url, joinLine: `mvb-wallet join ${url} --name <your name>`, faucetAddress };
}

function startMiner(dir: string, network: string, sets: string[], name: string, address: string, settings: Settings): DevnetNode {
  const datadir = join(dir, 'miner');
  writeNodeSettings(datadir, network, [...sets, `minerName=${name}`]);
  const node: DevnetNode = {
    name: 'miner',
    kind: 'miner',
    datadir,
    log: join(dir, 'miner.log'),
    blockServerPort: settings.blockServerPort,
    address,
  };
  node.pid = spawnNode(MINER_BIN, ['--datadir', datadir, '--address', address], node.log);
  return node;
}

function startExplorer(dir: string, network: string, sets: string[], http: string, faucetKeys: string, url: string): DevnetNode {
  const datadir = join(dir, 'explorer');
  writeNodeSettings(datadir, network, sets);
  const node: DevnetNode = { name: 'explorer', kind: 'explorer', datadir, log: join(dir, 'explorer.log'), url: `${url}/` };
  node.pid = spawnNode(EXPLORER_BIN, ['--datadir', datadir, '--http', http, '--classroom', '--faucet', faucetKeys], node.log);
  return node;
}

/** Waits, bounded, for the miner's first status and the explorer's join details. */
async function waitUp(state: DevnetState, settings: Settings, miner: DevnetNode, url: string): Promise<void> {
  const heard = await listenStatus(settings, START_TIMEOUT_MS, (m) => m.has(miner.blockServerPort!));
  if (!heard.has(miner.blockServerPort!)) throw new CliError(`the miner did not start; see ${miner.log}`);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await fetchJson(`${url}/api/mvb/classroom`, { timeoutMs: 2000, maxBytes: 65536 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new CliError(`the explorer did not start (${(e as Error).message}); see ${state.nodes[1]!.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export const classroomStartCommand = command({
  name: 'start',
  describe: "start a class on this machine's LAN address: the teacher's miner, the explorer for the projector, and the faucet",
  options: {
    dir: CLASSROOM_DIR_OPTION,
    host: stringOption('--host <ip>', "this machine's address the class reaches it at (default: its first LAN address)"),
    httpPort: numberOption('--http-port <port>', "the explorer's port", 1, 65535, 3000),
    name: stringOption('--name <name>', "the teacher's name on the blocks the teacher mines", 'teacher'),
  },
  async handler(_args, opts, ctx) {
    const r = await classroomStart({
      dir: opts.dir,
      network: ctx.shared.network,
      host: opts.host,
      httpPort: opts.httpPort,
      name: checkMinerName(opts.name),
      sets: ctx.shared.set,
      log: (l) => !ctx.json && ctx.io.out(l),
    });
    if (ctx.json) {
      ctx.io.out(JSON.stringify({ url: r.url, join: r.joinLine, faucet: r.faucetAddress, ...r.state }));
      return 0;
    }
    ctx.io.out(`class running (network ${r.state.network}, broadcast ${r.state.broadcastAddress}); open ${r.url}/ on the projector`);
    ctx.io.out(`students type:  ${r.joinLine}`);
    ctx.io.out(
      `status: mvb classroom status --dir ${opts.dir}; stop: mvb classroom stop --dir ${opts.dir}; logs: ${resolve(opts.dir)}/*.log`,
    );
    return 0;
  },
});

// `mvb devnet start`: a persistent local network of miners and wallets on loopback, in the
// background, with a folder per node and a log per node. Ports are picked free so several devnets
// can run side by side; each node's datadir remembers its settings (settings.json), so
// `mvb-wallet --datadir DIR/wallet-1 ...` just works. --network picks the rules: devnet (1 s
// blocks, for trying things) or classroom (10 s blocks, the lesson preset).
import { EXPLORER_BIN } from '../explorer.js';
import { join, resolve } from 'node:path';
import { CliError, command, numberOption, stringOption } from '../../../shared/node/cli/command.js';
import { loadSettings } from '../../../shared/node/cli/config.js';
import {
  DEVNET_NETWORKS,
  DIR_OPTION,
  type DevnetNode,
  type DevnetState,
  LOOPBACK_BROADCAST,
  MINER_BIN,
  WALLET_BIN,
  freePorts,
  isOurProcess,
  listenStatus,
  nodeSets,
  readState,
  withStartLock,
  runWallet,
  spawnNode,
  writeNodeSettings,
  writeState,
} from './state.js';

export interface StartOptions {
  readonly dir: string;
  readonly miners: number;
  readonly wallets: number;
  /** devnet (default) or classroom. */
  readonly network?: string;
  readonly sets?: readonly string[];
  readonly log?: (line: string) => void;
}

export async function devnetStart(o: StartOptions): Promise<DevnetState> {
  const dir = resolve(o.dir);
  const network = o.network ?? 'devnet';
  if (!(DEVNET_NETWORKS as readonly string[]).includes(network))
    throw new CliError(`a devnet runs ${DEVNET_NETWORKS.join(' or ')}, not ${network}`, 2);
  return withStartLock(dir, { command: 'mvb devnet start', starting: 'a devnet' }, () => startLocked({ ...o, network }, dir));
}

type Base = { broadcastAddress: string; statusPort: number; transactionPort: number };

async function startLocked(o: StartOptions & { network: string }, dir: string): Promise<DevnetState> {
  const old = readState(dir);
  if (old && old.nodes.some((n) => isOurProcess(n.pid, n.datadir)))
    throw new CliError(`a devnet is already running in ${dir}; stop it first with: mvb devnet stop --dir ${o.dir}`);
  if (old && old.network !== o.network)
    throw new CliError(
      `${dir} holds a ${old.network} devnet; start it with --network ${old.network}, or pick another --dir for ${o.network}`,
      2,
    );
  const [statusPort, transactionPort, httpPort, ...serverPorts] = await freePorts(3 + o.miners);
  const base: Base = { broadcastAddress: LOOPBACK_BROADCAST, statusPort: statusPort!, transactionPort: transactionPort! };
  const state: DevnetState = { network: o.network, ...base, nodes: [], startedAt: new Date().toISOString() };
  const log = o.log ?? (() => {});
  const sets = o.sets ?? [];
  // Wallets first: each gets an address the miners can pay.
  for (let k = 1; k <= o.wallets; k++) state.nodes.push(makeWallet(dir, k, o.network, [...nodeSets(base), ...sets]));
  const addresses = state.nodes.flatMap((n) => (n.address ? [n.address] : []));
  for (let k = 1; k <= o.miners; k++) {
    const datadir = join(dir, `miner-${k}`);
    writeNodeSettings(datadir, o.network, [...nodeSets(base, { blockServerPort: serverPorts[k - 1] }), ...sets]);
    const address = addresses.length ? addresses[(k - 1) % addresses.length] : undefined;
    const args = ['--datadir', datadir, '--threads', '1', ...(address ? ['--address', address] : [])];
    const node: DevnetNode = {
      name: `miner-${k}`,
      kind: 'miner',
      datadir,
      log: join(dir, `miner-${k}.log`),
      blockServerPort: serverPorts[k - 1],
      address,
    };
    node.pid = spawnNode(MINER_BIN, args, node.log);
    state.nodes.push(node);
    log(`started miner-${k} (pid ${node.pid}), block server 127.0.0.1:${node.blockServerPort}${address ? `, rewards to ${address}` : ''}`);
  }
  // Wallet sync loops follow the chain and rebroadcast pending payments.
  for (const n of state.nodes.filter((x) => x.kind === 'wallet')) {
    n.pid = spawnNode(WALLET_BIN, ['--datadir', n.datadir, 'sync'], n.log);
    log(`started ${n.name} sync (pid ${n.pid}), address ${n.address ?? '?'}`);
  }
  state.nodes.push(startExplorer(dir, o.network, [...nodeSets(base), ...sets], httpPort!, log));
  writeState(dir, state);
  await waitForMiners(state, base, o.network, sets);
  return state;
}

/** An explorer following the devnet, its page on a free loopback port. */
function startExplorer(dir: string, network: string, sets: string[], port: number, log: (l: string) => void): DevnetNode {
  const datadir = join(dir, 'explorer');
  writeNodeSettings(datadir, network, sets);
  const node: DevnetNode = {
    name: 'explorer',
    kind: 'explorer',
    datadir,
    log: join(dir, 'explorer.log'),
    url: `http://127.0.0.1:${port}/`,
  };
  node.pid = spawnNode(EXPLORER_BIN, ['--datadir', datadir, '--http', `127.0.0.1:${port}`], node.log);
  log(`started explorer (pid ${node.pid}): ${node.url}`);
  return node;
}

/** A wallet folder with one key named after it (kept if it exists: a restart keeps its coins). */
function makeWallet(dir: string, k: number, network: string, sets: string[]): DevnetNode {
  const name = `wallet-${k}`;
  const datadir = join(dir, name);
  writeNodeSettings(datadir, network, sets);
  let address: string | undefined;
  const r = runWallet(datadir, ['new-address', name, '--json']);
  if (r.code === 0) address = (JSON.parse(r.stdout) as { address: string }).address;
  else if (!/already exists/.test(r.out)) throw new CliError(`creating ${name} failed: ${r.out.trim()}`);
  else
    address = (JSON.parse(runWallet(datadir, ['list-addresses', '--json']).stdout) as { name: string; address: string }[]).find(
      (x) => x.name === name,
    )?.address;
  return { name, kind: 'wallet', datadir, log: join(dir, `${name}.log`), address };
}

/** Waits until every miner announces itself, so `start` returns a working network. */
async function waitForMiners(state: DevnetState, base: Base, network: string, sets: readonly string[]): Promise<void> {
  const settings = loadSettings({ network, sets: [...nodeSets(base), ...sets] });
  const heard = await listenStatus(settings, 20_000, (m) => state.nodes.every((n) => n.kind !== 'miner' || m.has(n.blockServerPort!)));
  const missing = state.nodes.filter((n) => n.kind === 'miner' && !heard.has(n.blockServerPort!));
  if (missing.length)
    throw new CliError(`${missing.map((n) => n.name).join(', ')} did not start; see ${missing.map((n) => n.log).join(', ')}`);
}

export const startCommand = command({
  name: 'start',
  describe: 'start miners and wallets in the background (devnet rules, or --network classroom)',
  options: {
    miners: numberOption('--miners <n>', 'miners to start', 1, 16, 2),
    wallets: numberOption('--wallets <n>', 'wallets to start', 0, 16, 2),
    network: stringOption('--network <name>', 'devnet (default: 1 s blocks, to try things) or classroom (10 s blocks, the lesson preset)'),
    dir: DIR_OPTION,
  },
  async handler(_args, opts, ctx) {
    const dir = opts.dir;
    const network = opts.network ?? 'devnet';
    const st = await devnetStart({
      dir,
      miners: opts.miners,
      wallets: opts.wallets,
      network,
      sets: ctx.shared.set,
      log: (l) => !ctx.json && ctx.io.out(l),
    });
    if (ctx.json) ctx.io.out(JSON.stringify(st));
    else {
      ctx.io.out(
        `${st.network} running in ${resolve(dir)}: status port ${st.statusPort}, transaction port ${st.transactionPort}, broadcast ${st.broadcastAddress}`,
      );
      for (const n of st.nodes.filter((x) => x.kind === 'wallet')) ctx.io.out(`  mvb-wallet --datadir ${n.datadir} list-addresses`);
      for (const n of st.nodes.filter((x) => x.kind === 'explorer')) ctx.io.out(`  explorer: open ${n.url}`);
      ctx.io.out(`coins for a wallet: mvb devnet fund --dir ${dir} wallet-1 10 (or an address)`);
      ctx.io.out(`logs: ${resolve(dir)}/*.log; stop with: mvb devnet stop --dir ${dir}`);
    }
    return 0;
  },
});

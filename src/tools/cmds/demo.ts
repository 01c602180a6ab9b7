// `mvb demo` (`npm run demo`): a whole network on this computer, narrated. Two miners and two
// wallets (alice, bob) run as real processes on loopback, in a temporary folder, on devnet. Alice
// earns mining rewards, waits for them to mature, pays bob; we watch the payment go from pending to
// confirmed. The story, not a race, decides when the payment can be mined: the miners are
// restarted with --no-mine (they still relay and serve blocks) before alice pays, and mine again
// once both wallets have been shown the payment pending. Every line goes through one writer and
// each table is printed whole, so a block announcement never lands inside one. Every process is
// ended by its PID on success, failure or Ctrl-C.
import { formatCoinsShort } from '../../shared/core/amount.js';
import { EXPLORER_BIN } from './explorer.js';
import type { AddressRow } from '../../shared/node/json-rows.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { hashToHex, hexToHash } from '../../shared/core/bytes.js';
import { blockSize } from '../../shared/core/block.js';
import { CliError, type Output, command } from '../../shared/node/cli/command.js';
import { loadSettings, type Settings } from '../../shared/node/cli/config.js';
import { BlockClient } from '../../shared/node/net/blockclient.js';
import type { Status } from '../../shared/node/net/protocol.js';
import { StatusListener } from '../../shared/node/net/status-listener.js';
import { txid } from '../../shared/core/tx.js';
import { LOOPBACK_BROADCAST, MINER_BIN, WALLET_BIN, nodeSets } from './devnet/state.js';
import { freePorts } from '../../shared/node/net/free-ports.js';

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  log: string;
}

class DemoError extends Error {}

/** Header hashes per second per demo miner: with devnet's ~65 536 hashes per block, ~2.7 s per block each. */
const DEMO_HASHRATE = 24_000;

/** The demo's processes and temporary folder; `cleanup` ends them all. */
class Demo {
  readonly dir = mkdtempSync(join(tmpdir(), 'mvb-demo-'));
  private readonly procs: Proc[] = [];
  readonly settings: Settings;
  private readonly sets: string[];
  readonly statuses = new Map<number, Status>();
  private statusListener?: StatusListener;
  private cleaned = false;

  constructor(readonly ports: { statusPort: number; transactionPort: number; servers: number[] }) {
    const base = { broadcastAddress: LOOPBACK_BROADCAST, statusPort: ports.statusPort, transactionPort: ports.transactionPort };
    this.sets = nodeSets(base);
    this.settings = loadSettings({ network: 'devnet', sets: this.sets });
  }

  private setArgs(extra: Record<string, number> = {}): string[] {
    return [...this.sets, ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)].flatMap((s) => ['--set', s]);
  }

  /** Ends one process the demo started (by its PID) and waits for it. */
  async stop(p: Proc): Promise<void> {
    this.procs.splice(this.procs.indexOf(p), 1);
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(t);
  }

  start(name: string, bin: string, args: string[], extra: Record<string, number> = {}): Proc {
    const child = spawn(process.execPath, [bin, '--network', 'devnet', ...this.setArgs(extra), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const p: Proc = { name, child, exited: new Promise((r) => child.on('exit', (c) => r(c))), log: '' };
    child.stdout!.on('data', (d) => (p.log += d));
    child.stderr!.on('data', (d) => (p.log += d));
    this.procs.push(p);
    return p;
  }

  /** Runs a wallet command to completion; returns stdout, throws DemoError with its output on failure. */
  async wallet(datadir: string, args: string[]): Promise<string> {
    const p = this.start(`mvb-wallet ${args[0]}`, WALLET_BIN, ['--datadir', datadir, ...args]);
    let out = '';
    p.child.stdout!.on('data', (d) => (out += d));
    const code = await p.exited;
    this.procs.splice(this.procs.indexOf(p), 1);
    if (code !== 0) throw new DemoError(`mvb-wallet ${args.join(' ')} failed (exit ${code}):\n${p.log.trim()}`);
    return out;
  }

  async listenStatus(onNew: (s: Status) => void): Promise<void> {
    this.statusListener = new StatusListener(this.settings.params, this.settings.statusPort, (s) => {
      const prev = this.statuses.get(s.blockServerPort);
      this.statuses.set(s.blockServerPort, s);
      if (!prev || prev.height !== s.height || hashToHex(prev.tipHash) !== hashToHex(s.tipHash)) onNew(s);
    });
    await this.statusListener.listening();
  }

  height(): number {
    return Math.max(0, ...[...this.statuses.values()].map((s) => s.height));
  }

  /** Polls cond every 200 ms; fails after timeoutMs, or at once if a daemon died. */
  async until<T>(what: string, timeoutMs: number, cond: () => Promise<T | undefined> | T | undefined): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = this.procs.find((p) => p.child.exitCode !== null && !p.name.startsWith('mvb-wallet '));
      if (dead) throw new DemoError(`${dead.name} stopped unexpectedly:\n${dead.log.trim().split('\n').slice(-15).join('\n')}`);
      const v = await cond();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new DemoError(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await this.statusListener?.close();
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
        await p.exited;
        clearTimeout(t);
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

type Row = AddressRow;

/** The demo's one writer: narration, steps, whole tables. */
class Narrator {
  constructor(
    private readonly io: Output,
    readonly c: ChalkInstance,
  ) {}
  say(text: string): void {
    this.io.out(text);
  }
  step(n: number, title: string, explain: string): void {
    this.say('');
    this.say(this.c.bold.cyan(`Step ${n}. ${title}`));
    for (const line of explain.split('\n')) this.say(this.c.dim(`  ${line}`));
  }
  /** Rows of several wallets, printed together (fetched first, so nothing can come between them). */
  rows(rows: readonly (readonly [string, Row])[]): void {
    for (const [who, r] of rows) {
      const immature = r.immature === '0.00000000' ? '' : `  (${r.immature} not yet mature)`;
      this.say(
        `  ${who.padEnd(6)} ${r.address}  balance ${r.balance.padStart(14)}  pending ${r.pending.padStart(14)}  at height ${r.height}${immature}`,
      );
    }
  }
}

/** What the steps share. */
interface Story {
  readonly demo: Demo;
  readonly n: Narrator;
  readonly params: Settings['params'];
  readonly alice: string;
  readonly bob: string;
  readonly servers: readonly [number, number];
  readonly miners: Proc[];
  aliceAddress: string;
  bobAddress: string;
}

const AMOUNT = '12.5';

/**
 * Both wallets' rows, read once both wallets have synced to the height the miners announce (so the
 * balances agree with the blocks printed so far; a wallet one block behind would show 50 coins less).
 */
async function rowsOf(st: Story): Promise<[string, Row][]> {
  const target = st.demo.height();
  return st.demo.until(`both wallets to reach height ${target}`, 30_000, async () => {
    const [a, b] = await Promise.all([
      st.demo.wallet(st.alice, ['list-addresses', '--json']),
      st.demo.wallet(st.bob, ['list-addresses', '--json']),
    ]);
    const rows: [string, Row][] = [
      ['alice', (JSON.parse(a) as Row[])[0]!],
      ['bob', (JSON.parse(b) as Row[])[0]!],
    ];
    return rows.every(([, r]) => r.height >= target) ? rows : undefined;
  });
}

async function stepWallets(st: Story): Promise<void> {
  st.n.step(
    1,
    'Two wallets: alice and bob',
    'A wallet keeps secp256k1 keys (PEM files). An address is base58check(version, HASH160(public key)):\nanyone can pay to it, only the key holder can spend.',
  );
  st.aliceAddress = (JSON.parse(await st.demo.wallet(st.alice, ['new-address', 'alice', '--json'])) as { address: string }).address;
  st.bobAddress = (JSON.parse(await st.demo.wallet(st.bob, ['new-address', 'bob', '--json'])) as { address: string }).address;
  st.n.say(`  alice  ${st.aliceAddress}`);
  st.n.say(`  bob    ${st.bobAddress}`);
}

/** Starts (or restarts) both miners; mining or only relaying and serving blocks. Resolves once both run. */
async function startMiners(st: Story, mine: boolean): Promise<void> {
  await Promise.all(st.miners.splice(0).map((p) => st.demo.stop(p)));
  const [s1, s2] = st.servers;
  const common = ['--threads', '1', '--quiet', '--json', ...(mine ? [] : ['--no-mine'])];
  st.miners.push(
    st.demo.start('miner-1', MINER_BIN, ['--datadir', join(st.demo.dir, 'miner-1'), '--address', st.aliceAddress, ...common], {
      blockServerPort: s1,
      maxHashrate: DEMO_HASHRATE,
    }),
  );
  st.miners.push(
    st.demo.start('miner-2', MINER_BIN, ['--datadir', join(st.demo.dir, 'miner-2'), ...common], {
      blockServerPort: s2,
      maxHashrate: DEMO_HASHRATE,
    }),
  );
  await st.demo.until('the miners to start', 30_000, () => (st.miners.every((p) => p.log.includes('{"height"')) ? true : undefined));
}

async function stepMiners(st: Story): Promise<void> {
  const { n, params } = st;
  n.step(
    2,
    'Two miners',
    `A miner collects transactions, builds a block and tries nonces until the block's double-SHA-256 hash\nis below the target: proof of work. Each block pays its miner ${formatCoinsShort(params.subsidy)} coins (the coinbase).\nminer-1 pays its rewards to alice; miner-2 to a key of its own. They announce every new tip on the\nstatus port (UDP broadcast) and serve blocks over TCP; each checks the other's blocks fully.`,
  );
  const seen = new Map<number, string>();
  await st.demo.listenStatus((s) => {
    const who = s.blockServerPort === st.servers[0] ? 'miner-1' : s.blockServerPort === st.servers[1] ? 'miner-2' : 'a miner';
    const tip = hashToHex(s.tipHash);
    if (s.height === 0 || [...seen.values()].includes(tip)) return;
    const replaced = seen.get(s.height);
    seen.set(s.height, tip);
    // The first to announce a new tip is the one that mined it; the other follows.
    n.say(
      `  block ${String(s.height).padStart(3)}  ${tip.slice(0, 24)}…  mined by ${who}${replaced ? n.c.yellow(` (replaces ${replaced.slice(0, 12)}…: a fork, resolved by most work)`) : ''}`,
    );
  });
  // Capped hash rates keep blocks about 1.4 s apart.
  await startMiners(st, true);
  // The wallets' sync loops follow the chain (checking every block) and rebroadcast pending payments.
  st.demo.start('alice sync', WALLET_BIN, ['--datadir', st.alice, 'sync']);
  st.demo.start('bob sync', WALLET_BIN, ['--datadir', st.bob, 'sync']);
}

async function stepMature(st: Story): Promise<void> {
  const { params } = st;
  const mature = params.coinbaseMaturity + 2;
  st.n.step(
    3,
    "Waiting for alice's rewards to mature",
    `A coinbase output can be spent only after ${params.coinbaseMaturity} more blocks (coinbaseMaturity): a reorganisation\ncould otherwise erase coins that were already spent. The balance counts them at once; the part not yet\nspendable is shown beside it. Waiting until alice can spend ${AMOUNT} coins…`,
  );
  await st.demo.until(`height ${mature}`, 120_000, () => (st.demo.height() >= mature ? true : undefined));
  // Which miner found which block is chance: wait until alice can spend.
  await st.demo.until("alice's rewards to mature", 120_000, async () => {
    const [[, a]] = await rowsOf(st);
    return Number(a.balance) - Number(a.immature ?? 0) > Number(AMOUNT) + 1 ? true : undefined;
  });
  const rows = await rowsOf(st);
  st.n.say('');
  st.n.rows(rows);
}

async function stepPay(st: Story): Promise<string> {
  const { n, demo } = st;
  n.step(
    4,
    `alice pays bob ${AMOUNT} coins`,
    'First we pause mining: the miners restart with --no-mine (they still take transactions, relay and serve\nblocks), so the payment can wait where we can see it. The wallet picks coins, signs each input (legacy\nsighash, strict-DER low-S ECDSA), stores the payment as pending, then broadcasts it on the transaction\nport. Every miner validates it into its mempool.',
  );
  await startMiners(st, false);
  const id = (await demo.wallet(st.alice, ['send', 'alice', AMOUNT, st.bobAddress])).trim();
  n.say(`  txid ${id}`);
  await demo.until('the payment in both mempools', 30_000, () =>
    st.servers.every((p) => (demo.statuses.get(p)?.mempoolSize ?? 0) >= 1) ? true : undefined,
  );
  // Bob's sync hears the broadcast and checks it against its own chain: a few seconds at most.
  const rows = await demo.until("bob's wallet to hear the payment", 15_000, async () => {
    const r = await rowsOf(st);
    return r[1]![1].pending !== '0.00000000' ? r : undefined;
  });
  n.say('');
  n.say(n.c.dim("  Pending: alice sees the payment going out (amount plus fee) until a block includes it; bob's"));
  n.say(n.c.dim('  wallet sees it coming in: its sync heard the broadcast and found it valid. Both miners hold it.'));
  n.rows(rows);
  n.say('');
  return id;
}

async function fetchBlock(st: Story, hash: string) {
  return st.demo.until('the block to be served', 30_000, async () => {
    for (const port of st.servers) {
      const client = new BlockClient(st.params, '127.0.0.1', port, 10_000);
      try {
        await client.connect();
        const [b] = await client.getBlocks([hexToHash(hash)]);
        if (b) return b;
      } catch {
        /* try the other miner */
      } finally {
        client.close();
      }
    }
    return undefined;
  });
}

async function stepMined(st: Story, id: string): Promise<void> {
  const { n, demo } = st;
  n.step(
    5,
    'Mining again: the payment is confirmed',
    "The miners mine again. Restarted, they start with empty mempools: alice's sync rebroadcasts the payment\nevery few seconds until a block includes it. The block spreads to the other miner and to both wallets,\neach of which checks it. Every block built on top adds one confirmation.",
  );
  await startMiners(st, true);
  const s = await demo.until('the payment to be mined', 120_000, async () => {
    const x = JSON.parse(await demo.wallet(st.alice, ['status', id, '--json'])) as { status: string; height: number; blockHash: string };
    if (x.status === 'failed') throw new DemoError(`the payment failed: ${JSON.stringify(x)}`);
    return x.status === 'confirmed' ? x : undefined;
  });
  const block = await fetchBlock(st, s.blockHash);
  const payments = block.txs.length - 1;
  n.say(`  confirmed in block ${s.height} ${s.blockHash}`);
  n.say(
    `  block ${s.height}: ${block.txs.length} transactions (the coinbase and ${payments} payment${payments === 1 ? '' : 's'}), ${blockSize(block)} bytes, time ${new Date(block.header.time * 1000).toISOString()}, bits ${block.header.bits.toString(16)}, nonce ${block.header.nonce}`,
  );
  block.txs.forEach((t, i) =>
    n.say(`    ${i === 0 ? 'coinbase' : 'payment '} ${hashToHex(txid(t))}  ${t.inputs.length} in, ${t.outputs.length} out`),
  );
  const rows = await demo.until("bob's wallet to see the confirmed payment", 60_000, async () => {
    const r = await rowsOf(st);
    return Number(r[1]![1].balance) >= Number(AMOUNT) ? r : undefined;
  });
  n.say('');
  n.rows(rows);
}

export async function runDemo(io: Output, signal: AbortSignal, color: boolean): Promise<number> {
  const n = new Narrator(io, new Chalk({ level: color ? 1 : 0 }));
  const started = Date.now();
  const [statusPort, transactionPort, s1, s2, httpPort] = await freePorts(5);
  const demo = new Demo({ statusPort: statusPort!, transactionPort: transactionPort!, servers: [s1!, s2!] });
  const onAbort = () => void demo.cleanup();
  signal.addEventListener('abort', onAbort, { once: true });
  const aborted = new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(new DemoError('interrupted (Ctrl-C): stopping every process the demo started')), {
      once: true,
    }),
  );
  const st: Story = {
    demo,
    n,
    params: demo.settings.params,
    alice: join(demo.dir, 'alice'),
    bob: join(demo.dir, 'bob'),
    servers: [s1!, s2!],
    miners: [],
    aliceAddress: '',
    bobAddress: '',
  };
  try {
    const work = (async () => {
      n.say(n.c.bold('mvb demo: a real proof-of-work network on this computer'));
      n.say(n.c.dim(`Two miners and two wallets run as separate processes on loopback (broadcast ${LOOPBACK_BROADCAST}),`));
      n.say(n.c.dim(`on the devnet network, with their data in ${demo.dir} (removed at the end).`));
      demo.start('explorer', EXPLORER_BIN, ['--datadir', join(demo.dir, 'explorer'), '--http', `127.0.0.1:${httpPort}`]);
      n.say(`Watch it live in a browser: ${n.c.bold(`http://127.0.0.1:${httpPort}/`)} (an explorer, for as long as the demo runs)`);
      await stepWallets(st);
      await stepMiners(st);
      await stepMature(st);
      await stepMined(st, await stepPay(st));
      n.step(6, 'Done', 'Stopping every process the demo started and removing its folder.');
      await demo.cleanup();
      n.say(n.c.green(`  demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`));
      n.say(n.c.dim('  Next: `mvb devnet start` keeps a network running; see README.md and docs/GLOSSARY.md.'));
      return 0;
    })();
    return await Promise.race([work, aborted]);
  } catch (e) {
    await demo.cleanup();
    if (e instanceof DemoError) {
      io.err(n.c.red(`demo failed: ${e.message}`));
      return signal.aborted ? 130 : 1;
    }
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await demo.cleanup();
  }
}

export const demoCommand = command({
  name: 'demo',
  describe: 'Run a narrated local network (2 miners, 2 wallets) from start to a confirmed payment, then stop it',
  async handler(_args, _opts, ctx) {
    if (ctx.settings.network !== 'lan' && ctx.settings.network !== 'devnet') throw new CliError('the demo runs on devnet');
    return runDemo(ctx.io, ctx.signal, !ctx.env['NO_COLOR'] && process.stdout.isTTY === true);
  },
});

// `mvb demo` (`npm run demo`): a whole network on this computer, narrated. Two miners and two
// wallets (alice, bob) run as real processes on loopback, in a temporary folder, on devnet. Alice
// earns mining rewards, waits for them to mature, pays bob; we watch the payment go from pending to
// confirmed. Every process is ended by its PID on success, failure or Ctrl-C.
import type { AddressRow } from '../shared/node/json-rows.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { hashToHex, hexToHash } from '../shared/core/bytes.js';
import { blockSize } from '../shared/core/block.js';
import { CliError, type CliCommand, type Output } from '../shared/node/cli.js';
import { loadSettings, type Settings } from '../shared/node/config.js';
import { BlockClient } from '../shared/node/net/blockclient.js';
import type { Status } from '../shared/node/net/protocol.js';
import { StatusListener } from '../shared/node/net/status-listener.js';
import { txid } from '../shared/core/tx.js';
import { LOOPBACK_BROADCAST, MINER_BIN, WALLET_BIN, nodeSets } from './devnet/state.js';
import { freePorts } from '../shared/node/net/free-ports.js';

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

  start(name: string, bin: string, args: string[], extra: Record<string, number> = {}): Proc {
    const child = spawn(process.execPath, [bin, '--network', 'devnet', ...this.setArgs(extra), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
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

export async function runDemo(io: Output, signal: AbortSignal, color: boolean): Promise<number> {
  const c: ChalkInstance = new Chalk({ level: color ? 1 : 0 });
  const started = Date.now();
  const say = (text: string) => io.out(text);
  const step = (n: number, title: string, explain: string) => {
    say('');
    say(c.bold.cyan(`Step ${n}. ${title}`));
    for (const line of explain.split('\n')) say(c.dim(`  ${line}`));
  };
  const [statusPort, transactionPort, s1, s2] = await freePorts(4);
  const demo = new Demo({ statusPort: statusPort!, transactionPort: transactionPort!, servers: [s1!, s2!] });
  const onAbort = () => void demo.cleanup();
  signal.addEventListener('abort', onAbort, { once: true });
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new DemoError('interrupted (Ctrl-C): stopping every process the demo started')), { once: true }));
  const params = demo.settings.params;
  const alice = join(demo.dir, 'alice');
  const bob = join(demo.dir, 'bob');
  const table = async (who: string, datadir: string) => {
    const rows = JSON.parse(await demo.wallet(datadir, ['list-addresses', '--json'])) as Row[];
    for (const r of rows) say(`  ${who.padEnd(6)} ${r.address}  balance ${r.balance.padStart(14)}  pending ${r.pending.padStart(14)}`);
    return rows;
  };
  try {
    const work = (async () => {
      say(c.bold('mvb demo: a real proof-of-work network on this computer'));
      say(c.dim(`Two miners and two wallets run as separate processes on loopback (broadcast ${LOOPBACK_BROADCAST}),`));
      say(c.dim(`on the devnet network, with their data in ${demo.dir} (removed at the end).`));

      step(1, 'Two wallets: alice and bob', 'A wallet keeps secp256k1 keys (PEM files). An address is base58check(version, HASH160(public key)):\nanyone can pay to it, only the key holder can spend.');
      const aAddr = (JSON.parse(await demo.wallet(alice, ['new-address', 'alice', '--json'])) as { address: string }).address;
      const bAddr = (JSON.parse(await demo.wallet(bob, ['new-address', 'bob', '--json'])) as { address: string }).address;
      say(`  alice  ${aAddr}`);
      say(`  bob    ${bAddr}`);

      step(2, 'Two miners', `A miner collects transactions, builds a block and tries nonces until the block's double-SHA-256 hash\nis below the target: proof of work. Each block pays its miner ${Number(params.subsidy) / 1e8} coins (the coinbase).\nminer-1 pays its rewards to alice; miner-2 to a key of its own. They announce every new tip on the\nstatus port (UDP broadcast) and serve blocks over TCP; each checks the other's blocks fully.`);
      const seen = new Map<number, string>();
      await demo.listenStatus((s) => {
        const who = s.blockServerPort === s1 ? 'miner-1' : s.blockServerPort === s2 ? 'miner-2' : 'a miner';
        const tip = hashToHex(s.tipHash);
        if (s.height === 0 || [...seen.values()].includes(tip)) return;
        const replaced = seen.get(s.height);
        seen.set(s.height, tip);
        // The first to announce a new tip is the one that mined it; the other follows.
        say(`  block ${String(s.height).padStart(3)}  ${tip.slice(0, 24)}…  mined by ${who}${replaced ? c.yellow(` (replaces ${replaced.slice(0, 12)}…: a fork, resolved by most work)`) : ''}`);
      });
      // Capped hash rates keep blocks about 1.4 s apart, slow enough to see a payment wait in the mempool.
      demo.start('miner-1', MINER_BIN, ['--datadir', join(demo.dir, 'miner-1'), '--threads', '1', '--address', aAddr, '--quiet'], { blockServerPort: s1!, maxHashrate: DEMO_HASHRATE });
      demo.start('miner-2', MINER_BIN, ['--datadir', join(demo.dir, 'miner-2'), '--threads', '1', '--quiet'], { blockServerPort: s2!, maxHashrate: DEMO_HASHRATE });
      // The wallets' sync loops follow the chain (checking every block) and rebroadcast pending payments.
      demo.start('alice sync', WALLET_BIN, ['--datadir', alice, 'sync']);
      demo.start('bob sync', WALLET_BIN, ['--datadir', bob, 'sync']);

      const mature = params.coinbaseMaturity + 2;
      step(3, 'Waiting for alice\'s rewards to mature', `A coinbase output can be spent only after ${params.coinbaseMaturity} more blocks (coinbaseMaturity): a reorganisation\ncould otherwise erase coins that were already spent. Waiting for height ${mature}…`);
      await demo.until(`height ${mature}`, 120_000, () => (demo.height() >= mature ? true : undefined));
      say('');
      await table('alice', alice);
      await table('bob', bob);

      const amount = '12.5';
      step(4, `alice pays bob ${amount} coins`, 'The wallet picks coins, signs each input (legacy sighash, strict-DER low-S ECDSA), stores the payment as\npending, then broadcasts it on the transaction port. Every miner validates it into its mempool.');
      // Which miner found which block is chance: if alice's coins are not mature yet, wait a block.
      const id = await demo.until('alice\'s rewards to mature', 120_000, async () => {
        try {
          return (await demo.wallet(alice, ['send', 'alice', amount, bAddr])).trim();
        } catch (e) {
          if (e instanceof DemoError && /not yet mature|insufficient|no spendable/i.test(e.message)) return undefined;
          throw e;
        }
      });
      say(`  txid ${id}`);
      // Both tables at once, right after the broadcast, before a miner is likely to have found a block.
      const [ra, rb] = await Promise.all([demo.wallet(alice, ['list-addresses', '--json']), demo.wallet(bob, ['list-addresses', '--json'])]);
      const rowA = (JSON.parse(ra) as Row[])[0]!;
      const rowB = (JSON.parse(rb) as Row[])[0]!;
      say('');
      if (rowA.pending !== '0.00000000') {
        say(c.dim('  Pending: alice sees the payment going out (amount plus fee) until a block includes it;'));
        say(c.dim('  bob\'s wallet sees it coming in if its sync heard the broadcast and found it valid.'));
      } else say(c.dim('  A miner was quick: the payment was mined before we could look at it pending.'));
      for (const [who, r] of [['alice', rowA], ['bob', rowB]] as const) say(`  ${who.padEnd(6)} ${r.address}  balance ${r.balance.padStart(14)}  pending ${r.pending.padStart(14)}`);
      say('');

      step(5, 'Mined: the payment is confirmed', 'A miner put the payment in a block; the block spread to the other miner and to both wallets, each of\nwhich checked it. Every block built on top adds one confirmation.');
      const st = await demo.until('the payment to be mined', 120_000, async () => {
        const s = JSON.parse(await demo.wallet(alice, ['status', id, '--json'])) as { status: string; height: number; blockHash: string; confirmations: number };
        if (s.status === 'failed') throw new DemoError(`the payment failed: ${JSON.stringify(s)}`);
        return s.status === 'confirmed' ? s : undefined;
      });
      say(`  confirmed in block ${st.height} ${st.blockHash}`);
      // Ask the miners for the block (the one that did not mine it may still be fetching it).
      const block = await demo.until('the block to be served', 30_000, async () => {
        for (const port of [s1!, s2!]) {
          const client = new BlockClient(params, '127.0.0.1', port, 10_000);
          try {
            await client.connect();
            const [b] = await client.getBlocks([hexToHash(st.blockHash)]);
            if (b) return b;
          } catch {
            /* try the other miner */
          } finally {
            client.close();
          }
        }
        return undefined;
      });
      say(`  block ${st.height}: ${block.txs.length} transactions, ${blockSize(block)} bytes, time ${new Date(block.header.time * 1000).toISOString()}, bits ${block.header.bits.toString(16)}, nonce ${block.header.nonce}`);
      block.txs.forEach((t, i) => say(`    ${i === 0 ? 'coinbase' : 'payment '} ${hashToHex(txid(t))}  ${t.inputs.length} in, ${t.outputs.length} out`));
      await demo.until('bob\'s wallet to see the confirmed payment', 60_000, async () => {
        const r = JSON.parse(await demo.wallet(bob, ['list-addresses', '--json'])) as Row[];
        return r[0] && Number(r[0].balance) >= Number(amount) ? true : undefined;
      });
      say('');
      await table('alice', alice);
      await table('bob', bob);

      step(6, 'Done', 'Stopping every process the demo started and removing its folder.');
      await demo.cleanup();
      say(c.green(`  demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`));
      say(c.dim('  Next: `mvb devnet start` keeps a network running; see README.md and docs/GLOSSARY.md.'));
      return 0;
    })();
    return await Promise.race([work, aborted]);
  } catch (e) {
    await demo.cleanup();
    if (e instanceof DemoError) {
      io.err(c.red(`demo failed: ${e.message}`));
      return signal.aborted ? 130 : 1;
    }
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await demo.cleanup();
  }
}

export const demoCommand: CliCommand = {
  name: 'demo',
  describe: 'Run a narrated local network (2 miners, 2 wallets) from start to a confirmed payment, then stop it',
  async handler(_args, _opts, ctx) {
    if (ctx.settings.network !== 'lan' && ctx.settings.network !== 'devnet') throw new CliError('the demo runs on devnet');
    return runDemo(ctx.io, ctx.signal, !ctx.env['NO_COLOR'] && process.stdout.isTTY === true);
  },
};

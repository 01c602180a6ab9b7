// Wallet test harness: an in-process miner-like peer (a Chain over memory, a ChainNode serving
// blocks and announcing its tip on a loopback test network, listening for transactions), blocks
// built with the builder, and wallet commands run in-process through runCli with captured output.
// Every socket uses broadcastAddress 127.255.255.255 and free ports; waits are event-driven with
// bounded timeouts.
import { minerTag } from '../../src/shared/core/coinbase-tag.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { p2pkhOutput, assembleBlock, makeCoinbase, solveHeader } from '../../src/shared/core/builder.js';
import { type Block } from '../../src/shared/core/block.js';
import { encodeBlock } from '../../src/shared/core/block.js';
import { hashToHex, toHex } from '../../src/shared/core/bytes.js';
import { Chain, type ChainEntry, MemoryChainStore } from '../../src/shared/core/chain.js';
import { type CliCommand, runCli } from '../../src/shared/node/cli/runner.js';
import { type Settings, formatSets, loadSettings } from '../../src/shared/node/cli/config.js';
import { ChainNode } from '../../src/shared/node/net/node.js';
import { blockSubsidy } from '../../src/shared/core/params.js';
import { type Tx, decodeTx, txid } from '../../src/shared/core/tx.js';
import { walletCommands } from '../../src/wallet/commands.js';
import { LOOPBACK_BROADCAST, WALLET_BIN, freePorts, setArgs } from './procs.js';
import { EASY_BITS, testGenesisHex } from './genesis.js';
import { track } from './processes.js';

export { EASY_BITS };

/** Block times start here: far enough back that every block we build is in the past. */
const GENESIS_TIME = Math.floor(Date.now() / 1000) - 30 * 86400;
const easyGenesis = () => testGenesisHex({ time: GENESIS_TIME, tag: 'mvb wallet test genesis' });

/** `--set` overrides for one test network (devnet rules with trivial proof of work). */
export async function testNetSets(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const [statusPort, transactionPort] = await freePorts(2);
  return {
    broadcastAddress: LOOPBACK_BROADCAST,
    statusPort,
    transactionPort,
    blockServerPort: 0,
    statusBroadcastIntervalSeconds: 0.1,
    transactionBroadcastIntervalSeconds: 0.2,
    powLimitBits: '0x207fffff',
    genesis: easyGenesis(),
    ...extra,
  };
}

export function settingsOf(sets: Record<string, unknown>): Settings {
  return loadSettings({ network: 'devnet', sets: formatSets(sets) });
}

// ------------------------------------------------------------------ captured output

export class Capture {
  readonly outLines: string[] = [];
  readonly errLines: string[] = [];
  private waiters: (() => void)[] = [];
  readonly io = {
    out: (l: string) => this.push(this.outLines, l),
    err: (l: string) => this.push(this.errLines, l),
  };
  private push(to: string[], l: string): void {
    to.push(...l.split('\n'));
    for (const w of this.waiters.splice(0)) w();
  }
  get out(): string {
    return this.outLines.join('\n');
  }
  get err(): string {
    return this.errLines.join('\n');
  }
  /** Resolves when a line (stdout or stderr) matches; fails after timeoutMs. */
  waitLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output:\n${this.out}\n${this.err}`));
      }, timeoutMs);
      const check = () => {
        const hit = [...this.outLines, ...this.errLines].find((l) => re.test(l));
        if (hit !== undefined) {
          clearTimeout(t);
          resolve(hit);
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a wallet command in-process against a data directory of the test network. */
export async function wallet(
  datadir: string,
  sets: Record<string, unknown>,
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; capture?: Capture; commands?: readonly CliCommand[] } = {},
): Promise<CliResult> {
  const cap = o.capture ?? new Capture();
  // Shared options go right after the command name, so `--` may end the options in args.
  const argv = [args[0]!, '--datadir', datadir, '--network', 'devnet', ...setArgs(sets), ...args.slice(1)];
  const code = await runCli('mvb-wallet', o.commands ?? walletCommands, argv, {
    app: 'wallet',
    io: cap.io,
    env: o.env ?? {},
    signal: o.signal,
  });
  return { code, out: cap.out, err: cap.err };
}

/** Runs the built mvb-wallet as a child process. */
export function walletProcess(
  datadir: string,
  sets: Record<string, unknown>,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult & { child: ChildProcess }> {
  const child = track(
    spawn(process.execPath, [WALLET_BIN, args[0]!, '--datadir', datadir, '--network', 'devnet', ...setArgs(sets), ...args.slice(1)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'], NO_COLOR: '1', ...env },
    }),
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? -1, out: out.trimEnd(), err: err.trimEnd(), child })),
  );
}

// ------------------------------------------------------------------ the miner-like peer

export class TestMiner {
  readonly chain: Chain;
  readonly node: ChainNode;
  readonly txs: Tx[] = [];
  private readonly txWaiters: (() => void)[] = [];
  private counter = 0;

  constructor(readonly settings: Settings) {
    this.chain = new Chain(settings.params, new MemoryChainStore());
    this.node = new ChainNode({ settings, chain: this.chain, serveBlocks: true });
    this.node.on('tx', (raw) => {
      try {
        this.txs.push(decodeTx(raw));
      } catch {
        /* not a transaction */
      }
      for (const w of this.txWaiters.splice(0)) w();
    });
  }

  static async start(sets: Record<string, unknown>): Promise<TestMiner> {
    const m = new TestMiner(settingsOf(sets));
    await m.node.start(true);
    return m;
  }

  stop(): Promise<void> {
    return this.node.stop();
  }

  get tip(): ChainEntry {
    return this.chain.tip;
  }

  /** A solved block on parent (default: the tip) paying the subsidy to pkh, with txs, tagged (a raw tag, or a miner's /name/). Not yet processed. */
  build(pkh: Uint8Array, o: { parent?: ChainEntry; txs?: readonly Tx[]; tag?: string; name?: string } = {}): Block {
    const parent = o.parent ?? this.chain.tip;
    const height = parent.height + 1;
    const enc = (t: string) => new TextEncoder().encode(t);
    // The tag in its own push (what explorers read as the pool's name), then a counter that makes each coinbase unique.
    const tag = o.name !== undefined ? `/${o.name}/` : o.tag;
    const extra = tag === undefined ? enc(`test miner ${this.counter++}`) : [enc(tag), Uint8Array.of(0, ...enc(String(this.counter++)))];
    const cb = makeCoinbase(height, [p2pkhOutput(blockSubsidy(height, this.settings.params), pkh)], extra);
    const time = Math.max(parent.header.time, this.chain.medianTimePast(parent)) + 1;
    const b = assembleBlock(parent.hash, [cb, ...(o.txs ?? [])], time, this.chain.requiredBits(parent));
    const header = solveHeader(b.header, 10_000_000);
    if (!header) throw new Error('no nonce');
    return { header, txs: b.txs };
  }

  /** Mines n blocks on parent (default: the tip), accepts them and announces the new tip. */
  mine(n: number, pkh: Uint8Array, o: { parent?: ChainEntry; txs?: readonly Tx[]; tag?: string; name?: string } = {}): Block[] {
    const out: Block[] = [];
    let parent = o.parent ?? this.chain.tip;
    for (let i = 0; i < n; i++) {
      const b = this.build(pkh, { parent, txs: i === 0 ? o.txs : [], tag: o.tag, name: o.name });
      const r = this.chain.processBlock(b, Math.floor(Date.now() / 1000));
      if (r.status !== 'accepted') throw new Error(`block not accepted: ${r.status}`);
      parent = r.entry;
      out.push(b);
    }
    this.node.announce();
    return out;
  }

  /** Resolves with the first transaction heard on the transaction port with this txid. */
  waitTx(id: string, timeoutMs = 10_000): Promise<Tx> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`transaction ${id} not heard within ${timeoutMs} ms (heard ${this.txs.length})`)),
        timeoutMs,
      );
      const check = () => {
        const tx = this.txs.find((x) => hashToHex(txid(x)) === id);
        if (tx) {
          clearTimeout(t);
          resolve(tx);
        } else this.txWaiters.push(check);
      };
      check();
    });
  }
}

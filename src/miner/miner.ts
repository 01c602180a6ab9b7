// The miner daemon: the chain in an LMDB store, the network node (status, transactions, block
// server, catching up), the mempool and the mining threads. Templates are rebuilt at once on a
// new tip or new transactions; found blocks go through the same validation as anyone else's.
// Beside it: catch-up.ts (when not to mine), transactions.ts (the transaction intake's verdicts),
// status-line.ts (the line every few seconds).
import { join } from 'node:path';
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import { decodeAddress, encodeAddress } from '../shared/core/address.js';
import { hashToHex, toHex } from '../shared/core/bytes.js';
import { type Block, blockSize } from '../shared/core/block.js';
import { Chain, type ChainUpdate } from '../shared/core/chain.js';
import type { Settings } from '../shared/node/cli/config.js';
import { CliError, type Output } from '../shared/node/cli/runner.js';
import { assembleBlock, makeCoinbase, p2pkhOutput } from '../shared/core/builder.js';
import { MinerNameError, minerTag } from '../shared/core/coinbase-tag.js';
import { encodeHeader } from '../shared/core/header.js';
import { KeyStore } from '../shared/node/store/keystore.js';
import { ChainNode } from '../shared/node/net/node.js';
import { blockSubsidy } from '../shared/core/params.js';
import { bitsToTarget } from '../shared/core/pow.js';
import { LmdbChainStore } from '../shared/node/store/lmdb-store.js';
import type { TxIntake } from '../shared/node/mempool/intake.js';
import { HashPool, formatRate } from '../shared/node/mining/hashpool.js';
import { Mempool } from '../shared/node/mempool/pool.js';
import { randomBytes } from 'node:crypto';
import type { EventLog } from '../shared/node/events.js';
import { availableParallelism } from 'node:os';
import { BlockSignatureVerifier } from '../shared/node/verify/block-verifier.js';
import { CatchUp } from './catch-up.js';
import { statusLine } from './status-line.js';
import { openMinerIntake } from './transactions.js';

export const REWARD_KEY_NAME = 'mining-rewards';
/**
 * A transaction with at least this many signatures to check has them checked in the verifying
 * threads, off the event loop; fewer cost the event loop about what the round trip would.
 */
const MIN_TX_CHECKS_OFF_THREAD = 4;

/**
 * Bytes of a block kept free for the header, the transaction count and the coinbase when the
 * template's transactions are chosen (Core's BlockAssembler reserves room for the coinbase the
 * same way: DEFAULT_BLOCK_RESERVED_WEIGHT).
 */
export const COINBASE_RESERVED_BYTES = 2000;
/** The coinbase scriptSig after the BIP34 height of an unnamed miner: this tag, then a fresh extra nonce per template (a push each). */
export const COINBASE_TAG = new TextEncoder().encode('mvb');
export const EXTRA_NONCE_BYTES = 8;

export interface MinerOptions {
  readonly settings: Settings;
  readonly datadir: string;
  /** Address for rewards; default: the datadir's mining-rewards key (created on first start). */
  readonly rewardAddress?: string;
  readonly threads: number;
  /** Why that many threads, for the start line (e.g. "the classroom preset's minerThreads"). */
  readonly threadsReason?: string;
  /** The name for the coinbase tag (checked by core's checkMinerName); none: "mvb". */
  readonly name?: string;
  readonly mine: boolean;
  readonly quiet: boolean;
  readonly io: Output;
  readonly color?: boolean;
  readonly bindAddress?: string;
  /** Seconds between status lines. */
  readonly statusLineSeconds?: number;
  /** Draw a progress bar (on stderr) while catching up, instead of a line per thousand blocks. */
  readonly progressBar?: boolean;
  /** `--events FILE`: blocks mined, chain updates, transactions accepted (see events.ts). */
  readonly events?: EventLog;
}

interface Template {
  readonly jobId: number;
  readonly block: Block;
  readonly height: number;
}

export class Miner {
  readonly store: LmdbChainStore;
  readonly chain: Chain;
  readonly node: ChainNode;
  readonly mempool: Mempool;
  /** Every transaction heard goes through it (cheap checks, fair queue, signature budget). */
  readonly intake: TxIntake;
  /** Signature cache (filled by the mempool) and checking threads for the blocks we fetch. */
  readonly signatures = BlockSignatureVerifier.create(Math.min(4, availableParallelism()));
  private pool?: HashPool;
  private template?: Template;
  private jobCounter = 0;
  private refreshQueued = false;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  readonly rewardPkh: Uint8Array;
  /** What the coinbase carries after the height: "/name/" for a named miner, else COINBASE_TAG. */
  private readonly coinbaseTag: Uint8Array;
  readonly rewardAddress: string;
  readonly stats = { blocksMined: 0, txReceived: 0, txRejected: 0, txKnown: 0, txBad: 0, txQueueFull: 0, ownTxHeard: 0 };
  private readonly c: ChalkInstance;
  /** Far behind the best header: fetching, not mining (catch-up.ts). */
  private readonly catchUp: CatchUp;

  constructor(readonly opts: MinerOptions) {
    const { settings } = opts;
    const params = settings.params;
    this.c = new Chalk({ level: opts.color === false ? 0 : chalk.level });
    if (opts.rewardAddress !== undefined) {
      let dec;
      try {
        dec = decodeAddress(opts.rewardAddress);
      } catch (e) {
        throw new CliError(`--address: ${(e as Error).message}`, 2);
      }
      if (dec.version !== params.addressVersion)
        throw new CliError(`--address is not a ${params.name} address (version ${dec.version}, expected ${params.addressVersion})`, 2);
      this.rewardPkh = dec.hash160;
    } else {
      const keys = new KeyStore(join(opts.datadir, 'keys'));
      const info = keys.has(REWARD_KEY_NAME) ? keys.info(REWARD_KEY_NAME) : keys.create(REWARD_KEY_NAME);
      this.rewardPkh = info.pubkeyHash;
    }
    this.rewardAddress = encodeAddress(this.rewardPkh, params.addressVersion);
    try {
      this.coinbaseTag = opts.name ? minerTag(opts.name) : COINBASE_TAG;
    } catch (e) {
      if (e instanceof MinerNameError) throw new CliError(`--name: ${e.message}`, 2);
      throw e;
    }
    this.store = new LmdbChainStore(join(opts.datadir, 'chain'), 'miner');
    try {
      this.chain = new Chain(params, this.store, { verifier: this.signatures.cache.verifier });
      this.chain.activateBestChain();
    } catch (e) {
      this.store.close();
      void this.signatures.close();
      throw e;
    }
    this.mempool = new Mempool(this.chain, {
      minRelayFeeRate: settings.minRelayFeeRate,
      maxBytes: settings.mempoolMaxBytes,
      verifier: this.signatures.cache.verifier,
      preverify: (checks) => this.signatures.preverifyChecks(checks, MIN_TX_CHECKS_OFF_THREAD),
    });
    this.node = new ChainNode({
      settings,
      chain: this.chain,
      serveBlocks: true,
      bindAddress: opts.bindAddress,
      events: opts.events,
      signatures: this.signatures,
      name: opts.name,
      log: (level, msg) => this.log(level === 'warn' ? this.c.yellow(msg) : msg, level),
    });
    this.node.mempoolSize = () => this.mempool.size;
    this.node.compactCandidates = () => this.mempool.all();
    this.intake = openMinerIntake({
      node: this.node,
      mempool: this.mempool,
      counts: this.stats,
      log: (line, level) => this.log(line, level),
      c: this.c,
      events: opts.events,
      onAccepted: () => this.refresh(),
    });
    this.catchUp = new CatchUp({
      chain: this.chain,
      node: this.node,
      log: (line, level) => this.log(line, level),
      c: this.c,
      progressBar: opts.progressBar,
      mining: () => this.pool !== undefined,
      pause: () => {
        this.pool?.idle();
        this.template = undefined;
      },
      resume: () => this.refresh(),
    });
  }

  /** --quiet keeps warnings only (so no line per rejected transaction); debug lines are not printed. */
  private log(line: string, level: 'info' | 'warn' | 'debug' = 'info'): void {
    if (level === 'debug' || (this.opts.quiet && level === 'info')) return;
    const t = new Date().toISOString().slice(11, 19);
    this.opts.io.out(`${this.c.gray(t)} ${line}`);
  }

  async start(): Promise<void> {
    const s = this.opts.settings;
    this.node.on('update', (u) => this.onChainUpdate(u, 'peer'));
    this.node.on('status', () => this.checkCatchUp());
    await this.node.start(true);
    this.log(
      `${this.c.bold('mvb miner')} on ${this.c.cyan(s.network)}: height ${this.chain.height}, tip ${hashToHex(this.chain.tip.hash).slice(0, 16)}…, ` +
        `rewards to ${this.c.green(this.rewardAddress)}; UDP tx ${s.transactionPort}, status ${s.statusPort}, TCP blocks ${this.node.server!.port}; broadcast ${s.broadcastAddress}`,
    );
    if (this.opts.mine) {
      const why = this.opts.threadsReason ? ` (${this.opts.threadsReason})` : '';
      this.log(`mining with ${this.opts.threads} thread(s)${why}${this.opts.name ? `, blocks tagged /${this.opts.name}/` : ''}`);
      this.pool = new HashPool(this.opts.threads);
      this.pool.on('found', (jobId, nonce) => this.onFound(jobId, nonce));
      this.pool.on('exhausted', () => this.refresh());
      this.pool.on('error', (e) => this.log(this.c.red(`mining thread failed: ${e.message}`), 'warn'));
      this.refresh();
      // Keep the template's time fresh, as Bitcoin miners do.
      this.timers.push(setInterval(() => this.refresh(), 15_000));
    }
    this.timers.push(setInterval(() => this.statusLine(), (this.opts.statusLineSeconds ?? 5) * 1000));
  }

  /** Requests a template rebuild; several requests in one tick make one rebuild. */
  refresh(): void {
    if (this.refreshQueued || this.stopped || !this.pool) return;
    this.refreshQueued = true;
    setImmediate(() => {
      this.refreshQueued = false;
      this.buildTemplate();
    });
  }

  /** Whether the miner is catching up (far behind what it knows of the best chain). */
  get catchingUp(): boolean {
    return this.catchUp.active;
  }

  private checkCatchUp(): void {
    if (!this.stopped) this.catchUp.check();
  }

  private buildTemplate(): void {
    if (this.stopped || !this.pool) return;
    if (this.catchUp.active) {
      this.pool.idle();
      this.template = undefined;
      return;
    }
    const s = this.opts.settings;
    const params = s.params;
    const ctx = this.chain.templateContext();
    const sel = this.mempool.select(params.maxBlockBytes - COINBASE_RESERVED_BYTES);
    if (sel.txs.length < s.minBlockTransactions) {
      this.pool.idle();
      this.template = undefined;
      return;
    }
    const reward = blockSubsidy(ctx.height, params) + sel.fees;
    // Tag plus an extra nonce: a fresh coinbase (new Merkle root) whenever the nonce range runs out.
    const coinbase = makeCoinbase(ctx.height, [p2pkhOutput(reward, this.rewardPkh)], [this.coinbaseTag, randomBytes(EXTRA_NONCE_BYTES)]);
    const now = Math.floor(Date.now() / 1000);
    const time = Math.max(now, ctx.medianTimePast + 1);
    const block = assembleBlock(ctx.prevHash, [coinbase, ...sel.txs.map((e) => e.tx)], time, ctx.bits);
    const jobId = ++this.jobCounter;
    this.template = { jobId, block, height: ctx.height };
    this.pool.start(jobId, encodeHeader(block.header), bitsToTarget(ctx.bits), s.maxHashrate);
  }

  private onFound(jobId: number, nonce: number): void {
    const t = this.template;
    if (!t || t.jobId !== jobId) return;
    const block: Block = { header: { ...t.block.header, nonce }, txs: t.block.txs };
    try {
      const r = this.chain.processBlock(block, Math.floor(Date.now() / 1000));
      if (r.status === 'accepted' && r.connected.length) {
        this.stats.blocksMined++;
        this.opts.events?.write('mined', { hash: hashToHex(r.entry.hash), height: t.height, hashes: this.pool?.hashes ?? 0 });
        this.opts.events?.update(r, 'self');
        const payments = block.txs.length - 1;
        // Counted as the demo and explorers count them: every transaction, the coinbase included.
        this.log(
          this.c.green(
            `mined block ${t.height} ${hashToHex(r.entry.hash).slice(0, 16)}… with ${block.txs.length} transaction${block.txs.length === 1 ? '' : 's'} (the coinbase and ${payments} payment${payments === 1 ? '' : 's'}), ${blockSize(block)} bytes`,
          ),
        );
        this.node.announceBlock(block); // BIP152 compact block first: the status follows in onChainUpdate
        this.onChainUpdate(r, 'self');
      }
    } catch (e) {
      // Our own template failed validation: a bug or a race with the tip; log and rebuild.
      this.log(this.c.red(`own block rejected: ${(e as Error).message}`), 'warn');
    }
    this.refresh();
  }

  private onChainUpdate(u: ChainUpdate, from: 'self' | 'peer'): void {
    const r = this.mempool.update(u);
    this.checkCatchUp();
    // While catching up, progress is a bar or a line per thousand blocks, not a line per block.
    if (this.catchUp.active) return;
    if (from === 'peer') {
      const tip = this.chain.tip;
      const reorg = u.disconnected.length
        ? this.c.yellow(` (reorganised: ${u.disconnected.length} block(s) replaced, ${r.returned} tx returned to the mempool)`)
        : '';
      this.log(`new tip ${tip.height} ${hashToHex(tip.hash).slice(0, 16)}… from the network${reorg}`);
      // Relayed on as a compact block as soon as it is connected (our own are sent in onFound).
      const last = u.connected[u.connected.length - 1];
      if (last && last.entry === tip) this.node.announceBlock(last.block);
    }
    this.node.announce();
    this.refresh();
    this.statusLine();
  }

  statusLine(): void {
    this.catchUp.checkStall();
    if (this.stopped || this.catchUp.active) return;
    const n = this.stats;
    const drops = {
      datagrams: this.node.dropped(),
      undecodableTxs: n.txBad,
      invalidTxs: n.txRejected,
      knownTxs: n.txKnown,
      queueFullTxs: n.txQueueFull,
      bans: this.node.stats.bans,
    };
    const rate = this.pool ? formatRate(this.pool.rate()) : 'not mining';
    this.log(
      statusLine(
        {
          tip: this.chain.tip,
          powLimit: this.chain.params.powLimit,
          rate,
          mempoolSize: this.mempool.size,
          miners: this.node.activePeers().length + 1,
          drops,
          compact: this.node.compact.stats,
        },
        this.c,
      ),
    );
  }

  /** A summary for tests and tools. */
  info(): { height: number; tip: string; mempool: number; rewardAddress: string; port: number; nodeId: string } {
    return {
      height: this.chain.height,
      tip: hashToHex(this.chain.tip.hash),
      mempool: this.mempool.size,
      rewardAddress: this.rewardAddress,
      port: this.node.server?.port ?? 0,
      nodeId: toHex(this.node.nodeId),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.catchUp.end();
    for (const t of this.timers) clearInterval(t);
    await this.intake.stop();
    await this.pool?.close();
    await this.node.stop();
    await this.signatures.close();
    this.store.close();
    this.opts.events?.close();
  }
}

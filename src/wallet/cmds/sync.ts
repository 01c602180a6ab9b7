// sync: follows the best chain. A ChainNode (no block server, no transaction listener) over the
// wallet's LMDB chain store hears miners' status broadcasts, fetches headers then blocks from the
// one announcing the most work and validates them fully, reorganising as needed; the wallet's
// commit hook keeps coins, history and payment states in the same transactions. Pending payments
// are rebroadcast every transactionBroadcastIntervalSeconds until mined. Runs until Ctrl-C, or
// with --once until caught up with the best chain heard (bounded by --timeout: no miner heard, or
// no progress, for that long).
import cliProgress from 'cli-progress';
import { Chain } from '../../shared/chain.js';
import { type CliCommand, CliError } from '../../shared/cli.js';
import { MsgType } from '../../shared/net/protocol.js';
import { type PeerInfo, ChainNode } from '../../shared/net/node.js';
import { sendOnce } from '../../shared/net/udp.js';
import { LmdbChainStore } from '../../shared/store/lmdb-store.js';
import { encodeAddress } from '../../shared/address.js';
import { fromHex, hashToHex } from '../../shared/bytes.js';
import { formatCoins } from '../amount.js';
import { type WalletEvent, WalletDb } from '../db.js';
import { localKeys, openKeys } from '../keys.js';
import { chainDir, colours, isTerminal, printJson, shortHash } from '../ui.js';
import { txDestinations } from './send.js';

/** Behind by more than this many blocks: a progress bar (on a terminal) instead of a line per block. */
const FAR_BEHIND = 20;

function eventJson(ev: WalletEvent): Record<string, unknown> {
  switch (ev.kind) {
    case 'confirmed':
      return { event: 'confirmed', txid: ev.txid, height: ev.block.height, blockHash: ev.block.hash };
    case 'unconfirmed':
      return { event: 'unconfirmed', txid: ev.txid, height: ev.height };
    case 'failed':
      return { event: 'failed', txid: ev.txid, reason: ev.detail };
    case 'revived':
      return { event: 'revived', txid: ev.txid };
    case 'received':
      return { event: 'received', txid: ev.txid, amount: formatCoins(ev.amount), height: ev.block.height, coinbase: ev.coinbase };
  }
}

export const sync: CliCommand = {
  name: 'sync',
  describe: 'follow the best chain, track payments and rebroadcast pending ones (until Ctrl-C)',
  options: [
    { flags: '--once', description: 'catch up with the best chain heard, rebroadcast pending payments once, print a summary and exit' },
    { flags: '--timeout <seconds>', description: 'with --once: give up after this long without hearing a miner, or without progress while catching up', default: '10' },
    { flags: '--verbose', description: 'also log network details' },
  ],
  async handler(_args, opts, ctx) {
    const s = ctx.settings;
    const once = Boolean(opts['once']);
    const timeoutS = Number(opts['timeout']);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 86400) throw new CliError(`invalid --timeout "${String(opts['timeout'])}": seconds, more than 0`);
    const verbose = Boolean(opts['verbose']);
    const c = colours(ctx);
    const ks = openKeys(ctx);
    const pkhs = () => localKeys(ks, s.params.addressVersion).map((k) => k.pkhHex);
    const nameOf = () => new Map(localKeys(ks, s.params.addressVersion).map((k) => [k.pkhHex, k.name]));
    // Lines as they happen: NDJSON with --json when running continuously; with --once only the summary.
    const streamJson = ctx.json && !once;
    const say = (line: string, json?: Record<string, unknown>) => {
      if (streamJson) {
        if (json) ctx.io.out(JSON.stringify(json));
      } else if (!ctx.json) ctx.io.out(line);
    };
    const warn = (msg: string) => ctx.io.err(`warning: ${msg}`);

    // The lock: one sync per data directory (other commands open the store shared; see db.ts).
    const store = new LmdbChainStore(chainDir(ctx.datadir), 'mvb-wallet sync');
    const db = new WalletDb(store);
    db.attachHook();
    let node: ChainNode | undefined;
    const stopNode = async () => {
      const x = node;
      node = undefined;
      await x?.stop();
    };
    let bar: cliProgress.SingleBar | undefined;
    const timers: NodeJS.Timeout[] = [];
    let lastProblem: string | undefined;
    try {
      let chain: Chain;
      try {
        chain = new Chain(s.params, store);
      } catch (e) {
        const msg = (e as Error).message;
        if (/another network/.test(msg)) throw new CliError(`${ctx.datadir}: ${msg}; use another --datadir for network ${s.network}`);
        throw e;
      }
      const rescan = db.ensureIndex(pkhs());
      if (rescan.rebuilt) say(`rebuilt the wallet index from the local chain`);
      else if (rescan.added) say(`scanned the local chain for ${rescan.added} new key${rescan.added === 1 ? '' : 's'}`);
      const n = new ChainNode({
        settings: s,
        chain,
        serveBlocks: false,
        log: (level, msg) => {
          lastProblem = msg;
          if (level === 'warn') warn(msg);
          else if (verbose) ctx.io.err(`${level}: ${msg}`);
        },
      });
      node = n;

      // ---------------------------------------------------------------- what we heard
      let heard = false;
      const startHeight = chain.height;
      const summary = { confirmed: [] as string[], failed: [] as string[], unconfirmed: [] as string[], received: 0n, rebroadcast: 0 };
      /**
       * The best chain announced by a miner heard lately. Peers set aside (unreachable, or serving
       * an invalid branch) still count: --once then reports that it could not catch up rather
       * than claim to be synced.
       */
      const best = (): PeerInfo | undefined => {
        let b: PeerInfo | undefined;
        for (const p of n.activePeers()) if (!b || p.status.chainWork > b.status.chainWork) b = p;
        return b;
      };
      const caughtUp = () => {
        const b = best();
        return b === undefined || chain.tip.chainWork >= b.status.chainWork;
      };
      let lastSaved = '';
      let lastSavedAt = 0;
      const saveBest = () => {
        const b = best();
        if (!b) return;
        const miners = n.activePeers().length;
        const key = `${b.status.height}:${b.status.chainWork}:${miners}`;
        if (key === lastSaved && Date.now() - lastSavedAt < 30_000) return;
        lastSaved = key;
        lastSavedAt = Date.now();
        db.setBestHeard({ height: b.status.height, chainWork: b.status.chainWork.toString(), tip: hashToHex(b.status.tipHash), peers: miners, at: Date.now() });
      };
      const farBehind = () => {
        const b = best();
        return b !== undefined && b.status.height - chain.height > FAR_BEHIND;
      };
      const progress = () => {
        const b = best();
        if (farBehind() && isTerminal(ctx) && !ctx.json) {
          if (!bar) {
            bar = new cliProgress.SingleBar(
              { format: 'syncing |{bar}| {value}/{total} blocks', stream: process.stderr, hideCursor: true, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            );
            bar.start(b!.status.height, chain.height);
          } else {
            bar.setTotal(b!.status.height);
            bar.update(chain.height);
          }
        } else if (bar) {
          bar.update(chain.height);
          bar.stop();
          bar = undefined;
        }
      };

      const names = nameOf();
      const drain = () => {
        for (const ev of db.events.splice(0)) {
          const j = eventJson(ev);
          if (ev.kind === 'confirmed') {
            summary.confirmed.push(ev.txid);
            say(`${c.green('confirmed')} payment ${ev.txid} in block ${ev.block.height} (${shortHash(ev.block.hash)})`, j);
          } else if (ev.kind === 'unconfirmed') {
            summary.unconfirmed.push(ev.txid);
            say(`${c.yellow('pending again')}: payment ${ev.txid} (its block ${ev.height} was replaced by a reorganisation)`, j);
          } else if (ev.kind === 'failed') {
            summary.failed.push(ev.txid);
            ctx.io.err(`${c.red('failed')}: payment ${ev.txid}: ${ev.detail}`);
            if (streamJson) ctx.io.out(JSON.stringify(j));
          } else if (ev.kind === 'revived') {
            say(`${c.yellow('pending again')}: payment ${ev.txid} (the transaction that beat it was reorganised away)`, j);
          } else {
            summary.received += ev.amount;
            const who = ev.pkhs.map((h) => names.get(h) ?? encodeAddress(fromHex(h), s.params.addressVersion)).join(', ');
            if (!once) say(`received ${formatCoins(ev.amount)} on ${who} in block ${ev.block.height}${ev.coinbase ? ' (mined reward)' : ''}`, j);
          }
        }
      };

      // ---------------------------------------------------------------- rebroadcasting
      const announced = new Set<string>();
      let broadcastFailures = 0;
      const rebroadcast = async (): Promise<number> => {
        const pending = db.pendingPayments();
        for (const p of pending) {
          if (!announced.has(p.txid)) {
            announced.add(p.txid);
            if (!once) say(`broadcasting pending payment ${p.txid}`, { event: 'broadcast', txid: p.txid });
          }
          try {
            await sendOnce(s.params, MsgType.Tx, Buffer.from(p.raw, 'hex'), s.transactionPort, txDestinations(s));
          } catch (e) {
            if (broadcastFailures++ === 0) warn(`broadcast failed: ${(e as Error).message}`);
          }
        }
        return pending.length;
      };
      let ticking = false;
      const tick = async () => {
        if (ticking) return;
        ticking = true;
        try {
          const r = db.ensureIndex(pkhs());
          if (r.added || r.removed || r.rebuilt) {
            const fresh = nameOf();
            for (const [k, v] of fresh) names.set(k, v);
            say(`key set changed: coin index updated`, { event: 'rescan', added: r.added, removed: r.removed });
          }
          drain();
          await rebroadcast();
        } catch (e) {
          warn((e as Error).message);
        } finally {
          ticking = false;
        }
      };

      // ---------------------------------------------------------------- events
      let check = () => {};
      n.on('status', () => {
        heard = true;
        saveBest();
        progress();
        check();
      });
      n.on('update', (u) => {
        if (!once && !farBehind()) {
          if (u.disconnected.length) say(`reorganisation: ${u.disconnected.length} block(s) replaced`, { event: 'reorg', disconnected: u.disconnected.length });
          for (const x of u.connected) {
            const hash = hashToHex(x.entry.hash);
            say(`block ${x.entry.height} ${shortHash(hash)} (${x.block.txs.length} tx)`, { event: 'block', height: x.entry.height, hash });
          }
        }
        drain();
        progress();
        check();
      });
      n.on('synced', () => check());

      await n.start(false);
      if (!once) {
        say(`syncing ${s.network} from height ${chain.height}; listening for miners on UDP port ${s.statusPort}; Ctrl-C to stop`, { event: 'start', height: chain.height, network: s.network });
        await tick();
        const t = setInterval(() => void tick(), s.transactionBroadcastIntervalSeconds * 1000);
        timers.push(t);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await stopNode();
        drain();
        progress();
        say(`stopped at height ${chain.height}`, { event: 'stop', height: chain.height });
        return 0;
      }

      // --once: until caught up with the best work announced after at least one status. The timeout
      // bounds waiting: for a first status, and then for progress (a long catch-up that keeps
      // connecting blocks is not cut off half-way).
      const finished = await new Promise<'synced' | 'timeout' | 'aborted'>((resolve) => {
        let t: NodeJS.Timeout | undefined;
        const arm = () => {
          if (t) clearTimeout(t);
          t = setTimeout(() => resolve('timeout'), timeoutS * 1000);
          timers.push(t);
        };
        arm();
        ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
        let lastHeight = chain.height;
        check = () => {
          if (heard && caughtUp()) resolve('synced');
          else if (chain.height !== lastHeight) {
            lastHeight = chain.height;
            arm();
          }
        };
        check();
      });
      const problem = lastProblem;
      check = () => {};
      await stopNode();
      drain();
      progress();
      db.ensureIndex(pkhs());
      summary.rebroadcast = await rebroadcast();
      bar?.stop();
      bar = undefined;
      const b = best();
      const pendingNow = db.pendingPayments().length;
      const out = {
        height: chain.height,
        tip: hashToHex(chain.tip.hash),
        blocks: chain.height - startHeight,
        bestHeard: b ? { height: b.status.height, miners: n.activePeers().length } : null,
        synced: heard && caughtUp(),
        pending: pendingNow,
        rebroadcast: summary.rebroadcast,
        confirmed: summary.confirmed,
        failed: summary.failed,
        unconfirmed: summary.unconfirmed,
      };
      if (ctx.json) printJson(ctx, out);
      else {
        const miners = n.activePeers().length;
        const heardText = b ? `best heard height ${b.status.height} from ${miners} miner${miners === 1 ? '' : 's'}` : 'no miner heard';
        ctx.io.out(`${out.synced ? c.green('synced') : c.yellow('not synced')}: height ${out.height} (tip ${shortHash(out.tip)}), ${out.blocks} new block${out.blocks === 1 ? '' : 's'}; ${heardText}`);
        ctx.io.out(`payments: ${pendingNow} pending${summary.rebroadcast ? ` (rebroadcast)` : ''}, ${summary.confirmed.length} confirmed now, ${summary.failed.length} failed now${summary.unconfirmed.length ? `, ${summary.unconfirmed.length} back to pending` : ''}`);
      }
      if (finished === 'aborted') return 130;
      if (!heard) throw new CliError(`no miner heard on UDP port ${s.statusPort} within ${timeoutS} s: is a miner of network ${s.network} running and reachable (broadcastAddress ${s.broadcastAddress}, peers ${s.peers.length ? s.peers.join(', ') : 'none'})?`);
      if (!out.synced) {
        const why = problem ? `; last problem: ${problem}` : '';
        throw new CliError(`could not catch up (no progress for ${timeoutS} s): at height ${out.height}, best heard ${b?.status.height ?? '?'} from ${b?.key ?? '?'}${why}`);
      }
      return 0;
    } finally {
      for (const t of timers) clearTimeout(t);
      bar?.stop();
      await stopNode();
      db.close();
    }
  },
};

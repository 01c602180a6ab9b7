// sync: follows the best chain. A ChainNode (no block server) over the wallet's LMDB chain store
// hears miners' status broadcasts, fetches headers then blocks from the one announcing the most
// work and validates them fully, reorganising as needed; the wallet's commit hook keeps coins,
// history and payment states in the same transactions. Pending payments are rebroadcast every
// transactionBroadcastIntervalSeconds until mined. Beside the node, a UdpChannel on the transaction
// port hears everyone's transactions: those paying our keys are validated against our own chain
// and kept as incoming pending payments until mined (incoming.ts). Runs until Ctrl-C, or with
// --once until caught up with the best chain heard (bounded by --timeout: no miner heard, or no
// progress, for that long).
import cliProgress from 'cli-progress';
import { Chain } from '../../shared/core/chain.js';
import { type CliCommand, CliError } from '../../shared/node/cli.js';
import { MsgType } from '../../shared/node/net/protocol.js';
import { type PeerInfo, ChainNode } from '../../shared/node/net/node.js';
import { UdpChannel, sendOnce } from '../../shared/node/net/udp.js';
import { LmdbChainStore } from '../../shared/node/store/lmdb-store.js';
import { encodeAddress } from '../../shared/core/address.js';
import { fromHex, hashToHex } from '../../shared/core/bytes.js';
import { type Tx, decodeTx, txid } from '../../shared/core/tx.js';
import { formatCoins, formatSigned } from '../amount.js';
import { type WalletEvent, WalletDb } from '../db.js';
import { examineIncoming } from '../incoming.js';
import { localKeys, openKeys } from '../keys.js';
import { colours, isTerminal, printJson, shortHash } from '../terminal.js';
import { chainDir, createWalletHint } from '../datadir.js';
import { txDestinations } from './send.js';
import { opensslVerifier } from '../../shared/node/verifier.js';

/** Behind by more than this many blocks: a progress bar (on a terminal) instead of a line per block. */
const FAR_BEHIND = 20;

function eventJson(ev: WalletEvent): Record<string, unknown> {
  switch (ev.kind) {
    case 'confirmed':
      return { event: 'confirmed', txid: ev.txid, height: ev.block.height, blockHash: ev.block.hash, ...(ev.incoming ? { incoming: true, amount: formatCoins(ev.incoming.amount) } : {}) };
    case 'unconfirmed':
      return { event: 'unconfirmed', txid: ev.txid, height: ev.height };
    case 'failed':
      return { event: 'failed', txid: ev.txid, reason: ev.detail };
    case 'revived':
      return { event: 'revived', txid: ev.txid };
    case 'received':
      return { event: 'received', txid: ev.txid, amount: formatCoins(ev.amount), height: ev.block.height, coinbase: ev.coinbase };
    case 'incoming':
      return { event: 'incoming', txid: ev.txid, amount: formatCoins(ev.amount), from: ev.from };
    case 'incoming-dropped':
      return { event: 'incoming-dropped', txid: ev.txid, reason: ev.reason, detail: ev.detail };
  }
}

export const sync: CliCommand = {
  name: 'sync',
  readsDataDir: createWalletHint,
  describe: 'follow the best chain, track payments, rebroadcast pending ones and hear incoming ones (until Ctrl-C)',
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
    let txChannel: UdpChannel | undefined;
    const stopListening = async () => {
      const x = txChannel;
      txChannel = undefined;
      await x?.close();
    };
    let bar: cliProgress.SingleBar | undefined;
    const timers: NodeJS.Timeout[] = [];
    let lastProblem: string | undefined;
    try {
      const chain = new Chain(s.params, store, { verifier: opensslVerifier });
      const rescan = db.ensureIndex(pkhs());
      if (rescan.rebuilt) say(`rebuilt the wallet index from the local chain`);
      else if (rescan.added) say(`scanned the local chain for ${rescan.added} new key${rescan.added === 1 ? '' : 's'}`);
      db.pruneIncoming();
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
      const summary = { confirmed: [] as string[], failed: [] as string[], unconfirmed: [] as string[], received: 0n, rebroadcast: 0, incoming: [] as string[] };
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
      const who = (pkhs: readonly string[]) => pkhs.map((h) => names.get(h) ?? encodeAddress(fromHex(h), s.params.addressVersion)).join(', ');
      const drain = () => {
        for (const ev of db.events.splice(0)) {
          const j = eventJson(ev);
          if (ev.kind === 'confirmed') {
            summary.confirmed.push(ev.txid);
            const inc = ev.incoming ? `: incoming ${formatSigned(ev.incoming.amount)} to ${who(ev.incoming.pkhs)}` : '';
            say(`${c.green('confirmed')} payment ${ev.txid} in block ${ev.block.height} (${shortHash(ev.block.hash)})${inc}`, j);
          } else if (ev.kind === 'unconfirmed') {
            summary.unconfirmed.push(ev.txid);
            say(`${c.yellow('pending again')}: payment ${ev.txid} (its block ${ev.height} was replaced by a reorganisation)`, j);
          } else if (ev.kind === 'failed') {
            summary.failed.push(ev.txid);
            ctx.io.err(`${c.red('failed')}: payment ${ev.txid}: ${ev.detail}`);
            if (streamJson) ctx.io.out(JSON.stringify(j));
          } else if (ev.kind === 'revived') {
            say(`${c.yellow('pending again')}: payment ${ev.txid} (the transaction that beat it was reorganised away)`, j);
          } else if (ev.kind === 'incoming') {
            summary.incoming.push(ev.txid);
            say(`incoming payment ${c.green(formatSigned(ev.amount))} to ${who(ev.pkhs)} from ${ev.from ?? 'an unknown address'}, ${c.yellow('pending')}; txid ${ev.txid}`, j);
          } else if (ev.kind === 'incoming-dropped') {
            say(`${c.yellow('dropped')} incoming payment ${ev.txid}: ${ev.detail}`, j);
          } else {
            summary.received += ev.amount;
            if (!once) say(`received ${formatCoins(ev.amount)} on ${who(ev.pkhs)} in block ${ev.block.height}${ev.coinbase ? ' (mined reward)' : ''}`, j);
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
          db.pruneIncoming();
          drain();
          await rebroadcast();
        } catch (e) {
          warn((e as Error).message);
        } finally {
          ticking = false;
        }
      };

      // ---------------------------------------------------------------- events
      // With --once: ends the wait when caught up (set below); a no-op otherwise.
      let checkOnceDone = () => {};
      n.on('status', () => {
        heard = true;
        saveBest();
        progress();
        checkOnceDone();
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
        checkOnceDone();
      });
      n.on('synced', () => checkOnceDone());

      // ---------------------------------------------------------------- incoming payments
      const heardStats = { frames: 0, undecodable: 0, notOurs: 0, known: 0, invalid: 0, conflicting: 0, recorded: 0 };
      /** txid -> tip (hex) at which it failed: not checked again (no signature work) until the tip moves. */
      const rejectedAt = new Map<string, string>();
      const onTx = (payload: Uint8Array) => {
        if (!txChannel) return;
        heardStats.frames++;
        let tx: Tx;
        try {
          tx = decodeTx(payload);
        } catch {
          heardStats.undecodable++;
          txChannel.drop('payload');
          return;
        }
        try {
          const tip = chain.tip;
          const id = hashToHex(txid(tx));
          if (rejectedAt.get(id) === tip.hashHex) return;
          const ex = examineIncoming(db, tx, {
            params: s.params,
            view: store,
            tipHeight: tip.height,
            medianTimePast: chain.medianTimePast(tip),
            minRelayFeeRate: s.minRelayFeeRate,
            keyset: new Set(db.keyset()),
            now: Date.now(),
          });
          if (ex.kind === 'not-ours') {
            heardStats.notOurs++;
            return;
          }
          if (ex.kind === 'known') {
            heardStats.known++;
            return;
          }
          let reason: string;
          let pays: readonly string[];
          if (ex.kind === 'valid') {
            const r = db.putIncoming(ex.record);
            if (r.stored) {
              heardStats.recorded++;
              drain();
              return;
            }
            heardStats.conflicting++;
            reason = r.reason;
            pays = ex.record.toPkhs;
          } else {
            heardStats.invalid++;
            reason = ex.reason;
            pays = ex.pkhs;
          }
          if (rejectedAt.size >= 10_000) rejectedAt.clear();
          rejectedAt.set(id, tip.hashHex);
          if (verbose) ctx.io.err(`ignored transaction ${id} paying ${who(pays)}: ${reason}`);
        } catch (e) {
          warn(`incoming transaction: ${(e as Error).message}`);
        }
      };
      const ch = new UdpChannel(s.params, { port: s.transactionPort, broadcastAddress: s.broadcastAddress, peers: s.peers }, (type, payload) => {
        if (type === MsgType.Tx) onTx(payload);
        else ch.drop('type');
      });
      try {
        await ch.listening();
        txChannel = ch;
      } catch (e) {
        await ch.close();
        warn(`cannot listen for incoming payments on UDP port ${s.transactionPort}: ${(e as Error).message}`);
      }
      const heardSummary = () => {
        if (!verbose) return;
        const d = heardStats;
        ctx.io.err(`transaction port ${s.transactionPort}: ${d.frames} transaction(s) heard, ${d.undecodable} undecodable, ${d.notOurs} not ours, ${d.known} known, ${d.invalid} invalid, ${d.conflicting} conflicting, ${d.recorded} incoming recorded`);
      };

      await n.start(false);
      if (!once) {
        say(`syncing ${s.network} from height ${chain.height}; listening for miners on UDP port ${s.statusPort}${txChannel ? ` and for payments on UDP port ${s.transactionPort}` : ''}; Ctrl-C to stop`, { event: 'start', height: chain.height, network: s.network });
        await tick();
        const t = setInterval(() => void tick(), s.transactionBroadcastIntervalSeconds * 1000);
        timers.push(t);
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) return resolve();
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await stopNode();
        await stopListening();
        heardSummary();
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
        checkOnceDone = () => {
          if (heard && caughtUp()) resolve('synced');
          else if (chain.height !== lastHeight) {
            lastHeight = chain.height;
            arm();
          }
        };
        checkOnceDone();
      });
      const problem = lastProblem;
      checkOnceDone = () => {};
      await stopNode();
      await stopListening();
      heardSummary();
      drain();
      progress();
      db.ensureIndex(pkhs());
      summary.rebroadcast = await rebroadcast();
      bar?.stop();
      bar = undefined;
      const b = best();
      const pendingNow = db.pendingPayments().length;
      const incomingNow = db.incomingPending().length;
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
        incomingPending: incomingNow,
        incomingHeard: summary.incoming,
      };
      if (ctx.json) printJson(ctx, out);
      else {
        const miners = n.activePeers().length;
        const heardText = b ? `best heard height ${b.status.height} from ${miners} miner${miners === 1 ? '' : 's'}` : 'no miner heard';
        ctx.io.out(`${out.synced ? c.green('synced') : c.yellow('not synced')}: height ${out.height} (tip ${shortHash(out.tip)}), ${out.blocks} new block${out.blocks === 1 ? '' : 's'}; ${heardText}`);
        ctx.io.out(`payments: ${pendingNow} pending${summary.rebroadcast ? ` (rebroadcast)` : ''}, ${summary.confirmed.length} confirmed now, ${summary.failed.length} failed now${summary.unconfirmed.length ? `, ${summary.unconfirmed.length} back to pending` : ''}${incomingNow || summary.incoming.length ? `; incoming: ${incomingNow} pending (${summary.incoming.length} heard now)` : ''}`);
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
      await stopListening();
      await stopNode();
      db.close();
    }
  },
};

// Miners and a wallet on three "hosts" (Linux network namespaces on one switched /24), talking over
// real subnet broadcast (10.213.x.255) on the default ports. The wallet (`mvb-wallet`, run as
// separate processes on h3 with its own data directory) owns the address every miner pays its
// rewards to: a payment it sends is mined and confirmed on all hosts and the wallet reports it
// confirmed; a host cut off from the switch (h3, with the wallet) mines its own branch with the
// wallet's payment in it, and when the cable is back it reorganises to the heavier chain, the
// wallet sees its payment pending again and rebroadcasts it, and it is mined there exactly once.
// Needs root and iproute2. As a normal user the suite is reported as skipped, its title saying why;
// as root (CI) it runs, and a missing iproute2 fails it (so a broken CI setup is visible).
import assert from 'node:assert/strict';
import { encodeAddress } from '../src/shared/core/address.js';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import { outpointKey } from '../src/shared/core/outpoint.js';
import { type Block } from '../src/shared/core/block.js';
import { loadSettings, type Settings } from '../src/shared/node/cli/config.js';
import { publicKeyOf } from '../src/shared/core/ecdsa.js';
import { hash160 } from '../src/shared/core/hash.js';
import { headerHash } from '../src/shared/core/header.js';
import { blockSubsidy } from '../src/shared/core/params.js';
import { p2pkhHash } from '../src/shared/core/script.js';
import { type Tx, txid } from '../src/shared/core/tx.js';
import { formatCoins, parseCoins } from '../src/shared/core/amount.js';
import {
  HostCommands,
  type HostRun,
  Lan,
  NetnsAgent,
  StatusView,
  cleanupLeftovers,
  listNamespaces,
  netnsUnavailable,
} from './kit/netns.js';
import { type MinerProc, WALLET_BIN, removeDir, startMiner, stopProcGroup, tempDir, waitFor, waitForAsync } from './kit/procs.js';
import { printSuiteSkipped } from './kit/skip.js';

/** Per miner; a block at the easiest devnet target takes ~65536 hashes, so 3 miners make ~1 block/s. */
const MAX_HASHRATE = 25_000;
/** Where the wallet pays: an address of nobody in this test. */
const CAROL_PKH = hash160(publicKeyOf(new Uint8Array(32).fill(9)));
const AMOUNT = '12.5';
/** The wallet runs on h3 (the host the partition test cuts off). */
const WALLET_HOST = 2;

const blockId = (b: Block) => hashToHex(headerHash(b.header));

/** Where a transaction sits in a chain (blocks after genesis): height, block hash and the tx, once per occurrence. */
function locate(chain: readonly Block[], id: string): { height: number; block: string; tx: Tx }[] {
  const out: { height: number; block: string; tx: Tx }[] = [];
  chain.forEach((b, i) => {
    for (const t of b.txs) if (hashToHex(txid(t)) === id) out.push({ height: i + 1, block: blockId(b), tx: t });
  });
  return out;
}

/** Outpoints spent anywhere in a chain. */
function spentIn(chain: readonly Block[]): Set<string> {
  const s = new Set<string>();
  for (const b of chain) for (const t of b.txs.slice(1)) for (const i of t.inputs) s.add(outpointKey(i.prevTxid, i.vout));
  return s;
}

/** `mvb-wallet sync --once --json`. */
interface SyncSummary {
  height: number;
  tip: string;
  synced: boolean;
  pending: number;
  rebroadcast: number;
  confirmed: string[];
  failed: string[];
  unconfirmed: string[];
}

/** `mvb-wallet status <txid> --json`. */
interface TxStatus {
  txid: string;
  status: 'pending' | 'confirmed' | 'failed';
  blockHash: string | null;
  height: number | null;
  confirmations: number;
  reason?: string;
}

const since = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const note = (msg: string) => console.log(`      · ${msg}`);

/** Why the suite cannot run for this user, if so: namespaces need root. */
const NOT_ROOT =
  typeof process.getuid === 'function' && process.getuid() !== 0
    ? 'skipped: needs root to create network namespaces (CI runs it as root; sudo npm test here)'
    : undefined;

const multiHost = (NOT_ROOT ? describe.skip : describe)(
  `multi-host network (3 network namespaces on a bridge, subnet broadcast; miners and a wallet)${NOT_ROOT ? ` [${NOT_ROOT}]` : ''}`,
  function () {
    this.timeout(180_000);
    let lan: Lan | undefined;
    let settings: Settings;
    const agents: NetnsAgent[] = [];
    const miners: MinerProc[] = [];
    const dirs: string[] = [];
    const view = new StatusView();
    let nodeIds: string[] = [];
    let hostCmds: HostCommands | undefined;
    let walletDir: string | undefined;
    /** One line per wallet command run, for the record. */
    const walletRuns: string[] = [];
    let carol = '';

    before(async function () {
      this.timeout(90_000);
      const why = netnsUnavailable();
      if (why)
        throw new Error(
          `cannot build the multi-host test network: ${why}. This suite needs Linux, root and iproute2 (ip netns); as root it fails rather than skips so a broken setup is visible.`,
        );
      const left = cleanupLeftovers();
      if (left.removed.length) note(`removed namespaces left by a crashed run: ${left.removed.join(', ')}`);
      for (const w of left.warnings) note(`warning: ${w}`);
      try {
        lan = Lan.create(3);
      } catch (e) {
        throw new Error(`cannot build the multi-host test network: ${(e as Error).message}`);
      }
      hostCmds = new HostCommands(lan);
      const base = loadSettings({ network: 'devnet' });
      const sets = { broadcastAddress: lan.broadcast };
      settings = loadSettings({ network: 'devnet', sets: [`broadcastAddress=${lan.broadcast}`] });
      carol = encodeAddress(CAROL_PKH, settings.params.addressVersion);
      note(
        `LAN ${lan.net24}.0/24 broadcast ${lan.broadcast}, namespaces ${lan.id}-{sw,h1,h2,h3}; ports status ${base.statusPort}/udp tx ${base.transactionPort}/udp blocks ${base.blockServerPort}/tcp`,
      );
      for (const h of lan.hosts) agents.push(await NetnsAgent.start(lan, h, sets, (s) => view.add(s)));
      walletDir = tempDir('netns-wallet');
      const alice = await walletJson<{ name: string; address: string }>(['new-address', 'alice']);
      assert.equal(alice.name, 'alice');
      note(`wallet on h3 (datadir ${walletDir}): alice ${alice.address}; every miner pays its rewards there`);
      await Promise.all(
        lan.hosts.map(async (h) => {
          const dir = tempDir(`netns-${h.name}`);
          dirs.push(dir);
          const m = await startMiner({
            ports: { statusPort: base.statusPort, transactionPort: base.transactionPort },
            datadir: dir,
            wrap: lan!.exec(h),
            sets: { ...sets, blockServerPort: base.blockServerPort, maxHashrate: MAX_HASHRATE },
            args: ['--address', alice.address],
          });
          miners.push(m);
        }),
      );
      // startMiner resolves in any order; keep miners in host order.
      miners.sort((a, b) => dirs.indexOf(a.datadir) - dirs.indexOf(b.datadir));
      nodeIds = miners.map((m) => m.info.nodeId);
      for (const m of miners) {
        assert.equal(m.info.port, base.blockServerPort);
        assert.equal(m.info.rewardAddress, alice.address);
      }
    });

    after(async function () {
      this.timeout(60_000);
      // Wallet commands still running (a test failed mid-command) first, then miners and agents.
      await hostCmds?.stopAll();
      await Promise.allSettled(miners.map((m) => stopProcGroup(m)));
      await Promise.allSettled(agents.map((a) => a.stop()));
      // A line per miner for the record: what it did and anything that went wrong on the network.
      for (const [i, m] of miners.entries()) {
        const out = m.output();
        const count = (re: RegExp) => (out.match(re) ?? []).length;
        const stopping = /stopping: .*/.exec(out)?.[0] ?? `no clean stop (exit ${m.child.exitCode ?? m.child.signalCode})`;
        note(
          `h${i + 1} miner: ${stopping}; reorgs ${count(/reorganised:/g)}, sync failures ${count(/sync with .* (failed|stopped)/g)}, bans ${count(/ignoring .* for \d+s/g)}, own blocks rejected ${count(/own block rejected/g)}`,
        );
      }
      if (walletRuns.length) note(`h3 wallet: ${walletRuns.join('; ')}`);
      const errors = lan?.destroy() ?? [];
      for (const d of dirs) removeDir(d);
      if (walletDir) removeDir(walletDir);
      if (lan) {
        const still = listNamespaces().filter((n) => n.startsWith(lan!.id + '-'));
        assert.deepEqual(still, [], `namespaces not removed: ${still.join(', ')} ${errors.join('; ')}`);
      }
    });

    /** Host i's active chain, fetched from inside host i from its own LAN address. */
    const chainOf = (i: number) => agents[i]!.chain(lan!.hosts[i]!.ip, settings.blockServerPort);
    const statuses = (idx: readonly number[]) => idx.map((i) => view.of(nodeIds[i]!));

    /**
     * Runs `mvb-wallet <args>` on h3 with the wallet's data directory, on devnet with the LAN's
     * broadcast address (every port the default one, as the miners'); fails unless it exits 0.
     */
    async function wallet(args: readonly string[], timeoutMs = 30_000): Promise<HostRun> {
      const argv = [
        process.execPath,
        WALLET_BIN,
        '--network',
        'devnet',
        '--datadir',
        walletDir!,
        '--set',
        `broadcastAddress=${lan!.broadcast}`,
        ...args,
      ];
      const r = await hostCmds!.run(lan!.hosts[WALLET_HOST]!, argv, { timeoutMs, env: { PATH: process.env['PATH'], NO_COLOR: '1' } });
      walletRuns.push(
        `${args
          .filter((a) => a !== '--json')
          .join(' ')
          .replace(/[0-9a-f]{64}/g, (h) => h.slice(0, 8) + '…')} ${r.timedOut ? 'timed out' : `exit ${r.code}`} ${r.ms} ms`,
      );
      // Warnings the wallet printed (a failed broadcast, a peer it gave up on) go on the record too.
      for (const w of r.err.split('\n').filter((l) => /^warning:/.test(l))) walletRuns.push(`  ${w}`);
      const what = r.timedOut ? `did not finish within ${timeoutMs} ms` : `exited ${r.code}`;
      assert.ok(!r.timedOut && r.code === 0, `mvb-wallet ${args.join(' ')} on h3 ${what}:\nstderr: ${r.err}\nstdout: ${r.out}`);
      return r;
    }

    /** A wallet command's --json output. */
    async function walletJson<T>(args: readonly string[], timeoutMs?: number): Promise<T> {
      const r = await wallet([...args, '--json'], timeoutMs);
      try {
        return JSON.parse(r.out) as T;
      } catch {
        assert.fail(`mvb-wallet ${args.join(' ')} --json printed no JSON:\n${r.out}\n${r.err}`);
      }
    }

    /** `sync --once` on h3: caught up with the best chain it heard, no payment failed. */
    async function syncOnce(): Promise<SyncSummary & { ms: number }> {
      const t0 = Date.now();
      const s = { ...(await walletJson<SyncSummary>(['sync', '--once', '--timeout', '20'], 40_000)), ms: Date.now() - t0 };
      assert.ok(s.synced, `wallet sync --once did not catch up: ${JSON.stringify(s)}`);
      assert.deepEqual(s.failed, [], `wallet payments failed: ${JSON.stringify(s)}`);
      return s;
    }

    const walletStatus = (id: string) => walletJson<TxStatus>(['status', id]);

    /** `send alice AMOUNT carol` on h3: the txid it prints. */
    async function pay(): Promise<string> {
      const r = await wallet(['send', 'alice', AMOUNT, carol]);
      const id = r.out.trim();
      assert.match(id, /^[0-9a-f]{64}$/, `send printed no txid: ${r.out}\n${r.err}`);
      return id;
    }

    /** The wallet's payment as mined: exactly one output, of AMOUNT, to carol. */
    function checkPayment(tx: Tx): void {
      const toCarol = tx.outputs.filter((o) => toHex(p2pkhHash(o.scriptPubKey) ?? new Uint8Array()) === toHex(CAROL_PKH));
      assert.equal(toCarol.length, 1, 'one output to carol');
      assert.equal(toCarol[0]!.value, parseCoins(AMOUNT));
    }

    /** Waits until every listed host has the tx in its active chain exactly once, all in the same block. */
    async function minedEverywhere(
      idx: readonly number[],
      id: string,
      timeoutMs: number,
      minConfirmations = 1,
    ): Promise<{ height: number; block: string; tx: Tx }> {
      let last = '';
      const r = await waitForAsync(
        async () => {
          const chains = await Promise.all(idx.map(chainOf));
          const locs = chains.map((c) => locate(c, id));
          last = idx
            .map(
              (i, k) =>
                `h${i + 1}: height ${chains[k]!.length}, tx at ${JSON.stringify(locs[k]!.map(({ height, block }) => ({ height, block })))}`,
            )
            .join('; ');
          if (locs.some((l) => l.length > 1)) return { twice: last };
          if (locs.some((l) => l.length === 0)) return undefined;
          if (!locs.every((l) => l[0]!.block === locs[0]![0]!.block)) return undefined;
          const at = locs[0]![0]!;
          if (chains.some((c) => c.length - at.height + 1 < minConfirmations)) return undefined;
          return { at };
        },
        timeoutMs,
        () => `tx ${id} not mined in one block on ${idx.map((i) => `h${i + 1}`).join(', ')}: ${last}`,
        500,
      );
      if ('twice' in r) assert.fail(`tx ${id} is in a chain more than once: ${r.twice}`);
      return r.at;
    }

    it('a payment sent by the wallet on one host is mined and confirmed on every host, in the same block, and the wallet reports it confirmed', async () => {
      const params = settings.params;
      const maturity = params.coinbaseMaturity;
      const t0 = Date.now();
      const conv = await view.converged(nodeIds, maturity + 2, 60_000);
      note(
        `3 miners converged at height ${conv.height} after ${since(t0)}; all statuses came from ${[...new Set([...view.latest.values()].map((s) => s.from))].sort().join(', ')}`,
      );

      // The wallet catches up and sees the rewards: every block's, the oldest of them mature.
      const synced = await syncOnce();
      assert.ok(synced.height >= maturity + 2, `wallet synced to height ${synced.height}`);
      let rewards = 0n;
      let immature = 0n;
      for (let h = 1; h <= synced.height; h++) {
        rewards += blockSubsidy(h, params);
        if (h + maturity > synced.height + 1) immature += blockSubsidy(h, params);
      }
      const list = await walletJson<{ name: string; balance: string; pending: string }[]>(['list-addresses']);
      const acct = list[0];
      assert.equal(list.length, 1);
      assert.equal(acct?.name, 'alice');
      assert.equal(acct.balance, formatCoins(rewards), `alice holds the reward of every block up to the wallet's tip ${synced.height}`);
      const listed = (await wallet(['list-addresses'])).out;
      assert.ok(listed.includes(`of which ${formatCoins(immature)} are mined rewards not yet mature`), `list-addresses:\n${listed}`);
      note(
        `wallet synced to height ${synced.height} in ${synced.ms} ms: alice has ${formatCoins(rewards)}, ${formatCoins(rewards - immature)} of it mature`,
      );

      const t1 = Date.now();
      const id = await pay();
      const at = await minedEverywhere([0, 1, 2], id, 60_000);
      checkPayment(at.tx);
      note(
        `wallet payment ${id.slice(0, 16)} sent on h3 was mined at height ${at.height} and seen in that block on all 3 hosts after ${since(t1)}`,
      );
      // Every miner heard the wallet's broadcast itself (not only the block that holds it).
      for (const [i, m] of miners.entries()) {
        await waitFor(
          () => m.output().includes(`mempool +${id.slice(0, 16)}`),
          5000,
          () => `h${i + 1} never logged the tx in its mempool:\n${m.output().slice(-1500)}`,
        );
      }

      // The wallet follows: confirmed in that block, with at least one confirmation.
      const after = await syncOnce();
      assert.ok(after.confirmed.includes(id), `the wallet's sync did not report ${id} confirmed: ${JSON.stringify(after)}`);
      const st = await walletStatus(id);
      assert.equal(st.status, 'confirmed', JSON.stringify(st));
      assert.equal(st.blockHash, at.block);
      assert.equal(st.height, at.height);
      assert.ok(st.confirmations >= 1, `confirmations ${st.confirmations}`);
      assert.equal(st.confirmations, after.height - at.height + 1);
      note(`wallet status: ${st.status} at height ${st.height}, ${st.confirmations} confirmation(s)`);
    });

    it("a partition: the cut-off host mines its own branch with the wallet's payment, then reorganises to the heavier chain and the wallet's payment is mined there exactly once", async () => {
      const maturity = settings.params.coinbaseMaturity;
      const h3 = lan!.hosts[2]!;
      const [m1, m2, m3] = miners;
      const conv = await view.converged(nodeIds, maturity + 3, 60_000);
      lan!.cut(h3);
      const tCut = Date.now();
      note(`cut h3 (${h3.ip}) off at height ${conv.height}`);

      // The wallet on the cut-off side (it hears h3's miner only) pays: mined there, never heard on the other.
      const cutSync = await syncOnce();
      const id = await pay();
      const minority = await minedEverywhere([2], id, 60_000);
      checkPayment(minority.tx);
      note(
        `wallet (synced to ${cutSync.height}) paid ${id.slice(0, 16)}; h3 mined it at height ${minority.height} (block ${minority.block.slice(0, 16)}) ${since(tCut)} after the cut`,
      );

      // The coins the wallet chose exist on both sides (mature coinbases in the common history), so
      // the payment is valid on the winning side too, and nothing there has spent them.
      const [c1, c3] = await Promise.all([chainOf(0), chainOf(2)]);
      let common = 0;
      while (common < Math.min(c1.length, c3.length) && blockId(c1[common]!) === blockId(c3[common]!)) common++;
      const commonTxs = new Set(c1.slice(0, common).flatMap((b) => b.txs.map((t) => toHex(txid(t)))));
      const spentOnMajority = spentIn(c1);
      for (const inp of minority.tx.inputs) {
        const o = outpointKey(inp.prevTxid, inp.vout);
        assert.ok(
          commonTxs.has(toHex(inp.prevTxid)),
          `the wallet spent ${o}, not in the history both sides share (common height ${common}, wallet at ${cutSync.height})`,
        );
        assert.ok(!spentOnMajority.has(o), `${o} is spent on the majority side`);
      }
      // The wallet sees its payment confirmed on its side of the partition.
      await syncOnce();
      const onMinority = await walletStatus(id);
      assert.equal(onMinority.status, 'confirmed', JSON.stringify(onMinority));
      assert.equal(onMinority.blockHash, minority.block);

      // The two-miner side pulls ahead by at least 2 blocks, with more work.
      const ahead = await waitFor(
        () => {
          const [s1, s2, s3] = statuses([0, 1, 2]);
          if (!s1 || !s2 || !s3) return undefined;
          const low = s1.chainWork < s2.chainWork ? s1 : s2;
          return low.height >= s3.height + 2 && low.chainWork > s3.chainWork ? { majority: low, minority: s3 } : undefined;
        },
        90_000,
        () => `majority did not pull ahead: ${view.describe(nodeIds)}`,
      );
      const majorityChain = await chainOf(0);
      assert.equal(locate(majorityChain, id).length, 0, 'the majority side never saw the payment');
      for (const m of [m1!, m2!]) assert.ok(!m.output().includes(`mempool +${id.slice(0, 16)}`), 'the payment crossed the partition');
      const marks = miners.map((m) => m.output().length);
      lan!.heal(h3);
      const tHeal = Date.now();
      note(`healed ${since(tCut)} after the cut: majority height ${ahead.majority.height}, minority ${ahead.minority.height}`);

      // The minority miner reorganises onto the majority's chain and takes the payment back.
      const reorg = await waitFor(
        () => /reorganised: (\d+) block\(s\) replaced, (\d+) tx returned to the mempool/.exec(m3!.output().slice(marks[2])) ?? undefined,
        60_000,
        () => `h3 did not reorganise:\n${m3!.output().slice(marks[2]).slice(-2000)}`,
      );
      assert.equal(
        reorg[2],
        '1',
        `h3 should return the payment to its mempool: ${reorg[0]}\nh3 since the heal:\n${m3!.output().slice(marks[2]).slice(-3000)}`,
      );
      note(`h3 reorganised ${since(tHeal)} after the heal: ${reorg[0]}`);

      // The wallet catches up with the winning chain: its payment's block is gone, so the payment is
      // pending again and sync rebroadcasts it (the only sender: miners do not relay transactions).
      const healed = await syncOnce();
      assert.ok(healed.unconfirmed.includes(id), `the wallet did not see its payment's block replaced: ${JSON.stringify(healed)}`);
      const rebroadcast = !healed.confirmed.includes(id);
      if (rebroadcast)
        assert.ok(
          healed.pending >= 1 && healed.rebroadcast >= 1,
          `the wallet did not rebroadcast its pending payment: ${JSON.stringify(healed)}`,
        );
      note(
        rebroadcast
          ? `wallet synced to ${healed.height} ${since(tHeal)} after the heal: payment pending again, rebroadcast`
          : `wallet synced to ${healed.height} ${since(tHeal)} after the heal: payment pending again and already re-mined (h3 put it back in its own mempool); nothing to rebroadcast`,
      );

      const winner = await minedEverywhere([0, 1, 2], id, 90_000);
      const minedBy = miners.findIndex((m, i) =>
        m
          .output()
          .slice(marks[i])
          .includes(`mined block ${winner.height} ${winner.block.slice(0, 16)}`),
      );
      const heardBy = [0, 1].filter((i) =>
        miners[i]!.output()
          .slice(marks[i])
          .includes(`mempool +${id.slice(0, 16)}`),
      );
      note(
        `payment mined again at height ${winner.height} by h${minedBy + 1} on the winning chain; on all 3 hosts ${since(tHeal)} after the heal; h1/h2 heard it from the wallet: ${heardBy.map((i) => `h${i + 1}`).join(', ') || 'neither'}`,
      );
      assert.notEqual(winner.block, minority.block);
      assert.ok(minedBy >= 0, `no miner logged mining block ${winner.height} ${winner.block}`);
      // The majority's miners can only have it from the wallet's rebroadcast; if one of them mined
      // it, both heard that broadcast (they hear the same datagram).
      if (minedBy !== 2)
        assert.deepEqual(
          heardBy,
          [0, 1],
          `h${minedBy + 1} mined the payment: both majority miners should have heard the wallet's rebroadcast`,
        );
      const final = await view.converged(nodeIds, winner.height, 60_000);
      note(`all 3 converged on tip ${final.tip.slice(0, 16)} at height ${final.height} ${since(tHeal)} after the heal`);
      const chains = await Promise.all([0, 1, 2].map(chainOf));
      for (const [i, c] of chains.entries()) {
        // The majority's history from before the heal (2+ blocks deep then) is everyone's now.
        const deep = ahead.minority.height;
        assert.equal(blockId(c[deep - 1]!), blockId(majorityChain[deep - 1]!), `h${i + 1} is on the majority's chain`);
        assert.ok(!c.some((b) => blockId(b) === minority.block), `h${i + 1} still has the losing block`);
        assert.equal(locate(c, id).length, 1, `h${i + 1}: mined exactly once`);
      }

      // The wallet agrees: confirmed in the winning chain's block.
      const last = await syncOnce();
      const st = await walletStatus(id);
      assert.equal(st.status, 'confirmed', JSON.stringify(st));
      assert.equal(st.blockHash, winner.block);
      assert.equal(st.height, winner.height);
      assert.ok(st.confirmations >= 1, `confirmations ${st.confirmations}`);
      note(
        `wallet status after sync to ${last.height}: ${st.status} at height ${st.height} (block ${st.blockHash?.slice(0, 16)}), ${st.confirmations} confirmation(s)`,
      );
    });
  },
);
// describe.skip collected its tests without running them: each gets its SKIP line for .ci/run.
if (NOT_ROOT && multiHost) printSuiteSkipped(multiHost, NOT_ROOT);

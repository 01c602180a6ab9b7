// One run of an experiment: builds the emulated network, starts a wallet key and a miner on every
// host (rewards to that host's wallet), a wallet `sync` loop on every host that pays, then plays
// the schedule (payments, partitions, heals, nodes stopped and started) or the attack, stops
// everything, and measures from the event logs. Everything it made is removed in `finally`.
import { mkdirSync } from 'node:fs';
import { type AddressInfo, type Server, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridge } from './explorer-bridge.js';
import { CliError } from '../shared/node/cli/runner.js';
import { monotonicMs } from '../shared/node/events.js';
import { EmulatedNet } from './netns.js';
import { type RunContext, checkAbort, pause } from './context.js';
import { type Analysis, analyse, readEvents } from './analyse.js';
import { type Experiment, linkShapes, meanHopCount, medianLinkDelay } from './experiment.js';
import { type DoubleSpendResult, runDoubleSpend } from './double-spend.js';
import { type SelfishResult, runSelfish } from './selfish.js';
import { BRIDGE_BIN, EXPLORER_BIN, LabProcs, MINER_BIN, type Proc, STOP_GRACE_MS, WALLET_BIN, usage } from './nodes.js';
import { stopProcessGroup } from './process-group.js';

/** Namespaces of the lab are named mvblab-<pid>-<n>-<role>. */
export const LAB_PREFIX = 'mvblab';
/** Expected header hashes per block at the easiest target 0x1f00ffff: 2^256 / (0xffff · 2^224). */
export const HASHES_PER_EASIEST_BLOCK = 2 ** 32 / 0xffff;

export interface PaymentOutcome {
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  readonly txid: string | null;
  /** Heights in the final best chain holding it (exactly one if it was not lost). */
  readonly minedAt: number[];
  /** A reorganisation took it out of a block on some node (it went back to a mempool). */
  readonly returnedByReorg: boolean;
  readonly error?: string;
}

export interface RunResult {
  readonly nodes: number;
  readonly linkDelayMs: number;
  /** Mean shortest path between two hosts, in links (1 on a full mesh). */
  readonly meanHops: number;
  readonly blockIntervalSeconds: number;
  readonly durationSeconds: number;
  readonly analysis: Analysis;
  readonly payments: PaymentOutcome[];
  readonly txPropagationMs: number[];
  readonly usage: { processes: number; cpuSeconds: number; rssMB: number };
  readonly doubleSpend?: DoubleSpendResult;
  readonly selfish?: SelfishResult;
  readonly timeline: string[];
}

async function setup(
  x: Experiment,
  dir: string,
  net: EmulatedNet,
  procs: LabProcs,
  signal: AbortSignal,
  note: (m: string) => void,
): Promise<RunContext> {
  const walletDirs = net.hosts.map((h) => join(dir, h.name, 'wallet'));
  const addresses: string[] = [];
  for (const [i, h] of net.hosts.entries()) {
    const r = await procs.wallet(h, walletDirs[i]!, ['new-address', h.name]);
    const addr = r.out.split(/\s+/)[1];
    if (r.code !== 0 || !addr) throw new CliError(`could not make a wallet key on ${h.name}: ${r.err || r.out}`);
    addresses.push(addr);
  }
  const eventFiles = net.hosts.map((h) => join(dir, 'events', `${h.name}.jsonl`));
  mkdirSync(join(dir, 'events'), { recursive: true });
  const total = HASHES_PER_EASIEST_BLOCK / x.blockIntervalSeconds;
  const miners: (Proc | undefined)[] = net.hosts.map(() => undefined);
  const startMiner = (i: number) => {
    const h = net.hosts[i]!;
    const share = x.hashShares[i]!;
    const mine = share > 0 ? ['--set', `maxHashrate=${Math.max(1, Math.round(share * total))}`] : ['--no-mine'];
    miners[i] = procs.start(`miner ${h.name}`, h, MINER_BIN, [
      '--datadir',
      join(dir, h.name, 'miner'),
      '--threads',
      '1',
      '--address',
      addresses[i]!,
      '--events',
      eventFiles[i]!,
      ...mine,
    ]);
  };
  const ctx: RunContext = { x, net, procs, dir, miners, walletDirs, addresses, eventFiles, t0: monotonicMs(), signal, note, startMiner };
  net.hosts.forEach((_, i) => startMiner(i));
  note(`started ${net.hosts.length} miners (total ${Math.round(total)} H/s, target ${x.blockIntervalSeconds} s per block)`);
  // Wallet sync loops on the hosts that pay: they follow the chain and rebroadcast pending payments.
  const payers = new Set(x.payments.map((p) => p.from));
  for (const i of payers) procs.start(`wallet ${net.hosts[i]!.name}`, net.hosts[i]!, WALLET_BIN, ['--datadir', walletDirs[i]!, 'sync']);
  return ctx;
}

/** Sends one payment from its host's wallet; retries while the coins are not yet mature. */
async function pay(ctx: RunContext, p: Experiment['payments'][number]): Promise<{ txid: string | null; error?: string; t: number }> {
  const h = ctx.net.hosts[p.from]!;
  let last = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const t = monotonicMs();
    const r = await ctx.procs.wallet(h, ctx.walletDirs[p.from]!, ['send', h.name, p.amount, ctx.addresses[p.to]!], 30_000);
    const id = r.out.split('\n')[0]?.trim() ?? '';
    if (r.code === 0 && /^[0-9a-f]{64}$/.test(id)) return { txid: id, t };
    last = (r.err || r.out).split('\n')[0] ?? '';
    if (!/mature|insufficient|not enough|no coins|funds/i.test(last)) break;
    await pause(1000, ctx.signal);
  }
  return { txid: null, error: last, t: monotonicMs() };
}

/** Plays events and payments in time order until the duration (or block count) is reached. */
async function schedule(ctx: RunContext): Promise<{ sent: { idx: number; txid: string | null; error?: string; t: number }[] }> {
  const { x, net } = ctx;
  type Item = { at: number; run: () => Promise<void> };
  const sent: { idx: number; txid: string | null; error?: string; t: number }[] = [];
  const items: Item[] = [
    ...x.events.map((e): Item => ({
      at: e.at,
      run: async () => {
        if (e.type === 'partition') await net.partition(e.groups);
        else if (e.type === 'heal') await net.heal();
        else if (e.type === 'stop') await stopProcessGroup(ctx.miners[e.host]!, 'SIGTERM', STOP_GRACE_MS);
        else ctx.startMiner(e.host);
        ctx.note(
          e.type === 'partition'
            ? `partition ${e.groups.map((g) => g.map((i) => net.hosts[i]!.name).join('+')).join(' | ')}`
            : e.type === 'heal'
              ? 'heal'
              : `${e.type} ${net.hosts[e.host]!.name}`,
        );
      },
    })),
    ...x.payments.map((p, idx): Item => ({
      at: p.at,
      run: async () => {
        const r = await pay(ctx, p);
        sent.push({ idx, ...r });
        // A payment due before its coins matured goes out late: say so, or a partition's payments seem sent during it.
        const late = (r.t - ctx.t0) / 1000 - p.at;
        const when = late > 2 ? ` (due at ${p.at} s: waited ${late.toFixed(1)} s for mature coins)` : '';
        ctx.note(
          r.txid
            ? `payment ${net.hosts[p.from]!.name} -> ${net.hosts[p.to]!.name} ${p.amount}: ${r.txid.slice(0, 16)}${when}`
            : `payment ${idx} failed: ${r.error}`,
        );
      },
    })),
  ].sort((a, b) => a.at - b.at);
  const running: Promise<void>[] = [];
  for (;;) {
    const elapsed = (monotonicMs() - ctx.t0) / 1000;
    while (items.length && items[0]!.at <= elapsed) running.push(items.shift()!.run());
    if (elapsed >= x.durationSeconds && !items.length) break;
    if (x.blocks !== undefined && !items.length) {
      const heights = ctx.eventFiles.map((f) => lastTipHeight(f));
      if (Math.max(...heights) >= x.blocks) break;
    }
    await pause(250, ctx.signal);
  }
  await Promise.all(running);
  return { sent };
}

/** After the last scheduled item, at most this long for every sent payment to settle (ms). */
export const SETTLE_MS = 30_000;

/** The txids a node's log leaves in its active chain: each joined in more blocks than it left. */
export function activeChainTxids(file: string): Set<string> {
  const depth = new Map<string, number>();
  for (const e of readEvents(file).events) {
    const step = e.ev === 'connected' ? 1 : e.ev === 'disconnected' ? -1 : 0;
    if (step !== 0) for (const id of e.txids ?? []) depth.set(id, (depth.get(id) ?? 0) + step);
  }
  return new Set([...depth].filter(([, d]) => d > 0).map(([id]) => id));
}

/**
 * Waits (bounded by SETTLE_MS) until every sent payment is in the active chain of every running
 * miner, so the outcome measures what the network did, not how the last seconds fell (a payment
 * returned by a late reorganisation is mined again within a few blocks). Returns the time waited.
 */
async function settlePayments(ctx: RunContext, txids: readonly string[]): Promise<number> {
  const t0 = monotonicMs();
  const running = (p: Proc | undefined) => p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  const files = ctx.eventFiles.filter((_, i) => running(ctx.miners[i]));
  const settled = () =>
    files.every((f) => {
      const active = activeChainTxids(f);
      return txids.every((id) => active.has(id));
    });
  while (!settled() && monotonicMs() - t0 < SETTLE_MS) await pause(500, ctx.signal);
  return monotonicMs() - t0;
}

/** The height of the last tip a node logged (0 before any). */
export function lastTipHeight(file: string): number {
  const ev = readEvents(file).events;
  for (let i = ev.length - 1; i >= 0; i--) if (ev[i]!.ev === 'tip') return ev[i]!.height ?? 0;
  return 0;
}

type Sent = Awaited<ReturnType<typeof schedule>>['sent'];

/** Plays the experiment: its attack, or its schedule of payments and events (selfish mining runs beside the schedule). */
async function play(ctx: RunContext): Promise<{ doubleSpend?: DoubleSpendResult; selfish?: SelfishResult; sent: Sent }> {
  const attack = ctx.x.attack;
  if (attack?.type === 'double-spend') return { doubleSpend: await runDoubleSpend(ctx, attack), sent: [] };
  if (attack?.type === 'selfish') {
    const played = schedule(ctx);
    const [selfish, { sent }] = await Promise.all([runSelfish(ctx, attack.miner, played), played]);
    return { selfish, sent };
  }
  return { sent: (await schedule(ctx)).sent };
}

/** What became of each scheduled payment: where the best chain holds it, and whether a reorganisation returned it. */
function paymentOutcomes(
  x: Experiment,
  net: EmulatedNet,
  sent: Sent,
  logs: ReturnType<typeof readEvents>['events'][],
  analysis: Analysis,
): PaymentOutcome[] {
  return x.payments.map((p, idx): PaymentOutcome => {
    const s = sent.find((e) => e.idx === idx);
    const txid = s?.txid ?? null;
    return {
      from: net.hosts[p.from]!.name,
      to: net.hosts[p.to]!.name,
      amount: p.amount,
      txid,
      minedAt: txid ? analysis.bestChain.txHeights(txid) : [],
      returnedByReorg: txid !== null && logs.some((l) => l.some((e) => e.ev === 'disconnected' && e.txids?.includes(txid))),
      ...(s?.error ? { error: s.error } : {}),
    };
  });
}

/** For each sent payment and each node, ms from sending to that node first hearing it. */
function txPropagation(sent: Sent, logs: ReturnType<typeof readEvents>['events'][]): number[] {
  return sent.flatMap((s) =>
    s.txid
      ? logs.flatMap((l) =>
          l
            .filter((e) => e.ev === 'tx' && e.txid === s.txid)
            .slice(0, 1)
            .map((e) => Math.round(e.t - s.t)),
        )
      : [],
  );
}

/** Runs the experiment once; the network and every process are gone when it returns or throws. */
/** The port the explorer of `--explorer` listens on, on the first host's address. */
const LAB_EXPLORER_PORT = 3000;
let bridgeCounter = 0;

/**
 * `--explorer PORT`: an explorer on the first host, its page bridged to 127.0.0.1:PORT on this
 * machine (explorer-bridge.ts). Returns the outside listener, to close at the end.
 */
async function startExplorer(ctx: RunContext, port: number): Promise<Server> {
  const h = ctx.net.hosts[0]!;
  const sock = join(tmpdir(), `mvblab-${process.pid}-${++bridgeCounter}.sock`);
  ctx.procs.start(`explorer ${h.name}`, h, EXPLORER_BIN, [
    '--datadir',
    join(ctx.dir, h.name, 'explorer'),
    '--http',
    `${h.ip}:${LAB_EXPLORER_PORT}`,
  ]);
  ctx.procs.start(`explorer bridge ${h.name}`, h, BRIDGE_BIN, ['--unix', sock, '--host', h.ip, '--port', String(LAB_EXPLORER_PORT)]);
  const outer = await bridge(port, () => connect(sock));
  ctx.note(
    `explorer: http://127.0.0.1:${(outer.address() as AddressInfo).port}/ (the lab's chain as ${h.name} sees it; open it on the projector)`,
  );
  return outer;
}

export async function runOnce(
  x: Experiment,
  dir: string,
  signal: AbortSignal,
  log: (msg: string) => void,
  o: { explorerPort?: number } = {},
): Promise<RunResult> {
  checkAbort(signal);
  const timeline: string[] = [];
  const net = await EmulatedNet.create(LAB_PREFIX, x.hosts, linkShapes(x));
  const t0 = monotonicMs();
  const note = (m: string) => {
    const line = `${((monotonicMs() - t0) / 1000).toFixed(1).padStart(6)} s  ${m}`;
    timeline.push(line);
    log(line);
  };
  // The hash-rate caps set the interval; the retarget (whole seconds) aims at the nearest one.
  const sets = [
    `broadcastAddress=${net.broadcast}`,
    `targetBlockSeconds=${Math.max(1, Math.round(x.blockIntervalSeconds))}`,
    `retargetInterval=${x.retargetInterval}`,
    `statusBroadcastIntervalSeconds=${x.statusIntervalSeconds}`,
    'transactionBroadcastIntervalSeconds=2',
  ];
  const procs = new LabProcs(net, sets);
  let outer: Server | undefined;
  try {
    note(`network ${net.id}: ${x.hosts} hosts on ${net.net24}.0/24, ${x.topology.type}, median link delay ${medianLinkDelay(x)} ms`);
    const ctx = await setup(x, dir, net, procs, signal, note);
    if (o.explorerPort !== undefined) outer = await startExplorer(ctx, o.explorerPort);
    const { doubleSpend, selfish, sent } = await play(ctx);
    const txids = sent.flatMap((e) => (e.txid ? [e.txid] : []));
    if (txids.length > 0 && !doubleSpend) {
      const waited = await settlePayments(ctx, txids);
      if (waited >= 1000)
        ctx.note(
          `payments settled after ${(waited / 1000).toFixed(1)} s more${waited >= SETTLE_MS ? ' (limit reached: some are in no active chain)' : ''}`,
        );
    }
    const endT = monotonicMs();
    const use = usage([...procs.pids(), ...(net.switchPid ? [net.switchPid] : [])]);
    note(`stopping: ${use.processes} processes used ${use.cpuSeconds.toFixed(1)} CPU s, ${use.rssMB} MB resident`);
    await procs.stopAll();
    const logs = ctx.eventFiles.map((f) => readEvents(f).events);
    const analysis = analyse(logs, endT, 2000 + 3 * x.blockIntervalSeconds * 1000);
    const payments = paymentOutcomes(x, net, sent, logs, analysis);
    const txPropagationMs = txPropagation(sent, logs);
    return {
      nodes: x.hosts,
      linkDelayMs: medianLinkDelay(x),
      meanHops: Math.round(meanHopCount(x) * 1000) / 1000,
      blockIntervalSeconds: x.blockIntervalSeconds,
      durationSeconds: Math.round(endT - t0) / 1000,
      analysis,
      payments,
      txPropagationMs,
      usage: use,
      doubleSpend,
      selfish,
      timeline,
    };
  } finally {
    outer?.close();
    await procs.stopAll();
    const errors = await net.destroy();
    for (const e of errors) log(`warning: ${e}`);
  }
}

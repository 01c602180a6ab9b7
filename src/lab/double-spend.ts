// The double-spend attack, driven by the lab (no miner is changed for it): the attacker's host is
// cut off, so its miner mines a private branch. The attacker's wallet pays the merchant (sent from
// the merchant's side, where the honest miners hear it) and a copy of the same wallet, taken a
// moment before, spends the same coin back to the attacker on the attacker's side (the wallet picks
// its coins deterministically, largest first, so both pick the same one). When the merchant's node
// shows the payment with k confirmations and the private branch is longer than the honest one, the
// link is healed: the honest nodes reorganise onto the attacker's branch and the payment is gone.
// If the branch does not get ahead within giveUpBlocks honest blocks, it is released anyway (the
// attack fails). Everything is judged from the nodes' event logs.
import { cpSync, rmSync } from 'node:fs';
import { CliError } from '../shared/node/cli/runner.js';
import { type Attack } from './experiment.js';
import { ReplayedChain, readEvents } from './analyse.js';
import { pause, type RunContext } from './context.js';
import { nakamotoCatchUp } from './models.js';

export interface DoubleSpendTrial {
  readonly confirmations: number;
  readonly success: boolean;
  readonly payment: string;
  readonly doubleSpend: string;
  /** Blocks the merchant's node replaced when the private branch was released. */
  readonly merchantReorgDepth: number;
  readonly privateBlocks: number;
  readonly seconds: number;
}

export interface DoubleSpendResult {
  readonly attackerShare: number;
  readonly trials: DoubleSpendTrial[];
  readonly rows: { confirmations: number; trials: number; successes: number; successRate: number; nakamoto: number }[];
}

type DoubleSpendAttack = Extract<Attack, { type: 'double-spend' }>;

const chainOf = (ctx: RunContext, i: number) => new ReplayedChain(readEvents(ctx.eventFiles[i]!).events);

async function waitUntil<T>(ctx: RunContext, what: string, timeoutMs: number, cond: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new CliError(`double spend: timed out waiting for ${what}`);
    await pause(250, ctx.signal);
  }
}

/** Runs a wallet command; a send whose coins are not mature yet is tried again (up to 2 minutes). */
async function walletOk(ctx: RunContext, host: number, dir: string, args: string[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await ctx.procs.wallet(ctx.net.hosts[host]!, dir, args, 60_000);
    if (r.code === 0) return r.out.split('\n')[0]!.trim();
    const why = (r.err || r.out).split('\n')[0] ?? '';
    if (!/not yet mature/.test(why) || attempt >= 60)
      throw new CliError(`double spend: mvb-wallet ${args.join(' ')} on ${ctx.net.hosts[host]!.name} exited ${r.code}: ${why}`);
    await pause(2000, ctx.signal);
  }
}

async function trial(ctx: RunContext, a: DoubleSpendAttack, k: number, n: number): Promise<DoubleSpendTrial> {
  const { net } = ctx;
  const A = a.attacker;
  const M = a.merchant;
  const wallet = ctx.walletDirs[A]!;
  const copy = `${wallet}-private-${n}`;
  const t0 = Date.now();
  // The attacker's wallet catches up, then is copied: both copies will pick the same coin.
  await walletOk(ctx, A, wallet, ['sync', '--once', '--timeout', '20']);
  rmSync(copy, { recursive: true, force: true });
  cpSync(wallet, copy, { recursive: true });
  await net.isolate(A);
  const forkHeight = chainOf(ctx, A).tipHeight;
  const doubleSpend = await walletOk(ctx, A, copy, ['send', net.hosts[A]!.name, a.amount, ctx.addresses[A]!]);
  const payment = await walletOk(ctx, M, wallet, ['send', net.hosts[A]!.name, a.amount, ctx.addresses[M]!]);
  ctx.note(
    `trial ${n}: ${net.hosts[A]!.name} cut off at height ${forkHeight}; pays the merchant ${payment.slice(0, 16)}, spends the same coin to itself privately ${doubleSpend.slice(0, 16)}`,
  );
  // Wait for k confirmations at the merchant and a longer private branch (or give up).
  const timeoutMs = (k + a.giveUpBlocks + 10) * ctx.x.blockIntervalSeconds * 1000 * 4 + 60_000;
  const state = await waitUntil(ctx, `${k} confirmation(s) of ${payment.slice(0, 16)} at the merchant`, timeoutMs, () => {
    const m = chainOf(ctx, M);
    const at = m.txHeights(payment)[0];
    if (at === undefined) return undefined;
    const confs = m.tipHeight - at + 1;
    if (confs < k) return undefined;
    const p = chainOf(ctx, A);
    const ahead = p.tipHeight > m.tipHeight && p.txHeights(doubleSpend).length > 0;
    if (ahead || confs >= k + a.giveUpBlocks) return { ahead, confs, merchantHeight: m.tipHeight, privateHeight: p.tipHeight };
    return undefined;
  });
  ctx.note(
    `trial ${n}: merchant sees ${state.confs} confirmation(s) at height ${state.merchantHeight}; private branch at ${state.privateHeight}: ${state.ahead ? 'released' : 'behind, released anyway'}`,
  );
  await net.heal();
  // The merchant's node and the attacker's agree on one tip again.
  await waitUntil(ctx, 'the merchant and the attacker to agree after the release', 60_000, () => {
    const m = chainOf(ctx, M);
    const p = chainOf(ctx, A);
    return m.tip !== undefined && m.tip === p.tip ? true : undefined;
  });
  const m = chainOf(ctx, M);
  const success = m.txHeights(payment).length === 0 && m.txHeights(doubleSpend).length === 1;
  const merchantEvents = readEvents(ctx.eventFiles[M]!).events;
  const lastReorg = [...merchantEvents].reverse().find((e) => e.ev === 'reorg');
  const depth = success ? (lastReorg?.depth ?? 0) : 0;
  ctx.note(
    `trial ${n}: ${success ? `the payment is gone: the merchant's node replaced ${depth} block(s) and holds the double spend` : 'the payment stands'}`,
  );
  rmSync(copy, { recursive: true, force: true });
  return {
    confirmations: k,
    success,
    payment,
    doubleSpend,
    merchantReorgDepth: depth,
    privateBlocks: state.privateHeight - forkHeight,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
}

export async function runDoubleSpend(ctx: RunContext, a: DoubleSpendAttack): Promise<DoubleSpendResult> {
  const trials: DoubleSpendTrial[] = [];
  let n = 0;
  for (const k of a.confirmations) {
    for (let i = 0; i < a.trials; i++) {
      // Each trial spends one of the attacker's coinbases (one block's reward covers the amount):
      // before it is cut off, it must own one more mature reward on its active chain than the
      // trials so far have spent, or its wallet could not pay and the trial would wait in vain.
      await waitForSpendableReward(ctx, a.attacker, n + 1);
      trials.push(await trial(ctx, a, k, ++n));
    }
  }
  const q = ctx.x.hashShares[a.attacker]!;
  const rows = a.confirmations.map((k) => {
    const ts = trials.filter((t) => t.confirmations === k);
    const successes = ts.filter((t) => t.success).length;
    return {
      confirmations: k,
      trials: ts.length,
      successes,
      successRate: ts.length ? successes / ts.length : 0,
      nakamoto: Math.round(nakamotoCatchUp(q, k) * 1e7) / 1e7,
    };
  });
  return { attackerShare: q, trials, rows };
}

/** The devnet's coinbaseMaturity (config.json), the network every lab node runs. */
const DEVNET_COINBASE_MATURITY = 5;

/**
 * Waits until host's own mined blocks on its active chain include `count` whose rewards a
 * transaction in the next block may spend (Core's COINBASE_MATURITY rule: next height − h ≥ maturity).
 * With 30 % of the hash power that can take several times maturity blocks; the bound is generous.
 */
async function waitForSpendableReward(ctx: RunContext, host: number, count: number): Promise<void> {
  const timeoutMs = Math.max(300_000, (DEVNET_COINBASE_MATURITY + 4 * count) * ctx.x.blockIntervalSeconds * 1000 * 20);
  await waitUntil(ctx, `${count} mature block reward(s) of ${ctx.net.hosts[host]!.name}`, timeoutMs, () => {
    const events = readEvents(ctx.eventFiles[host]!).events;
    const chain = new ReplayedChain(events);
    const own = events.filter((e) => e.ev === 'mined' && e.hash !== undefined && e.height !== undefined);
    const mature = own.filter((e) => chain.has(e.hash!) && chain.tipHeight + 1 - e.height! >= DEVNET_COINBASE_MATURITY).length;
    return mature >= count ? true : undefined;
  });
}

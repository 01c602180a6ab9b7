// The double-spend attack, driven by the lab (no miner is changed for it): the attacker's host is
// cut off, so its miner mines a private branch. The attacker's wallet pays the merchant (sent from
// the merchant's side, where the honest miners hear it) and a copy of the same wallet, taken a
// moment before, spends the same coin back to the attacker on the attacker's side (the wallet picks
// its coins deterministically, largest first, so both pick the same one). When the merchant's node
// shows the payment with k confirmations and the private branch is longer than the honest one, the
// link is healed: the honest nodes reorganise onto the attacker's branch and the payment is gone.
// The attacker gives up (releases its branch anyway: the attack fails) when the payment has
// k + giveUpBlocks confirmations, or, with giveUpBehind K, as soon as after the k confirmations its
// branch is more than K blocks behind. Each trial's model probability is that of the same race
// and rule (models.ts doubleSpendWin), counting the honest blocks mined after the fork before
// the one holding the payment. Everything is judged from the nodes' event logs.
import { appendFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../shared/node/cli/runner.js';
import { type Attack } from './experiment.js';
import { ReplayedChain, readEvents } from './analyse.js';
import { pause, type RunContext } from './context.js';
import { type RaceRule, doubleSpendWin, nakamotoCatchUp } from './models.js';
import { type Interval, wilson } from './intervals.js';

export interface DoubleSpendTrial {
  readonly confirmations: number;
  readonly success: boolean;
  readonly payment: string;
  readonly doubleSpend: string;
  /** Blocks the merchant's node replaced when the private branch was released. */
  readonly merchantReorgDepth: number;
  readonly privateBlocks: number;
  /**
   * Honest blocks after the fork that do not count as confirmations: those before the one holding
   * the payment (z = 0: those mined before the merchant accepted it). The race's z is k + this.
   */
  readonly lagBlocks: number;
  /** The branch was released ahead (the attacker did not give up). */
  readonly released: boolean;
  /** The model's probability of winning this trial's race under its give-up rule. */
  readonly model: number;
  readonly seconds: number;
}

export interface DoubleSpendRow {
  readonly confirmations: number;
  readonly trials: number;
  readonly successes: number;
  readonly successRate: number;
  /** Trials whose branch got ahead and was released (the rest gave up); a release can still lose the race that follows. */
  readonly released: number;
  /** 95 % Wilson interval of the success rate. */
  readonly interval: Interval;
  /** The model for this give-up rule: the mean of the trials' probabilities (see DoubleSpendTrial.model). */
  readonly model: number;
  /** The same model with no lag (the payment in the first honest block after the fork). */
  readonly modelNoLag: number;
  /** Mean lag of the trials (DoubleSpendTrial.lagBlocks). */
  readonly meanLag: number;
  /** Nakamoto's P(q, z): a tie counts, Poisson start, never gives up. */
  readonly nakamoto: number;
}

export interface DoubleSpendResult {
  readonly attackerShare: number;
  readonly trials: DoubleSpendTrial[];
  /** The give-up rule in words, for tables and charts. */
  readonly giveUp: string;
  readonly rows: DoubleSpendRow[];
}

type DoubleSpendAttack = Extract<Attack, { type: 'double-spend' }>;

const chainOf = (ctx: RunContext, i: number) => new ReplayedChain(readEvents(ctx.eventFiles[i]!).events);

async function waitUntil<T>(ctx: RunContext, what: string, timeoutMs: number, cond: () => T | undefined, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new CliError(`double spend: timed out waiting for ${what}`);
    await pause(everyMs, ctx.signal);
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

/** The race a trial runs, for the model: z counts the honest blocks mined before the payment's. */
function raceRule(q: number, a: Pick<DoubleSpendAttack, 'giveUpBehind' | 'giveUpBlocks'>, z: number): RaceRule {
  return { q, z, lead: 1, start: 'exact', giveUpBehind: a.giveUpBehind ?? Infinity, giveUpAfter: a.giveUpBlocks };
}

export function giveUpWords(a: Pick<DoubleSpendAttack, 'giveUpBehind' | 'giveUpBlocks'>): string {
  const after = `at z + ${a.giveUpBlocks} confirmations`;
  return a.giveUpBehind === undefined ? `gives up ${after}` : `gives up when more than ${a.giveUpBehind} behind after z, or ${after}`;
}

interface RaceEnd {
  readonly ahead: boolean;
  readonly confs: number;
  readonly merchantHeight: number;
  readonly privateHeight: number;
  readonly paymentHeight: number | undefined;
}

/** Waits for k confirmations at the merchant and then for the private branch to get ahead, or for the give-up rule. */
function race(ctx: RunContext, a: DoubleSpendAttack, k: number, payment: string, doubleSpend: string): Promise<RaceEnd> {
  const timeoutMs = (k + Math.min(a.giveUpBlocks, 40) + 10) * ctx.x.blockIntervalSeconds * 1000 * 4 + 60_000;
  const what = `${k} confirmation(s) of ${payment.slice(0, 16)} at the merchant`;
  const check = (): RaceEnd | undefined => {
    const m = chainOf(ctx, a.merchant);
    const at = m.txHeights(payment)[0];
    if (at === undefined && k > 0) return undefined;
    const confs = at === undefined ? 0 : m.tipHeight - at + 1;
    if (confs < k) return undefined;
    const p = chainOf(ctx, a.attacker);
    const ahead = p.tipHeight > m.tipHeight && p.txHeights(doubleSpend).length > 0;
    const behind = a.giveUpBehind !== undefined && m.tipHeight - p.tipHeight > a.giveUpBehind;
    const end = ahead || behind || (at !== undefined && confs >= k + a.giveUpBlocks);
    return end ? { ahead, confs, merchantHeight: m.tipHeight, privateHeight: p.tipHeight, paymentHeight: at } : undefined;
  };
  // Polled often: a lead of one block can be lost again within one honest block.
  return waitUntil(ctx, what, timeoutMs, check, 100);
}

/** After the release: the merchant's node and the attacker's agree on a tip; did the payment go? */
async function judge(
  ctx: RunContext,
  a: DoubleSpendAttack,
  payment: string,
  doubleSpend: string,
): Promise<{ success: boolean; depth: number }> {
  await waitUntil(ctx, 'the merchant and the attacker to agree after the release', 60_000, () => {
    const m = chainOf(ctx, a.merchant);
    const p = chainOf(ctx, a.attacker);
    return m.tip !== undefined && m.tip === p.tip ? true : undefined;
  });
  const m = chainOf(ctx, a.merchant);
  const success = m.txHeights(payment).length === 0 && m.txHeights(doubleSpend).length === 1;
  const lastReorg = [...readEvents(ctx.eventFiles[a.merchant]!).events].reverse().find((e) => e.ev === 'reorg');
  return { success, depth: success ? (lastReorg?.depth ?? 0) : 0 };
}

async function trial(ctx: RunContext, a: DoubleSpendAttack, k: number, n: number): Promise<DoubleSpendTrial> {
  const { net } = ctx;
  const A = a.attacker;
  const wallet = ctx.walletDirs[A]!;
  const copy = `${wallet}-private-${n}`;
  const t0 = Date.now();
  // The attacker's wallet catches up, then is copied: both copies will pick the same coin.
  await walletOk(ctx, A, wallet, ['sync', '--once', '--timeout', '20']);
  rmSync(copy, { recursive: true, force: true });
  cpSync(wallet, copy, { recursive: true });
  await net.isolate(A);
  const forkHeight = chainOf(ctx, A).tipHeight;
  // Both at once, so that few blocks are mined before they are: each side's next block can hold
  // its spend. (Blocks mined meanwhile are counted as the trial's lag, and the model counts them.)
  const [doubleSpend, payment] = await Promise.all([
    walletOk(ctx, A, copy, ['send', net.hosts[A]!.name, a.amount, ctx.addresses[A]!]),
    walletOk(ctx, a.merchant, wallet, ['send', net.hosts[A]!.name, a.amount, ctx.addresses[a.merchant]!]),
  ]);
  // Honest blocks mined while the two were sent: at z = 0 the merchant accepts at this height.
  const acceptedHeight = chainOf(ctx, a.merchant).tipHeight;
  ctx.note(
    `trial ${n}: ${net.hosts[A]!.name} cut off at height ${forkHeight}; pays the merchant ${payment.slice(0, 16)}, spends the same coin to itself privately ${doubleSpend.slice(0, 16)}`,
  );
  const state = await race(ctx, a, k, payment, doubleSpend);
  ctx.note(
    `trial ${n}: merchant sees ${state.confs} confirmation(s) at height ${state.merchantHeight}; private branch at ${state.privateHeight}: ${state.ahead ? 'released' : 'behind, released anyway'}`,
  );
  await net.heal();
  const { success, depth } = await judge(ctx, a, payment, doubleSpend);
  ctx.note(
    `trial ${n}: ${success ? `the payment is gone: the merchant's node replaced ${depth} block(s) and holds the double spend` : 'the payment stands'}`,
  );
  rmSync(copy, { recursive: true, force: true });
  const lagBlocks = Math.max(0, k === 0 ? acceptedHeight - forkHeight : (state.paymentHeight ?? forkHeight + 1) - forkHeight - 1);
  return {
    confirmations: k,
    success,
    payment,
    doubleSpend,
    merchantReorgDepth: depth,
    privateBlocks: state.privateHeight - forkHeight,
    lagBlocks,
    released: state.ahead,
    model: doubleSpendWin(raceRule(ctx.x.hashShares[A]!, a, k + lagBlocks)),
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
}

const round7 = (x: number) => Math.round(x * 1e7) / 1e7;

/** One row per confirmation count: successes with their 95 % interval, the model (mean over the trials), Nakamoto's P. */
export function doubleSpendRows(
  q: number,
  a: Pick<DoubleSpendAttack, 'confirmations' | 'giveUpBehind' | 'giveUpBlocks'>,
  trials: readonly DoubleSpendTrial[],
): DoubleSpendRow[] {
  return a.confirmations.map((k): DoubleSpendRow => {
    const ts = trials.filter((t) => t.confirmations === k);
    const successes = ts.filter((t) => t.success).length;
    const ideal = doubleSpendWin(raceRule(q, a, k));
    return {
      confirmations: k,
      trials: ts.length,
      successes,
      successRate: ts.length ? successes / ts.length : 0,
      released: ts.filter((t) => t.released).length,
      interval: wilson(successes, ts.length),
      model: round7(ts.length ? ts.reduce((s, t) => s + t.model, 0) / ts.length : ideal),
      modelNoLag: round7(ideal),
      meanLag: ts.length ? Math.round((ts.reduce((s, t) => s + t.lagBlocks, 0) / ts.length) * 100) / 100 : 0,
      nakamoto: round7(nakamotoCatchUp(q, k)),
    };
  });
}

export async function runDoubleSpend(ctx: RunContext, a: DoubleSpendAttack): Promise<DoubleSpendResult> {
  const trials: DoubleSpendTrial[] = [];
  let n = 0;
  // Round by round over the confirmation counts, so a run stopped early (or any drift) touches every row alike.
  for (let i = 0; i < a.trials; i++) {
    for (const k of a.confirmations) {
      // Each trial spends one coin of the attacker's: before it is cut off it must own one more
      // spendable coin than the trials so far have spent, or its wallet could not pay and the
      // trial would wait in vain (see waitForSpendableCoin).
      await waitForSpendableCoin(ctx, a.attacker, trials);
      const t = await trial(ctx, a, k, ++n);
      trials.push(t);
      // Each trial as it ends, so that a long run stopped early keeps what it measured.
      appendFileSync(join(ctx.dir, 'double-spend-trials.jsonl'), JSON.stringify(t) + '\n');
    }
  }
  const q = ctx.x.hashShares[a.attacker]!;
  const rows = doubleSpendRows(q, a, trials);
  return { attackerShare: q, giveUp: giveUpWords(a), trials, rows };
}

/** The devnet's coinbaseMaturity (config.json), the network every lab node runs. */
const DEVNET_COINBASE_MATURITY = 5;

/**
 * Waits until the host owns one more spendable coin than the trials so far have spent: its mined
 * blocks on its active chain whose rewards a transaction in the next block may spend (Core's
 * COINBASE_MATURITY rule: next height − h ≥ maturity), plus one per earlier trial whose payment or
 * double spend is in that chain (its change, or the coin paid back to itself, comes back to the
 * attacker at once). So one reward serves trial after trial, and a 10 % attacker does not wait for
 * a block of its own before each. The bound is generous.
 */
async function waitForSpendableCoin(ctx: RunContext, host: number, done: readonly DoubleSpendTrial[]): Promise<void> {
  const count = done.length + 1;
  const timeoutMs = Math.max(300_000, (DEVNET_COINBASE_MATURITY + 4) * ctx.x.blockIntervalSeconds * 1000 * 20);
  await waitUntil(ctx, `${count} spendable coin(s) of ${ctx.net.hosts[host]!.name}`, timeoutMs, () => {
    const events = readEvents(ctx.eventFiles[host]!).events;
    const chain = new ReplayedChain(events);
    const own = events.filter((e) => e.ev === 'mined' && e.hash !== undefined && e.height !== undefined);
    const mature = own.filter((e) => chain.has(e.hash!) && chain.tipHeight + 1 - e.height! >= DEVNET_COINBASE_MATURITY).length;
    const returned = done.filter((t) => chain.txHeights(t.payment).length + chain.txHeights(t.doubleSpend).length > 0).length;
    return mature + returned >= count ? true : undefined;
  });
}

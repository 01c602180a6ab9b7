// `mvb simulate <scenario.json>`: runs a scenario of payments against a devnet (or any running
// network) with the real wallet: each payment is a `mvb-wallet send` process, `parallel` entries
// run at the same time, then each txid is followed with `mvb-wallet status` until it confirms,
// fails, or the scenario's time runs out. Reports per payment and totals.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAddress } from '../../shared/core/address.js';
import { command, stringOption } from '../../shared/node/cli/command.js';
import { InputError } from '../../shared/node/check/input-error.js';
import { readJsonFile } from '../../shared/node/check/json-file.js';
import { coins } from '../../shared/node/check/fields.js';
import { type Infer, boolean, check, list, number, object, optional, string, withDefault } from '../../shared/node/check/schema.js';
import { loadSettings } from '../../shared/node/cli/config.js';
import { type DevnetState, WALLET_BIN, requireState } from './devnet/state.js';

/** A scenario file is small; anything bigger is refused before parsing. */
const MAX_SCENARIO_BYTES = 1_000_000;
/** Payments in one scenario: each is a wallet process, so a few thousand at most. */
const MAX_PAYMENTS = 10_000;

/** One payment of a scenario. */
const paymentSchema = object({
  /** A devnet wallet name (wallet-1) or "DATADIR:keyname" for any wallet. */
  from: string({ min: 1, max: 4096, expected: 'a wallet name or DATADIR:keyname' }),
  /** A devnet wallet name, "DATADIR:keyname", or an address. */
  to: string({ min: 1, max: 4096, expected: 'a wallet name or an address' }),
  /** Coins, as a decimal string ("1.5") or a number. */
  amount: coins({ positive: true }),
  /** Absolute fee in coins; default: the wallet's fee rate. */
  fee: optional(coins({ positive: false })),
  /** Seconds to wait before sending this entry. */
  delay: withDefault(number({ min: 0, max: 3600 }), 0),
  /** Send together with the neighbouring parallel entries. */
  parallel: withDefault(boolean(), false),
});

/** A scenario file (scenarios/*.json); the type is inferred from it. */
const scenarioSchema = object({
  description: optional(string({ max: 2000 })),
  payments: list(paymentSchema, { min: 1, max: MAX_PAYMENTS }),
  /** How long to wait for confirmations after the last send. */
  confirmTimeoutSeconds: withDefault(number({ min: 1, max: 86_400 }), 120),
});

export type Scenario = Infer<typeof scenarioSchema>;
export type Payment = Scenario['payments'][number];

/** Checks a scenario; an InputError names `source` (the file), the entry and the field. */
export function parseScenario(json: unknown, source = 'scenario'): Scenario {
  return check(scenarioSchema, json, source);
}

interface WalletRef {
  readonly datadir: string;
  readonly key: string;
}

function runWallet(datadir: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [WALLET_BIN, '--datadir', datadir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}

export interface PaymentResult {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  txid?: string;
  status: 'not sent' | 'pending' | 'confirmed' | 'failed';
  error?: string;
  sentAt?: number;
  /** Seconds from send to the first time the wallet reported it confirmed. */
  secondsToConfirm?: number;
  height?: number;
}

type PlannedPayment = { readonly p: Payment; readonly i: number; readonly from: WalletRef; readonly to: string };

/**
 * Resolves every entry before anything is sent, so a bad scenario sends nothing: a "from" is a
 * devnet wallet or DATADIR:keyname, a "to" a devnet wallet or an address of the devnet's network.
 */
function planPayments(scenario: Scenario, state: DevnetState | undefined, source: string): PlannedPayment[] {
  const refuse: (i: number, field: 'from' | 'to', reason: string) => never = (i, field, reason) => {
    throw new InputError(source, ['payments', i, field], reason);
  };
  const wallets = new Map((state?.nodes ?? []).filter((n) => n.kind === 'wallet').map((n) => [n.name, n]));
  const known = () => [...wallets.keys()].join(', ') || 'none';
  const fromRef = (text: string, i: number): WalletRef => {
    const w = wallets.get(text);
    if (w) return { datadir: w.datadir, key: w.name };
    const colon = text.lastIndexOf(':');
    if (colon > 0 && (text.startsWith('.') || isAbsolute(text))) {
      const datadir = resolve(text.slice(0, colon));
      // A mistyped folder must not become a new, empty wallet.
      if (!existsSync(join(datadir, 'keys'))) refuse(i, 'from', `${datadir} is not a wallet's data directory (no keys folder)`);
      return { datadir, key: text.slice(colon + 1) };
    }
    refuse(i, 'from', `"${text}" is not a wallet of this devnet (${known()}) nor DATADIR:keyname`);
  };
  const addressVersion = state ? loadSettings({ network: state.network }).params.addressVersion : undefined;
  const toRef = (text: string, i: number): string => {
    const w = wallets.get(text);
    if (w?.address) return w.address;
    if (w) refuse(i, 'to', `${text} has no address in the devnet's record`);
    let version: number;
    try {
      version = decodeAddress(text).version;
    } catch {
      refuse(i, 'to', `"${text}" is neither a wallet of this devnet (${known()}) nor an address`);
    }
    if (addressVersion !== undefined && version !== addressVersion)
      refuse(i, 'to', `${text} is an address of another network (version ${version}, ${state!.network} uses ${addressVersion})`);
    return text;
  };
  return scenario.payments.map((p, i) => ({ p, i, from: fromRef(p.from, i), to: toRef(p.to, i) }));
}

/** Sends one planned payment (after its delay) through `mvb-wallet send`, recording the outcome. */
async function sendPayment(x: PlannedPayment, r: PaymentResult, log: (l: string) => void, signal?: AbortSignal): Promise<void> {
  if (x.p.delay > 0) await sleep(x.p.delay * 1000, undefined, { signal });
  const out = await runWallet(x.from.datadir, ['send', x.from.key, x.p.amount, x.to, ...(x.p.fee ? ['--fee', x.p.fee] : [])]);
  r.sentAt = Date.now();
  if (out.code !== 0) {
    r.status = 'failed';
    r.error =
      out.stderr
        .trim()
        .split('\n')
        .pop()
        ?.replace(/^error: /, '') ?? `exit ${out.code}`;
    log(`#${x.i} ${x.p.from} -> ${x.p.to} ${x.p.amount}: refused: ${r.error}`);
    return;
  }
  r.txid = out.stdout.trim().split('\n').pop()!;
  r.status = 'pending';
  log(`#${x.i} ${x.p.from} -> ${x.p.to} ${x.p.amount}: sent ${r.txid}`);
}

/** Asks each sender's wallet about its pending payments every 500 ms until none is pending or the timeout. */
async function awaitConfirmations(
  plan: readonly PlannedPayment[],
  results: PaymentResult[],
  timeoutSeconds: number,
  log: (l: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (!signal?.aborted && results.some((r) => r.status === 'pending') && Date.now() < deadline) {
    for (const r of results.filter((x) => x.status === 'pending')) {
      const x = plan[r.index]!;
      const out = await runWallet(x.from.datadir, ['status', r.txid!, '--json']);
      if (out.code !== 0) continue;
      const s = JSON.parse(out.stdout) as { status: string; height?: number; reason?: string };
      if (s.status === 'confirmed') {
        r.status = 'confirmed';
        r.height = s.height;
        r.secondsToConfirm = Math.round((Date.now() - r.sentAt!) / 100) / 10;
        log(`#${r.index} confirmed at height ${s.height} after ${r.secondsToConfirm} s`);
      } else if (s.status === 'failed') {
        r.status = 'failed';
        r.error = s.reason ?? 'failed';
        log(`#${r.index} failed: ${r.error}`);
      }
    }
    await sleep(500);
  }
}

export async function simulate(
  scenario: Scenario,
  o: { devnetDir?: string; source?: string; log?: (l: string) => void; signal?: AbortSignal },
): Promise<PaymentResult[]> {
  const log = o.log ?? (() => {});
  const state = o.devnetDir ? requireState(o.devnetDir) : undefined;
  const plan = planPayments(scenario, state, o.source ?? 'scenario');
  const results: PaymentResult[] = plan.map(({ p, i }) => ({ index: i, from: p.from, to: p.to, amount: p.amount, status: 'not sent' }));
  // In order; a run of entries marked parallel goes out at once.
  for (let k = 0; k < plan.length;) {
    if (o.signal?.aborted) break;
    let end = k + 1;
    if (plan[k]!.p.parallel) while (end < plan.length && plan[end]!.p.parallel) end++;
    await Promise.all(plan.slice(k, end).map((x) => sendPayment(x, results[x.i]!, log, o.signal)));
    k = end;
  }
  await awaitConfirmations(plan, results, scenario.confirmTimeoutSeconds, log, o.signal);
  return results;
}

export function summarize(results: readonly PaymentResult[]): {
  sent: number;
  confirmed: number;
  failed: number;
  pending: number;
  meanSecondsToConfirm: number | null;
  maxSecondsToConfirm: number | null;
} {
  const times = results.flatMap((r) => (r.secondsToConfirm === undefined ? [] : [r.secondsToConfirm]));
  return {
    sent: results.filter((r) => r.txid).length,
    confirmed: results.filter((r) => r.status === 'confirmed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    pending: results.filter((r) => r.status === 'pending').length,
    meanSecondsToConfirm: times.length ? Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 10) / 10 : null,
    maxSecondsToConfirm: times.length ? Math.max(...times) : null,
  };
}

export const simulateCommand = command({
  name: 'simulate',
  describe: 'Run a scenario of payments (JSON) against a devnet and report confirmations',
  args: ['<scenario>'],
  options: { dir: stringOption('--dir <dir>', 'the devnet to run against (see `mvb devnet start`)', 'mvb-devnet') },
  async handler([file], opts, ctx) {
    const scenario = parseScenario(readJsonFile(file!, MAX_SCENARIO_BYTES), file);
    if (!ctx.json && scenario.description) ctx.io.out(scenario.description);
    const results = await simulate(scenario, {
      devnetDir: opts.dir,
      log: (l) => !ctx.json && ctx.io.out(l),
      source: file,
      signal: ctx.signal,
    });
    const totals = summarize(results);
    if (ctx.json) ctx.io.out(JSON.stringify({ results, totals }, null, 2));
    else {
      ctx.io.out('');
      for (const r of results)
        ctx.io.out(
          `#${r.index} ${r.from} -> ${r.to} ${r.amount}: ${r.status}${r.txid ? ` ${r.txid}` : ''}${r.secondsToConfirm !== undefined ? ` (${r.secondsToConfirm} s, height ${r.height})` : ''}${r.error ? ` (${r.error})` : ''}`,
        );
      ctx.io.out(
        `sent ${totals.sent}, confirmed ${totals.confirmed}, failed ${totals.failed}, still pending ${totals.pending}; time to confirmation: mean ${totals.meanSecondsToConfirm ?? '-'} s, max ${totals.maxSecondsToConfirm ?? '-'} s`,
      );
    }
    return totals.pending === 0 && totals.failed === 0 ? 0 : 1;
  },
});

// `mvb simulate <scenario.json>`: runs a scenario of payments against a devnet (or any running
// network) with the real wallet: each payment is a `mvb-wallet send` process, `parallel` entries
// run at the same time, then each txid is followed with `mvb-wallet status` until it confirms,
// fails, or the scenario's time runs out. Reports per payment and totals.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAddress } from '../shared/core/address.js';
import { CliError, type CliCommand } from '../shared/node/cli/runner.js';
import { loadSettings } from '../shared/node/cli/config.js';
import { type DevnetState, WALLET_BIN, readState } from './devnet/state.js';

export interface Payment {
  /** A devnet wallet name (wallet-1) or "DATADIR:keyname" for any wallet. */
  readonly from: string;
  /** A devnet wallet name, "DATADIR:keyname", or an address. */
  readonly to: string;
  /** Coins, as a decimal string ("1.5") or a number. */
  readonly amount: string;
  /** Absolute fee in coins; default: the wallet's fee rate. */
  readonly fee?: string;
  /** Seconds to wait before sending this entry. */
  readonly delay: number;
  /** Send together with the neighbouring parallel entries. */
  readonly parallel: boolean;
}

export interface Scenario {
  readonly description?: string;
  readonly payments: readonly Payment[];
  /** How long to wait for confirmations after the last send. */
  readonly confirmTimeoutSeconds: number;
}

const AMOUNT_RE = /^(0|[1-9]\d{0,7})(\.\d{1,8})?$/;

/** Validates a scenario; errors name the entry and field. */
export function parseScenario(json: unknown): Scenario {
  const bad = (where: string, why: string): never => {
    throw new CliError(`invalid scenario: ${where}: ${why}`, 2);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('top level', 'expected an object with "payments"');
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['description', 'payments', 'confirmTimeoutSeconds'].includes(k)) bad(k, 'unknown key');
  if (!Array.isArray(o['payments']) || o['payments'].length === 0) bad('payments', 'expected a non-empty list');
  const timeout = o['confirmTimeoutSeconds'] ?? 120;
  if (typeof timeout !== 'number' || !(timeout > 0 && timeout <= 86400)) bad('confirmTimeoutSeconds', 'expected seconds from 1 to 86400');
  const payments = (o['payments'] as unknown[]).map((p, i): Payment => {
    const at = `payments[${i}]`;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) bad(at, 'expected an object');
    const e = p as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!['from', 'to', 'amount', 'fee', 'delay', 'parallel'].includes(k)) bad(`${at}.${k}`, 'unknown key');
    if (typeof e['from'] !== 'string' || !e['from']) bad(`${at}.from`, 'expected a wallet name');
    if (typeof e['to'] !== 'string' || !e['to']) bad(`${at}.to`, 'expected a wallet name or an address');
    const amount = typeof e['amount'] === 'number' ? String(e['amount']) : e['amount'];
    if (typeof amount !== 'string' || !AMOUNT_RE.test(amount) || /^0(\.0*)?$/.test(amount)) bad(`${at}.amount`, `expected a positive amount of coins with up to 8 decimals, got ${JSON.stringify(e['amount'])}`);
    const fee = e['fee'] === undefined ? undefined : typeof e['fee'] === 'number' ? String(e['fee']) : e['fee'];
    if (fee !== undefined && (typeof fee !== 'string' || !AMOUNT_RE.test(fee))) bad(`${at}.fee`, `expected an amount of coins, got ${JSON.stringify(e['fee'])}`);
    const delay = e['delay'] ?? 0;
    if (typeof delay !== 'number' || !(delay >= 0 && delay <= 3600)) bad(`${at}.delay`, 'expected seconds from 0 to 3600');
    const parallel = e['parallel'] ?? false;
    if (typeof parallel !== 'boolean') bad(`${at}.parallel`, 'expected true or false');
    return { from: e['from'] as string, to: e['to'] as string, amount: amount as string, fee: fee as string | undefined, delay: delay as number, parallel: parallel as boolean };
  });
  return { description: typeof o['description'] === 'string' ? o['description'] : undefined, payments, confirmTimeoutSeconds: timeout as number };
}

interface WalletRef {
  readonly datadir: string;
  readonly key: string;
}

function runWallet(datadir: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [WALLET_BIN, '--datadir', datadir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
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
function planPayments(scenario: Scenario, state: DevnetState | undefined): PlannedPayment[] {
  const wallets = new Map((state?.nodes ?? []).filter((n) => n.kind === 'wallet').map((n) => [n.name, n]));
  const known = () => [...wallets.keys()].join(', ') || 'none';
  const fromRef = (text: string, i: number): WalletRef => {
    const w = wallets.get(text);
    if (w) return { datadir: w.datadir, key: w.name };
    const colon = text.lastIndexOf(':');
    if (colon > 0 && (text.startsWith('.') || isAbsolute(text))) {
      const datadir = resolve(text.slice(0, colon));
      // A mistyped folder must not become a new, empty wallet.
      if (!existsSync(join(datadir, 'keys'))) throw new CliError(`invalid scenario: payments[${i}].from: ${datadir} is not a wallet's data directory (no keys folder)`, 2);
      return { datadir, key: text.slice(colon + 1) };
    }
    throw new CliError(`invalid scenario: payments[${i}].from: "${text}" is not a wallet of this devnet (${known()}) nor DATADIR:keyname`, 2);
  };
  const addressVersion = state ? loadSettings({ network: state.network }).params.addressVersion : undefined;
  const toRef = (text: string, i: number): string => {
    const w = wallets.get(text);
    if (w?.address) return w.address;
    if (w) throw new CliError(`invalid scenario: payments[${i}].to: ${text} has no address in the devnet's record`, 2);
    let version: number;
    try {
      version = decodeAddress(text).version;
    } catch {
      throw new CliError(`invalid scenario: payments[${i}].to: "${text}" is neither a wallet of this devnet (${known()}) nor an address`, 2);
    }
    if (addressVersion !== undefined && version !== addressVersion) throw new CliError(`invalid scenario: payments[${i}].to: ${text} is an address of another network (version ${version}, ${state!.network} uses ${addressVersion})`, 2);
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
    r.error = out.stderr.trim().split('\n').pop()?.replace(/^error: /, '') ?? `exit ${out.code}`;
    log(`#${x.i} ${x.p.from} -> ${x.p.to} ${x.p.amount}: refused: ${r.error}`);
    return;
  }
  r.txid = out.stdout.trim().split('\n').pop()!;
  r.status = 'pending';
  log(`#${x.i} ${x.p.from} -> ${x.p.to} ${x.p.amount}: sent ${r.txid}`);
}

/** Asks each sender's wallet about its pending payments every 500 ms until none is pending or the timeout. */
async function awaitConfirmations(plan: readonly PlannedPayment[], results: PaymentResult[], timeoutSeconds: number, log: (l: string) => void, signal?: AbortSignal): Promise<void> {
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

export async function simulate(scenario: Scenario, o: { devnetDir?: string; log?: (l: string) => void; signal?: AbortSignal }): Promise<PaymentResult[]> {
  const log = o.log ?? (() => {});
  const state = o.devnetDir ? readState(resolve(o.devnetDir)) : undefined;
  if (o.devnetDir && !state) throw new CliError(`no devnet in ${resolve(o.devnetDir)} (start one with: mvb devnet start --dir ${o.devnetDir})`);
  const plan = planPayments(scenario, state);
  const results: PaymentResult[] = plan.map(({ p, i }) => ({ index: i, from: p.from, to: p.to, amount: p.amount, status: 'not sent' }));
  // In order; a run of entries marked parallel goes out at once.
  for (let k = 0; k < plan.length; ) {
    if (o.signal?.aborted) break;
    let end = k + 1;
    if (plan[k]!.p.parallel) while (end < plan.length && plan[end]!.p.parallel) end++;
    await Promise.all(plan.slice(k, end).map((x) => sendPayment(x, results[x.i]!, log, o.signal)));
    k = end;
  }
  await awaitConfirmations(plan, results, scenario.confirmTimeoutSeconds, log, o.signal);
  return results;
}

export function summarize(results: readonly PaymentResult[]): { sent: number; confirmed: number; failed: number; pending: number; meanSecondsToConfirm: number | null; maxSecondsToConfirm: number | null } {
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

export const simulateCommand: CliCommand = {
  name: 'simulate',
  describe: 'Run a scenario of payments (JSON) against a devnet and report confirmations',
  args: ['<scenario>'],
  options: [{ flags: '--dir <dir>', description: 'the devnet to run against (see `mvb devnet start`)', default: 'mvb-devnet' }],
  async handler([file], opts, ctx) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file!, 'utf8'));
    } catch (e) {
      throw new CliError(`cannot read scenario ${file}: ${(e as Error).message.replace(/\s+/g, ' ')}`, 2);
    }
    const scenario = parseScenario(json);
    if (!ctx.json && scenario.description) ctx.io.out(scenario.description);
    const results = await simulate(scenario, { devnetDir: opts['dir'] as string, log: (l) => !ctx.json && ctx.io.out(l), signal: ctx.signal });
    const totals = summarize(results);
    if (ctx.json) ctx.io.out(JSON.stringify({ results, totals }, null, 2));
    else {
      ctx.io.out('');
      for (const r of results) ctx.io.out(`#${r.index} ${r.from} -> ${r.to} ${r.amount}: ${r.status}${r.txid ? ` ${r.txid}` : ''}${r.secondsToConfirm !== undefined ? ` (${r.secondsToConfirm} s, height ${r.height})` : ''}${r.error ? ` (${r.error})` : ''}`);
      ctx.io.out(`sent ${totals.sent}, confirmed ${totals.confirmed}, failed ${totals.failed}, still pending ${totals.pending}; time to confirmation: mean ${totals.meanSecondsToConfirm ?? '-'} s, max ${totals.maxSecondsToConfirm ?? '-'} s`);
    }
    return totals.pending === 0 && totals.failed === 0 ? 0 : 1;
  },
};


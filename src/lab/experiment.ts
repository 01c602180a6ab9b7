// An experiment file (experiments/*.json), validated into one typed value before anything is built.
// Every field is bounded: hosts, times, delays, rates, counts. An invalid file is refused with one
// line naming the field.
import { CliError } from '../shared/node/cli/runner.js';
import { type LinkShape, MAX_HOSTS } from './netns.js';

export type Topology =
  | { readonly type: 'mesh' }
  | { readonly type: 'ring' }
  | { readonly type: 'random'; readonly degree: number; readonly seed: number }
  | { readonly type: 'links'; readonly links: readonly { readonly a: number; readonly b: number; readonly shape: LinkShape }[] };

export type LabEvent =
  | { readonly at: number; readonly type: 'partition'; readonly groups: number[][] }
  | { readonly at: number; readonly type: 'heal' }
  | { readonly at: number; readonly type: 'stop' | 'start'; readonly host: number };

export interface LabPayment {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  /** Coins, decimal string. */
  readonly amount: string;
}

export type Attack =
  | { readonly type: 'double-spend'; readonly attacker: number; readonly merchant: number; readonly confirmations: readonly number[]; readonly trials: number; readonly amount: string; readonly giveUpBlocks: number }
  | { readonly type: 'selfish'; readonly miner: number };

export interface Experiment {
  readonly name: string;
  readonly description: string;
  readonly hosts: number;
  readonly topology: Topology;
  readonly link: LinkShape;
  /** Each host's share of the total hash power (sums to 1). */
  readonly hashShares: readonly number[];
  readonly blockIntervalSeconds: number;
  readonly retargetInterval: number;
  readonly statusIntervalSeconds: number;
  /** Run until this many seconds, or until `blocks` blocks are in the best chain. */
  readonly durationSeconds: number;
  readonly blocks?: number;
  readonly payments: readonly LabPayment[];
  readonly events: readonly LabEvent[];
  readonly attack?: Attack;
  /** Runs the experiment once per value of blockIntervalSeconds (or linkDelayMs). */
  readonly sweep?: { readonly key: 'blockIntervalSeconds' | 'linkDelayMs'; readonly values: readonly number[] };
}

const AMOUNT_RE = /^(0|[1-9]\d{0,7})(\.\d{1,8})?$/;
const KEYS = ['name', 'description', 'hosts', 'topology', 'link', 'hashShares', 'blockIntervalSeconds', 'retargetInterval', 'statusIntervalSeconds', 'durationSeconds', 'blocks', 'payments', 'events', 'attack', 'sweep'];

class Checker {
  constructor(readonly hosts: number) {}
  fail(where: string, why: string): never {
    throw new CliError(`invalid experiment: ${where}: ${why}`, 2);
  }
  obj(v: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'expected an object');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`${where}.${k}`, `unknown key (known: ${keys.join(', ')})`);
    return o;
  }
  num(v: unknown, where: string, min: number, max: number, dflt?: number): number {
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(where, `expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  }
  int(v: unknown, where: string, min: number, max: number, dflt?: number): number {
    const n = this.num(v, where, min, max, dflt);
    if (!Number.isInteger(n)) this.fail(where, `expected a whole number, got ${n}`);
    return n;
  }
  /** "h3" or 3 -> index 2. */
  host(v: unknown, where: string): number {
    const n = typeof v === 'string' && /^h\d{1,3}$/.test(v) ? Number(v.slice(1)) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > this.hosts) this.fail(where, `expected a host h1..h${this.hosts}, got ${JSON.stringify(v)}`);
    return n - 1;
  }
  amount(v: unknown, where: string): string {
    const a = typeof v === 'number' ? String(v) : v;
    if (typeof a !== 'string' || !AMOUNT_RE.test(a) || /^0(\.0*)?$/.test(a)) this.fail(where, `expected a positive amount of coins, got ${JSON.stringify(v)}`);
    return a;
  }
  list(v: unknown, where: string, max: number): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > max) this.fail(where, `expected a list of at most ${max}`);
    return v;
  }
  shape(v: unknown, where: string, base?: LinkShape): LinkShape {
    const o = this.obj(v ?? {}, where, ['delayMs', 'jitterMs', 'lossPercent', 'rateMbit']);
    return {
      delayMs: this.num(o['delayMs'], `${where}.delayMs`, 0, 10_000, base?.delayMs ?? 0),
      jitterMs: this.num(o['jitterMs'], `${where}.jitterMs`, 0, 10_000, base?.jitterMs ?? 0),
      lossPercent: this.num(o['lossPercent'], `${where}.lossPercent`, 0, 100, base?.lossPercent ?? 0),
      rateMbit: this.num(o['rateMbit'], `${where}.rateMbit`, 0, 100_000, base?.rateMbit ?? 0),
    };
  }
}

function parseTopology(c: Checker, v: unknown, link: LinkShape): Topology {
  if (v === undefined || v === 'mesh') return { type: 'mesh' };
  if (v === 'ring') return { type: 'ring' };
  const o = c.obj(v, 'topology', ['type', 'degree', 'seed', 'links']);
  if (o['type'] === 'mesh' || o['type'] === 'ring') return { type: o['type'] };
  if (o['type'] === 'random') return { type: 'random', degree: c.int(o['degree'], 'topology.degree', 1, Math.max(1, c.hosts - 1)), seed: c.int(o['seed'], 'topology.seed', 0, 2 ** 31, 1) };
  if (o['type'] === 'links') {
    const links = c.list(o['links'], 'topology.links', 20_000).map((l, i) => {
      const e = c.obj(l, `topology.links[${i}]`, ['a', 'b', 'delayMs', 'jitterMs', 'lossPercent', 'rateMbit']);
      const { a, b, ...shape } = e;
      return { a: c.host(a, `topology.links[${i}].a`), b: c.host(b, `topology.links[${i}].b`), shape: c.shape(shape, `topology.links[${i}]`, link) };
    });
    return { type: 'links', links };
  }
  return c.fail('topology', 'expected "mesh", "ring", {"type":"random","degree":k} or {"type":"links","links":[...]}');
}

function parseEvent(c: Checker, v: unknown, i: number): LabEvent {
  const where = `events[${i}]`;
  const o = c.obj(v, where, ['at', 'partition', 'heal', 'stop', 'start']);
  const at = c.num(o['at'], `${where}.at`, 0, 86_400);
  const actions = ['partition', 'heal', 'stop', 'start'].filter((k) => o[k] !== undefined);
  if (actions.length > 1) c.fail(where, `one action per event, got ${actions.join(' and ')}`);
  if (o['partition'] !== undefined) {
    const groups = c.list(o['partition'], `${where}.partition`, MAX_HOSTS).map((g, k) => c.list(g, `${where}.partition[${k}]`, MAX_HOSTS).map((h, m) => c.host(h, `${where}.partition[${k}][${m}]`)));
    if (groups.length < 2) c.fail(`${where}.partition`, 'expected at least two groups of hosts');
    const seen = new Set<number>();
    for (const h of groups.flat()) {
      if (seen.has(h)) c.fail(`${where}.partition`, `h${h + 1} is in more than one group`);
      seen.add(h);
    }
    return { at, type: 'partition', groups };
  }
  if (o['heal'] === true) return { at, type: 'heal' };
  if (o['stop'] !== undefined) return { at, type: 'stop', host: c.host(o['stop'], `${where}.stop`) };
  if (o['start'] !== undefined) return { at, type: 'start', host: c.host(o['start'], `${where}.start`) };
  return c.fail(where, 'expected one of partition, heal, stop, start');
}

function parseAttack(c: Checker, v: unknown): Attack | undefined {
  if (v === undefined) return undefined;
  const o = c.obj(v, 'attack', ['type', 'attacker', 'merchant', 'confirmations', 'trials', 'amount', 'giveUpBlocks', 'miner']);
  if (o['type'] === 'selfish') return { type: 'selfish', miner: c.host(o['miner'], 'attack.miner') };
  if (o['type'] !== 'double-spend') c.fail('attack.type', 'expected "double-spend" or "selfish"');
  const confirmations = c.list(o['confirmations'] ?? [1], 'attack.confirmations', 10).map((k, i) => c.int(k, `attack.confirmations[${i}]`, 1, 20));
  const attacker = c.host(o['attacker'], 'attack.attacker');
  const merchant = c.host(o['merchant'], 'attack.merchant');
  if (attacker === merchant) c.fail('attack.merchant', 'the merchant must be another host than the attacker');
  return { type: 'double-spend', attacker, merchant, confirmations, trials: c.int(o['trials'], 'attack.trials', 1, 50, 1), amount: c.amount(o['amount'] ?? '10', 'attack.amount'), giveUpBlocks: c.int(o['giveUpBlocks'], 'attack.giveUpBlocks', 1, 200, 12) };
}

function parseShares(c: Checker, v: unknown): number[] {
  if (v === undefined) return Array.from({ length: c.hosts }, () => 1 / c.hosts);
  const shares = c.list(v, 'hashShares', c.hosts).map((x, i) => c.num(x, `hashShares[${i}]`, 0, 1));
  if (shares.length !== c.hosts) c.fail('hashShares', `expected one share per host (${c.hosts})`);
  const sum = shares.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 0.001) c.fail('hashShares', `the shares must add up to 1, they add up to ${sum}`);
  return shares;
}

/**
 * The run's name: it names the output folder (lab-runs/NAME-TIME, written as root), so letters,
 * digits, '.', '_' and '-' only: "../../etc" or "a/b" would put it elsewhere.
 */
function runName(c: Checker, v: unknown, fileName: string): string {
  if (v === undefined || v === '') return fileName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'experiment';
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(v)) c.fail('name', `expected up to 80 letters, digits, '.', '_' or '-' (it names the output folder), got ${JSON.stringify(v).slice(0, 100)}`);
  return v;
}

/** Validates an experiment; errors name the field. */
export function parseExperiment(json: unknown, fileName: string): Experiment {
  const c0 = new Checker(MAX_HOSTS);
  const o = c0.obj(json, 'top level', KEYS);
  const c = new Checker(c0.int(o['hosts'], 'hosts', 2, MAX_HOSTS));
  const link = c.shape(o['link'], 'link');
  const sweep = o['sweep'] === undefined ? undefined : (() => {
    const s = c.obj(o['sweep'], 'sweep', ['blockIntervalSeconds', 'linkDelayMs']);
    const key = s['blockIntervalSeconds'] !== undefined ? 'blockIntervalSeconds' : 'linkDelayMs';
    const values = c.list(s[key], `sweep.${key}`, 12).map((x, i) => c.num(x, `sweep.${key}[${i}]`, key === 'linkDelayMs' ? 0 : 0.1, key === 'linkDelayMs' ? 10_000 : 600));
    if (!values.length) c.fail('sweep', 'expected a list of values');
    return { key, values } as const;
  })();
  const payments = c.list(o['payments'], 'payments', 1000).map((p, i): LabPayment => {
    const e = c.obj(p, `payments[${i}]`, ['at', 'from', 'to', 'amount']);
    return { at: c.num(e['at'], `payments[${i}].at`, 0, 86_400), from: c.host(e['from'], `payments[${i}].from`), to: c.host(e['to'], `payments[${i}].to`), amount: c.amount(e['amount'], `payments[${i}].amount`) };
  });
  return {
    name: runName(c, o['name'], fileName),
    description: typeof o['description'] === 'string' ? o['description'].slice(0, 2000) : '',
    hosts: c.hosts,
    topology: parseTopology(c, o['topology'], link),
    link,
    hashShares: parseShares(c, o['hashShares']),
    blockIntervalSeconds: c.num(o['blockIntervalSeconds'], 'blockIntervalSeconds', 0.1, 600, 1),
    retargetInterval: c.int(o['retargetInterval'], 'retargetInterval', 1, 10_000, 50),
    statusIntervalSeconds: c.num(o['statusIntervalSeconds'], 'statusIntervalSeconds', 0.05, 60, 1),
    durationSeconds: c.num(o['durationSeconds'], 'durationSeconds', 1, 86_400, 60),
    ...(o['blocks'] === undefined ? {} : { blocks: c.int(o['blocks'], 'blocks', 1, 100_000) }),
    payments,
    events: c.list(o['events'], 'events', 1000).map((e, i) => parseEvent(c, e, i)),
    attack: parseAttack(c, o['attack']),
    sweep,
  };
}

/** The ordered pairs that are linked, with their shapes. */
export function linkShapes(x: Experiment): (i: number, j: number) => LinkShape | undefined {
  const t = x.topology;
  const n = x.hosts;
  if (t.type === 'mesh') return () => x.link;
  if (t.type === 'ring') return (i, j) => ((i + 1) % n === j || (j + 1) % n === i ? x.link : undefined);
  const shapes = new Map<number, LinkShape>();
  const add = (a: number, b: number, s: LinkShape) => {
    shapes.set(a * n + b, s);
    shapes.set(b * n + a, s);
  };
  if (t.type === 'links') for (const l of t.links) add(l.a, l.b, l.shape);
  else randomGraph(n, t.degree, t.seed).forEach(([a, b]) => add(a, b, x.link));
  return (i, j) => shapes.get(i * n + j);
}

/** A connected random graph: a ring for connectivity, then random extra edges until each host has about `degree`. */
export function randomGraph(n: number, degree: number, seed: number): [number, number][] {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const edges = new Set<number>();
  const deg = new Array<number>(n).fill(0);
  const add = (a: number, b: number) => {
    const k = Math.min(a, b) * n + Math.max(a, b);
    if (a === b || edges.has(k)) return;
    edges.add(k);
    deg[a]!++;
    deg[b]!++;
  };
  for (let i = 0; i < n; i++) add(i, (i + 1) % n);
  for (let tries = 0; tries < n * degree * 20; tries++) {
    const a = Math.floor(rand() * n);
    const b = Math.floor(rand() * n);
    if (deg[a]! < degree && deg[b]! < degree) add(a, b);
  }
  return [...edges].map((k) => [Math.floor(k / n), k % n]);
}

/** The median configured one-way delay over linked pairs. */
export function medianLinkDelay(x: Experiment): number {
  const f = linkShapes(x);
  const ds: number[] = [];
  for (let i = 0; i < x.hosts; i++) for (let j = 0; j < x.hosts; j++) if (i !== j) ds.push(f(i, j)?.delayMs ?? NaN);
  const linked = ds.filter((d) => !Number.isNaN(d)).sort((a, b) => a - b);
  return linked.length ? linked[Math.floor(linked.length / 2)]! : 0;
}

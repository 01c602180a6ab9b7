// An experiment file (experiments/*.json), checked into one typed value before anything is built.
// The schema below is the type: Experiment, Topology, LabEvent and Attack are inferred from it
// (src/shared/node/check), so a field and its bounds cannot drift apart. Every field is bounded:
// hosts, times, delays, rates, counts, list lengths. An invalid file is refused with one line
// naming the file and the field: `x.json: payments[0].from: expected a host h1..h3, got "h4"`.
import { type FieldPath } from '../shared/node/check/input-error.js';
import { coins } from '../shared/node/check/fields.js';
import {
  type Infer,
  type Schema,
  check,
  either,
  list,
  literal,
  map,
  number,
  object,
  optional,
  reject,
  show,
  string,
  tagged,
  withDefault,
} from '../shared/node/check/schema.js';
import { type LinkShape, MAX_HOSTS, UNSHAPED } from './netns.js';

const MAX_PAYMENTS = 1000;
const MAX_EVENTS = 1000;
const MAX_LINKS = 20_000;
const MAX_SECONDS = 86_400;

const whole = (min: number, max: number) => number({ min, max, whole: true });

/** A host as "h3" or 3 (1-based, up to `hosts`), read as its index 2. */
function hostRef(hosts: number): Schema<number> {
  const expected = `a host h1..h${hosts}`;
  return {
    expected,
    read: (v: unknown, at: FieldPath) => {
      const n = typeof v === 'string' && /^h\d{1,3}$/.test(v) ? Number(v.slice(1)) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > hosts) reject(at, `expected ${expected}, got ${show(v)}`);
      return (n as number) - 1;
    },
  };
}

/** A link's shape, field by field; `fallback` fills what the file leaves out. */
const shapeFields = (fallback: LinkShape) => ({
  delayMs: withDefault(number({ min: 0, max: 10_000 }), fallback.delayMs),
  jitterMs: withDefault(number({ min: 0, max: 10_000 }), fallback.jitterMs),
  lossPercent: withDefault(number({ min: 0, max: 100 }), fallback.lossPercent),
  /** 0 = no rate limit. */
  rateMbit: withDefault(number({ min: 0, max: 100_000 }), fallback.rateMbit),
});
const linkSchema = withDefault(object(shapeFields(UNSHAPED)), UNSHAPED);

/** "mesh", "ring", {"type":"random","degree":k,"seed":s} or {"type":"links","links":[{a,b,delayMs,...}]}; links' shapes default to `link`. */
function topologySchema(hosts: number, link: LinkShape) {
  const host = hostRef(hosts);
  // Each branch narrows `type`, so Topology stays a union told apart by type.
  const named = map(literal('mesh', 'ring'), (type) => (type === 'mesh' ? { type } : { type }));
  const full = tagged('type', {
    mesh: object({ type: literal('mesh') }),
    ring: object({ type: literal('ring') }),
    random: object({ type: literal('random'), degree: whole(1, Math.max(1, hosts - 1)), seed: withDefault(whole(0, 2 ** 31), 1) }),
    links: map(
      object({ type: literal('links'), links: list(object({ a: host, b: host, ...shapeFields(link) }), { max: MAX_LINKS }) }),
      (t) => ({
        type: t.type,
        links: t.links.map(({ a, b, ...shape }) => ({ a, b, shape })),
      }),
    ),
  });
  return withDefault(
    either('"mesh", "ring" or an object with a type', (v) => typeof v === 'string', named, full),
    { type: 'mesh' } as const,
  );
}

/** One event: at a time, exactly one of partition (two or more disjoint groups of hosts), heal, stop or start. */
function eventSchema(hosts: number) {
  const host = hostRef(hosts);
  const fields = object({
    at: number({ min: 0, max: MAX_SECONDS }),
    partition: optional(list(list(host, { max: MAX_HOSTS }), { max: MAX_HOSTS })),
    heal: optional(literal(true)),
    stop: optional(host),
    start: optional(host),
  });
  return map(fields, (e, fail) => {
    const actions = (['partition', 'heal', 'stop', 'start'] as const).filter((k) => e[k] !== undefined);
    if (actions.length !== 1)
      fail(actions.length ? `one action per event, got ${actions.join(' and ')}` : 'expected one of partition, heal, stop, start');
    if (e.partition !== undefined) {
      if (e.partition.length < 2) fail('expected at least two groups of hosts', 'partition');
      const seen = new Set<number>();
      for (const h of e.partition.flat()) {
        if (seen.has(h)) fail(`h${h + 1} is in more than one group`, 'partition');
        seen.add(h);
      }
      return { at: e.at, type: 'partition' as const, groups: e.partition };
    }
    if (e.heal) return { at: e.at, type: 'heal' as const };
    if (e.stop !== undefined) return { at: e.at, type: 'stop' as const, host: e.stop };
    return { at: e.at, type: 'start' as const, host: e.start! };
  });
}

function attackSchema(hosts: number) {
  const host = hostRef(hosts);
  const doubleSpend = object({
    type: literal('double-spend'),
    attacker: host,
    merchant: host,
    /** Confirmations the merchant waits for, one trial set per value. */
    confirmations: withDefault(list(whole(0, 20), { min: 1, max: 10 }), [1]),
    trials: withDefault(whole(1, 200), 1),
    amount: withDefault(coins({ positive: true }), '10'),
    /** The attacker releases its branch anyway when the honest chain is this many blocks ahead. */
    giveUpBlocks: withDefault(whole(1, 200), 12),
    /** ...and also when, after the merchant's confirmations, its branch is more than this many blocks behind. */
    giveUpBehind: optional(whole(0, 50)),
  });
  return tagged('type', {
    'double-spend': map(doubleSpend, (a, fail) =>
      a.attacker === a.merchant ? fail('the merchant must be another host than the attacker', 'merchant') : a,
    ),
    selfish: object({ type: literal('selfish'), miner: host }),
  });
}

/** Each host's share of the total hash power: one per host, adding up to 1; default equal shares. */
function sharesSchema(hosts: number) {
  const shares = list(number({ min: 0, max: 1 }), { max: hosts });
  const checked = map(shares, (s, fail) => {
    if (s.length !== hosts) fail(`expected one share per host (${hosts}), got ${s.length}`);
    const sum = s.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 0.001) fail(`the shares must add up to 1, they add up to ${sum}`);
    return s;
  });
  return withDefault(
    checked,
    Array.from({ length: hosts }, () => 1 / hosts),
  );
}

/**
 * Runs the experiment once per value of blockIntervalSeconds, of linkDelayMs or of attackerShare
 * (at most 12). attackerShare gives the attack's host that share of the hash power and the other
 * hosts the rest, in the proportions of hashShares.
 */
const sweepSchema = map(
  object({
    blockIntervalSeconds: optional(list(number({ min: 0.1, max: 600 }), { min: 1, max: 12 })),
    linkDelayMs: optional(list(number({ min: 0, max: 10_000 }), { min: 1, max: 12 })),
    attackerShare: optional(list(number({ min: 0.01, max: 0.99 }), { min: 1, max: 12 })),
  }),
  (s, fail) => {
    const keys = (['blockIntervalSeconds', 'linkDelayMs', 'attackerShare'] as const).filter((k) => s[k] !== undefined);
    if (keys.length !== 1) fail('expected exactly one of blockIntervalSeconds, linkDelayMs, attackerShare');
    const key = keys[0]!;
    return { key, values: s[key]! };
  },
);

/**
 * The run's name names the output folder (lab-runs/NAME-TIME, written as root), so letters,
 * digits, '.', '_' and '-' only: "../../etc" or "a/b" would put it elsewhere.
 */
const nameSchema = optional(
  string({
    max: 80,
    pattern: /^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/,
    expected: "up to 80 letters, digits, '.', '_' or '-' (it names the output folder)",
  }),
);

/** Networks an experiment may run side by side (`parallel`). */
export const MAX_PARALLEL_NETWORKS = 32;

/** The fields of an experiment whose bounds depend on its host count and its default link. */
function fieldsFor(hosts: number, link: LinkShape) {
  const host = hostRef(hosts);
  return {
    name: nameSchema,
    description: withDefault(string({ max: 2000 }), ''),
    hosts: whole(2, MAX_HOSTS),
    topology: topologySchema(hosts, link),
    link: linkSchema,
    hashShares: sharesSchema(hosts),
    blockIntervalSeconds: withDefault(number({ min: 0.1, max: 600 }), 1),
    retargetInterval: withDefault(whole(1, 10_000), 50),
    statusIntervalSeconds: withDefault(number({ min: 0.05, max: 60 }), 1),
    /** Run until this many seconds, or until `blocks` blocks are in the best chain. */
    durationSeconds: withDefault(number({ min: 1, max: MAX_SECONDS }), 60),
    blocks: optional(whole(1, 100_000)),
    payments: withDefault(
      list(object({ at: number({ min: 0, max: MAX_SECONDS }), from: host, to: host, amount: coins({ positive: true }) }), {
        max: MAX_PAYMENTS,
      }),
      [],
    ),
    events: withDefault(list(eventSchema(hosts), { max: MAX_EVENTS }), []),
    attack: optional(attackSchema(hosts)),
    sweep: optional(sweepSchema),
    /**
     * Networks run side by side (jobs.ts): the sweep's runs, and a double spend's confirmation
     * counts each on a network of its own, this many at a time; the hash caps keep miners mostly
     * idle, so the wall time is the races', not the CPU's. At most MAX_PARALLEL_NETWORKS, and hosts x parallel ≤ MAX_HOSTS.
     */
    parallel: withDefault(whole(1, Math.max(1, Math.min(MAX_PARALLEL_NETWORKS, Math.floor(MAX_HOSTS / hosts)))), 1),
  };
}

/** What every field depends on, read first: the host count and the default link. */
const headSchema = object({ hosts: fieldsFor(MAX_HOSTS, UNSHAPED).hosts, link: linkSchema }, { unknownKeys: 'ignore' });

function experimentSchema(hosts: number, link: LinkShape, fileName: string) {
  return map(object(fieldsFor(hosts, link)), (x, fail) => {
    if (x.sweep?.key === 'attackerShare' && x.attack?.type !== 'double-spend')
      fail('an attackerShare sweep needs a double-spend attack', 'sweep');
    return { ...x, name: x.name || fileName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'experiment' };
  });
}

export type Experiment = Infer<ReturnType<typeof experimentSchema>>;
export type Topology = Experiment['topology'];
export type LabEvent = Experiment['events'][number];
export type LabPayment = Experiment['payments'][number];
export type Attack = NonNullable<Experiment['attack']>;

/** Checks an experiment; an InputError names `source` (the file) and the field. */
export function parseExperiment(json: unknown, fileName: string, source = `${fileName}.json`): Experiment {
  const head = check(headSchema, json, source);
  return check(experimentSchema(head.hosts, head.link, fileName), json, source);
}

/** The experiment once per value of its sweep (or once). */
export function sweepVariants(x: Experiment): Experiment[] {
  const sweep = x.sweep;
  if (!sweep) return [x];
  return sweep.values.map((v) => {
    if (sweep.key === 'blockIntervalSeconds') return { ...x, blockIntervalSeconds: v };
    if (sweep.key === 'linkDelayMs') return { ...x, link: { ...x.link, delayMs: v } };
    const attacker = x.attack?.type === 'double-spend' ? x.attack.attacker : 0;
    const rest = x.hashShares.reduce((a, b, i) => (i === attacker ? a : a + b), 0);
    const others = x.hashShares.length - 1;
    return { ...x, hashShares: x.hashShares.map((s, i) => (i === attacker ? v : rest > 0 ? (s / rest) * (1 - v) : (1 - v) / others)) };
  });
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
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
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

/**
 * The mean shortest-path length in links between two hosts (over ordered pairs that are connected):
 * a block crossing the graph takes about this many link delays at best, so propagation is compared
 * with link delay × mean hops. 1 on a full mesh. Breadth-first from every host: n² steps at most.
 */
export function meanHopCount(x: Experiment): number {
  const f = linkShapes(x);
  const n = x.hosts;
  const neighbours = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => j).filter((j) => j !== i && f(i, j) !== undefined),
  );
  let total = 0;
  let pairs = 0;
  for (let from = 0; from < n; from++) {
    const hops = new Array<number>(n).fill(-1);
    hops[from] = 0;
    const queue = [from];
    for (let k = 0; k < queue.length; k++) {
      const at = queue[k]!;
      for (const j of neighbours[at]!)
        if (hops[j] === -1) {
          hops[j] = hops[at]! + 1;
          total += hops[j]!;
          pairs++;
          queue.push(j);
        }
    }
  }
  return pairs ? total / pairs : 0;
}

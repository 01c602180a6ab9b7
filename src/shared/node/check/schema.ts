// One checker for the JSON inputs (config.json and --set, experiments/*.json, scenarios/*.json):
// a schema is a value, the TypeScript type is inferred from it (`Infer<typeof s>`), so a type and
// its checks cannot drift apart. Every value is bounded before it is used (numbers by range,
// strings and lists by length before they are walked, objects by their known keys), and a
// failure is an InputError naming the source and the field path, worded "expected ..., got ...".
//
// Why not a library (measured for issue 17: `npm install <pkg>` into an empty folder, `du -sk
// --apparent-size node_modules`; the same bad input { nodes: [.., .., .., { hashrate: 0 }] }):
//   valibot 1.5.0       1835 KiB, 10 files   "nodes.3.hashrate: Invalid value: Expected >=1 but received 0"
//   zod 4.6.7           6138 KiB, 841 files  "nodes.3.hashrate: Too small: expected number to be >=1"
//   @sinclair/typebox   2732 KiB, 1075 files "/nodes/3/hashrate: Expected number to be greater or equal to 1"
//   superstruct 2.0.2    195 KiB, 24 files   "nodes.3.hashrate: Expected a number greater than or equal to 1 but received `0`"
// All four infer types, none needs the network; but each needs a custom message on every rule to
// speak the project's words (hosts "h1".."h5", coins, "one share per host"), its own path printer
// (`nodes[3].hashrate`), and refinements for the cross-field rules (shares sum to 1, an attacker
// is not the merchant), so the library would carry the structure only. This folder is about 350
// lines with no dependency and gives: `x.json: nodes[3].hashrate: expected a number ≥ 1, got 0`.
// The explorer's URL parameters (src/explorer/params.ts) stay apart: strings from a path or a
// query, not JSON, refused as HTTP 400, each already one small check.
import { type FieldPath, InputError } from './input-error.js';

/** Thrown inside a check; check() turns it into an InputError naming the source. */
export class Rejection extends Error {
  constructor(
    readonly path: FieldPath,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface Schema<T> {
  /** What a good value is, for messages: "a whole number from 1 to 20". */
  readonly expected: string;
  /** True when the key may be absent from an object (optional() and withDefault()). */
  readonly optional?: boolean;
  /** Checks v, found at `at`, and returns the typed value; throws a Rejection naming the path. */
  readonly read: (v: unknown, at: FieldPath) => T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Rejects the value at `at`. */
export function reject(at: FieldPath, reason: string): never {
  throw new Rejection(at, reason);
}

/** Checks `value` against the schema; a failure is an InputError naming `source` and the path. */
export function check<T>(schema: Schema<T>, value: unknown, source: string): T {
  try {
    return schema.read(value, []);
  } catch (e) {
    if (e instanceof Rejection) throw new InputError(source, e.path, e.reason);
    throw e;
  }
}

/** A value as a message shows it, short whatever it is: a number, a quoted string cut at 40, "a list of 3". */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  return String(v);
}

const wrong = (s: { expected: string }, v: unknown, at: FieldPath): never => reject(at, `expected ${s.expected}, got ${show(v)}`);

const range = (min: number, max: number): string => (max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`);

/** A finite number in [min, max]; `whole` for integers. */
export function number(o: { readonly min: number; readonly max: number; readonly whole?: boolean }): Schema<number> {
  const s: Schema<number> = {
    expected: `${o.whole ? 'a whole number' : 'a number'} ${range(o.min, o.max)}`,
    read: (v, at) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < o.min || v > o.max || (o.whole && !Number.isInteger(v))) wrong(s, v, at);
      return v as number;
    },
  };
  return s;
}

/** A string of at most `max` characters (checked before `pattern` runs); `expected` words the pattern. */
export function string(o: {
  readonly max: number;
  readonly min?: number;
  readonly pattern?: RegExp;
  readonly expected?: string;
}): Schema<string> {
  const s: Schema<string> = {
    expected: o.expected ?? `a string of ${o.min ?? 0} to ${o.max} characters`,
    read: (v, at) => {
      if (typeof v !== 'string' || v.length > o.max || v.length < (o.min ?? 0) || (o.pattern && !o.pattern.test(v))) wrong(s, v, at);
      return v as string;
    },
  };
  return s;
}

export function boolean(): Schema<boolean> {
  const s: Schema<boolean> = { expected: 'true or false', read: (v, at) => (typeof v === 'boolean' ? v : wrong(s, v, at)) };
  return s;
}

/** One of the given strings (or `true`). */
export function literal<const L extends string | boolean>(...values: readonly L[]): Schema<L> {
  const s: Schema<L> = {
    expected: values.length === 1 ? JSON.stringify(values[0]) : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`,
    read: (v, at) => (values.includes(v as L) ? (v as L) : wrong(s, v, at)),
  };
  return s;
}

/** A list of at most `max` items (length checked before any item is read), at least `min`. */
export function list<T>(item: Schema<T>, o: { readonly max: number; readonly min?: number }): Schema<T[]> {
  const min = o.min ?? 0;
  const s: Schema<T[]> = {
    expected: `a list of ${min === 0 ? 'at most' : `${min} to`} ${o.max} entries, each ${item.expected}`,
    read: (v, at) => {
      if (!Array.isArray(v)) return wrong(s, v, at);
      if (v.length > o.max || v.length < min)
        reject(at, `expected ${min === 0 ? 'at most' : `${min} to`} ${o.max} entries, got ${v.length}`);
      return v.map((x, i) => item.read(x, [...at, i]));
    },
  };
  return s;
}

/** The key may be absent (or undefined): the value is then undefined. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return { expected: inner.expected, optional: true, read: (v, at) => (v === undefined ? undefined : inner.read(v, at)) };
}

/** The value may be JSON null (a server's "none"), else what inner reads. */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return { expected: `null or ${inner.expected}`, read: (v, at) => (v === null ? null : inner.read(v, at)) };
}

/** The key may be absent: the value is then `fallback`. */
export function withDefault<T>(inner: Schema<T>, fallback: T): Schema<T> {
  return { expected: inner.expected, optional: true, read: (v, at) => (v === undefined ? fallback : inner.read(v, at)) };
}

type Shape = Readonly<Record<string, Schema<unknown>>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Flat<
  { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { readonly [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

/** The same fields, each allowed to be absent (undefined): for a layer that only some keys come from. */
export function partial<S extends Shape>(shape: S): { readonly [K in keyof S]: Schema<Infer<S[K]> | undefined> } {
  return Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, optional(s)])) as {
    readonly [K in keyof S]: Schema<Infer<S[K]> | undefined>;
  };
}

/** Edit distance of two short strings (insert, delete, replace), for "did you mean". */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** "unknown key (did you mean statusPort?)" for a near miss, else the known keys. */
export function unknownKey(key: string, known: readonly string[]): string {
  const near = key.length <= 64 ? known.find((k) => editDistance(key.toLowerCase(), k.toLowerCase()) <= 2) : undefined;
  return near === undefined ? `unknown key (known: ${known.join(', ')})` : `unknown key (did you mean ${near}?)`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An object with exactly these keys (an unknown key is refused, naming the known ones; a missing
 * one names what it should be). Keys are read in the shape's order; the result is a new object,
 * so a `__proto__` key in the file is just an unknown key.
 */
export function object<S extends Shape>(shape: S, o: { readonly unknownKeys?: 'refuse' | 'ignore' } = {}): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const s: Schema<ObjectOf<S>> = {
    expected: 'an object',
    read: (v, at) => {
      if (!isPlainObject(v)) return wrong(s, v, at);
      if (o.unknownKeys !== 'ignore') for (const k of Object.keys(v)) if (!Object.hasOwn(shape, k)) reject([...at, k], unknownKey(k, keys));
      const out: Record<string, unknown> = {};
      for (const k of keys) {
        const field = shape[k]!;
        const x = Object.hasOwn(v, k) ? v[k] : undefined;
        if (x === undefined && !field.optional) reject([...at, k], `missing, expected ${field.expected}`);
        const value = field.read(x, [...at, k]);
        if (value !== undefined) out[k] = value;
      }
      return out as ObjectOf<S>;
    },
  };
  return s;
}

/** An object of any keys (at most `maxKeys`, each matching `key`) whose values all match `value`. */
export function record<T>(value: Schema<T>, o: { readonly maxKeys: number; readonly key: Schema<string> }): Schema<Record<string, T>> {
  const s: Schema<Record<string, T>> = {
    expected: `an object of at most ${o.maxKeys} keys`,
    read: (v, at) => {
      if (!isPlainObject(v)) return wrong(s, v, at);
      const keys = Object.keys(v);
      if (keys.length > o.maxKeys) reject(at, `expected at most ${o.maxKeys} keys, got ${keys.length}`);
      const out: Record<string, T> = Object.create(null) as Record<string, T>;
      for (const k of keys) out[o.key.read(k, [...at, k])] = value.read(v[k], [...at, k]);
      return out;
    },
  };
  return s;
}

/** Objects told apart by the string at `tag`: each case is an object() schema holding that tag as a literal. */
export function tagged<C extends Readonly<Record<string, Schema<object>>>>(tag: string, cases: C): Schema<Infer<C[keyof C]>> {
  const tags = literal(...Object.keys(cases));
  const s: Schema<Infer<C[keyof C]>> = {
    expected: `an object whose ${tag} is ${tags.expected}`,
    read: (v, at) => {
      if (!isPlainObject(v)) return wrong(s, v, at);
      const t = tags.read(v[tag], [...at, tag]);
      return cases[t]!.read(v, at) as Infer<C[keyof C]>;
    },
  };
  return s;
}

/** `when(v)` picks `a`, else `b`: a shorthand beside its long form ("ring" or {"type":"random",...}). */
export function either<A, B>(expected: string, when: (v: unknown) => boolean, a: Schema<A>, b: Schema<B>): Schema<A | B> {
  return { expected, optional: a.optional === true && b.optional === true, read: (v, at) => (when(v) ? a.read(v, at) : b.read(v, at)) };
}

/**
 * Turns a checked value into another, or refuses it for a rule across fields: `fail(reason,
 * ...subpath)` names the path below this value (fail('must add up to 1') or fail('...', 'merchant')).
 */
export function map<T, U>(
  inner: Schema<T>,
  f: (value: T, fail: (reason: string, ...below: FieldPath) => never, at: FieldPath) => U,
): Schema<U> {
  return {
    expected: inner.expected,
    ...(inner.optional ? { optional: true } : {}),
    read: (v, at) => f(inner.read(v, at), (reason, ...below) => reject([...at, ...below], reason), at),
  };
}

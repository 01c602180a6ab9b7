// The one error for a JSON input that is not what it should be: config.json and --set, an
// experiment file, a scenario file. It names where the input came from (a file or --set) and the
// field path inside it, so the node layer's error table prints one line:
//   experiments/x.json: payments[3].amount: expected a positive amount of coins, got "-1"
// and exits with code 2 (a usage error: the user can fix the file).

/** A field path inside an input: keys and list positions, outermost first. */
export type FieldPath = readonly (string | number)[];

export class InputError extends Error {
  override readonly name = 'InputError';
  /** The path as printed: `payments[3].amount`; '' for the input as a whole. */
  readonly path: string;
  constructor(
    /** Where the input came from: a file name, or `--set key`. */
    readonly source: string,
    path: FieldPath | string,
    /** What is wrong, after the project's "expected ..., got ..." wording. */
    readonly reason: string,
  ) {
    const where = typeof path === 'string' ? path : pathText(path);
    super(`${source}: ${where === '' ? '' : `${where}: `}${reason}`);
    this.path = where;
  }
}

/** Longest key shown in a path: a hostile file's megabyte-long key stays one short line. */
const MAX_KEY_CHARS = 40;

/** `['payments', 3, 'amount']` -> `payments[3].amount`; odd keys quoted: `networks["a b"]`. */
export function pathText(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part) && part.length <= MAX_KEY_CHARS) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part.length > MAX_KEY_CHARS ? `${part.slice(0, MAX_KEY_CHARS)}…` : part)}]`;
  }
  return out;
}

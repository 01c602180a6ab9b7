// Reads a JSON input file (config, experiment, scenario) bounded: at most `maxBytes` are read, in
// chunks, so a huge file or /dev/zero is never read whole; a missing, unreadable, oversized or
// non-JSON file is an InputError naming it, one line. JSON.parse itself is iterative in V8, so
// deep nesting costs memory bounded by the size limit, not stack.
import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from './input-error.js';

/** The first `max` bytes of a file. */
function readAtMost(file: string | URL, max: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    for (let got = 1; got > 0 && n < max; n += got) got = readSync(fd, buf, n, max - n, null);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Parses a JSON file of at most `maxBytes`; `name` is how messages call it (default: the path). */
export function readJsonFile(file: string | URL, maxBytes: number, name = file instanceof URL ? file.pathname : file): unknown {
  let bytes: Buffer;
  try {
    bytes = readAtMost(file, maxBytes + 1);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(name, '', code === 'ENOENT' ? 'cannot read: no such file' : `cannot read: ${code ?? (e as Error).message}`);
  }
  if (bytes.length > maxBytes) throw new InputError(name, '', `is over ${maxBytes} bytes`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError(name, '', `not JSON: ${(e as Error).message.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
}

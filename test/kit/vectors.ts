// Loads the real Bitcoin test data in test/vectors (provenance: test/vectors/SOURCES.md).
// Tests compile to dist/test/..., so paths are resolved from the project root, not from here:
// this file runs as dist/test/kit/vectors.js, three levels below the root.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const VECTORS_DIR = new URL('../../../test/vectors/', import.meta.url);

/** Absolute path of a file in test/vectors, e.g. vectorPath('bitcoin-core/sighash.json'). */
export function vectorPath(relPath: string): string {
  return fileURLToPath(new URL(relPath, VECTORS_DIR));
}

/** The text of a vector file. */
export function loadVectorText(relPath: string): string {
  return readFileSync(vectorPath(relPath), 'utf8');
}

/** A vector file parsed as JSON (the caller states the shape it expects). */
export function loadVector<T = unknown>(relPath: string): T {
  return JSON.parse(loadVectorText(relPath)) as T;
}

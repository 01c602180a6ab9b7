// Miner names in coinbase tags, as mining pools tag theirs. A coinbase's scriptSig is free-form after
// the BIP34 height push (up to 100 bytes, Core's bad-cb-length), and pools put their name there
// between slashes ("/ViaBTC/", "/Foundry USA Pool #dropgold/"); explorers such as mempool.space
// name a block's miner by matching that text. mvb writes "/<name>/" followed by the extra nonce
// (mvb's own miners with no name write "mvb"), and reads a tag back from any block, which anyone can
// write: the name is bounded and limited to printable ASCII before anything shows it.
import { getScriptOp } from './script.js';
import type { Tx } from './tx.js';

/** Longest miner name, in bytes (pools' tags are a few to ~20 characters). */
export const MAX_MINER_NAME_BYTES = 20;

/** What a name may hold: letters, digits, space and a few marks; never "/" (the tag's delimiter). */
const NAME_RE = /^[A-Za-z0-9 ._+#@()-]{1,20}$/;

/** A name a miner was asked to put in its blocks that cannot go there, with why. */
export class MinerNameError extends Error {
  override readonly name = 'MinerNameError';
}

/**
 * The name as it goes into the tag: trimmed, 1 to MAX_MINER_NAME_BYTES characters from NAME_RE's set.
 * Throws MinerNameError (one line) for anything else, so what the student typed is what the class sees.
 */
export function checkMinerName(text: string): string {
  const name = text.trim();
  if (name.length === 0) throw new MinerNameError('a miner name must not be empty');
  if (name.length > MAX_MINER_NAME_BYTES) throw new MinerNameError(`a miner name has at most ${MAX_MINER_NAME_BYTES} characters`);
  if (!NAME_RE.test(name)) throw new MinerNameError(`a miner name may hold letters, digits, spaces and . _ + # @ ( ) - only: "${name}"`);
  return name;
}

/** The tag bytes a named miner writes before its extra nonce: "/name/". */
export function minerTag(name: string): Uint8Array {
  return new TextEncoder().encode(`/${checkMinerName(name)}/`);
}

/**
 * The miner name a coinbase carries, or undefined: the data of the push after the BIP34 height, read
 * as ASCII up to its first unprintable byte, must start with "/name/" where name fits checkMinerName's
 * rules (so a hostile tag shows as nothing, never as markup or a 100-byte banner).
 */
export function coinbaseMinerName(coinbase: Tx): string | undefined {
  const text = coinbaseText(coinbase);
  const m = /^\/([^/]{1,20})\//.exec(text);
  if (m === null || !NAME_RE.test(m[1]!) || m[1] !== m[1]!.trim()) return undefined;
  return m[1];
}

/**
 * The printable ASCII at the start of the coinbase's free-form data (after the BIP34 height push), at
 * most 100 characters: what explorers show as a block's tag. '' when there is none.
 */
export function coinbaseText(coinbase: Tx): string {
  const scriptSig = coinbase.inputs[0]?.scriptSig;
  if (scriptSig === undefined) return '';
  // The height is one op (OP_1..OP_16 for heights 1 to 16, else a push); the tag is the op after it.
  const height = getScriptOp(scriptSig, 0);
  const tag = height.ok ? getScriptOp(scriptSig, height.next) : undefined;
  const data = tag?.ok ? tag.data : undefined;
  if (data === undefined) return '';
  let end = 0;
  while (end < data.length && end < 100 && data[end]! >= 0x20 && data[end]! <= 0x7e) end++;
  return String.fromCharCode(...data.subarray(0, end));
}

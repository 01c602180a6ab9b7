// The test networks' genesis blocks: a coinbase of 50 coins to nobody, mined at a trivial nBits
// (a couple of hashes at 0x207fffff), so test blocks cost nothing to mine. Cached per inputs.
import { assembleBlock, encodeBlock, makeCoinbase, p2pkhOutput, solveHeader, toHex } from '../../src/shared/core/index.js';

/** Regtest's powLimit in compact form (Bitcoin Core chainparams.cpp): any hash nearly always meets it. */
export const EASY_BITS = 0x207fffff;

const cache = new Map<string, string>();

/** A genesis block as hex, for config's `genesis` key. */
export function testGenesisHex(o: { bits?: number; time: number; tag: string }): string {
  const bits = o.bits ?? EASY_BITS;
  const key = `${bits}/${o.time}/${o.tag}`;
  let hex = cache.get(key);
  if (hex === undefined) {
    const cb = makeCoinbase(0, [p2pkhOutput(50n * 100_000_000n, new Uint8Array(20))], new TextEncoder().encode(o.tag));
    const b = assembleBlock(new Uint8Array(32), [cb], o.time, bits);
    const header = solveHeader(b.header, 1_000_000);
    if (!header) throw new Error('could not mine the test genesis');
    hex = toHex(encodeBlock({ header, txs: b.txs }));
    cache.set(key, hex);
  }
  return hex;
}

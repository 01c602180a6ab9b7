// A node's active chain, fetched over its block server as a wallet would: headers from genesis in
// batches of MAX_HEADERS_PER_MESSAGE, then the blocks, 100 per request. A cache (by hash) lets a
// poller download only what is new.
import { type Block, type ConsensusParams, type Header, hashToHex, headerHash, toHex } from '../../src/shared/core/index.js';
import { BlockClient } from '../../src/shared/node/net/blockclient.js';
import { MAX_HEADERS_PER_MESSAGE } from '../../src/shared/node/net/protocol.js';

const BLOCKS_PER_REQUEST = 100;

export async function fetchChain(
  params: ConsensusParams,
  host: string,
  port: number,
  cache: Map<string, Block> = new Map(),
): Promise<{ headers: Header[]; blocks: Block[] }> {
  const c = new BlockClient(params, host, port, 10_000);
  await c.connect();
  try {
    const headers: Header[] = [];
    for (;;) {
      const loc = headers.length ? [headerHash(headers[headers.length - 1]!)] : [params.genesisHash];
      const batch = await c.getHeaders(loc, MAX_HEADERS_PER_MESSAGE);
      headers.push(...batch);
      if (batch.length < MAX_HEADERS_PER_MESSAGE) break;
    }
    const hashes = headers.map(headerHash);
    const missing = hashes.filter((h) => !cache.has(toHex(h)));
    for (let i = 0; i < missing.length; i += BLOCKS_PER_REQUEST) {
      for (const b of await c.getBlocks(missing.slice(i, i + BLOCKS_PER_REQUEST))) cache.set(toHex(headerHash(b.header)), b);
    }
    const blocks = hashes.map((h) => {
      const b = cache.get(toHex(h));
      if (b === undefined) throw new Error(`${host}:${port} did not serve block ${hashToHex(h)}`);
      return b;
    });
    return { headers, blocks };
  } finally {
    c.close();
  }
}

// A small helper process the multi-host tests run inside a network namespace
// (`ip netns exec <ns> node dist/test/kit/netns-agent.js <settings JSON>`), so the test can see
// that host's network from the inside. It speaks newline-delimited JSON on stdin/stdout:
//   out  {"ev":"ready"}                                   once the status port is bound
//   out  {"ev":"status","nodeId","height","tip","chainWork","mempool","from"}  every status heard
//   in   {"id":1,"op":"chain","host":"10.0.0.1","port":2607}
//   out  {"id":1,"ok":true,"blocks":["<block hex>", ...]}  the host's active chain after genesis
//   in   {"id":2,"op":"send","hex":"<tx hex>","port":2608,"addresses":["10.0.0.255"]}
//   out  {"id":2,"ok":true}
// Failures answer {"id","ok":false,"error"}. The agent exits when stdin closes (the test ended or
// died), so it never outlives the test.
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import { fromHex, hashToHex, toHex } from '../../src/shared/core/bytes.js';
import { encodeBlock } from '../../src/shared/core/block.js';
import { loadSettings } from '../../src/shared/node/config.js';
import { headerHash } from '../../src/shared/core/header.js';
import { BlockClient } from '../../src/shared/node/net/blockclient.js';
import { MAX_DATAGRAM_BYTES, MAX_HEADERS_PER_MESSAGE, MsgType, decodeFrame, decodeStatus } from '../../src/shared/node/net/protocol.js';
import { sendOnce } from '../../src/shared/node/net/udp.js';

const sets = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const settings = loadSettings({ network: 'devnet', sets: Object.entries(sets).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`) });
const params = settings.params;

function out(o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

const statusSocket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
statusSocket.on('message', (msg, rinfo) => {
  try {
    const f = decodeFrame(params, new Uint8Array(msg.buffer, msg.byteOffset, msg.length), MAX_DATAGRAM_BYTES);
    if (f.type !== MsgType.Status) return;
    const s = decodeStatus(f.payload);
    out({ ev: 'status', nodeId: toHex(s.nodeId), height: s.height, tip: hashToHex(s.tipHash), chainWork: s.chainWork.toString(), mempool: s.mempoolSize, from: rinfo.address });
  } catch {
    /* not ours */
  }
});
statusSocket.on('error', (e) => out({ ev: 'error', error: e.message }));

/** Blocks already fetched, by hash: a poll only downloads what is new. */
const blockCache = new Map<string, string>();

async function chain(host: string, port: number): Promise<string[]> {
  const c = new BlockClient(params, host, port, 10_000);
  await c.connect();
  try {
    const hashes: Uint8Array[] = [];
    for (;;) {
      const batch = await c.getHeaders([hashes.length ? hashes[hashes.length - 1]! : params.genesisHash], MAX_HEADERS_PER_MESSAGE);
      hashes.push(...batch.map(headerHash));
      if (batch.length < MAX_HEADERS_PER_MESSAGE) break;
    }
    const missing = hashes.filter((h) => !blockCache.has(toHex(h)));
    for (let i = 0; i < missing.length; i += 100) {
      for (const b of await c.getBlocks(missing.slice(i, i + 100))) blockCache.set(toHex(headerHash(b.header)), toHex(encodeBlock(b)));
    }
    return hashes.map((h) => {
      const hex = blockCache.get(toHex(h));
      if (hex === undefined) throw new Error(`${host}:${port} did not serve block ${hashToHex(h)}`);
      return hex;
    });
  } finally {
    c.close();
  }
}

async function handle(line: string): Promise<void> {
  let req: { id: number; op: string; host?: string; port?: number; hex?: string; addresses?: string[] };
  try {
    req = JSON.parse(line);
  } catch {
    return;
  }
  try {
    if (req.op === 'chain') out({ id: req.id, ok: true, blocks: await chain(req.host!, req.port!) });
    else if (req.op === 'send') {
      await sendOnce(params, MsgType.Tx, fromHex(req.hex!), req.port!, req.addresses!);
      out({ id: req.id, ok: true });
    } else throw new Error(`unknown op ${req.op}`);
  } catch (e) {
    out({ id: req.id, ok: false, error: (e as Error).message });
  }
}

statusSocket.bind(settings.statusPort, () => {
  out({ ev: 'ready' });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => void handle(l));
  rl.on('close', () => {
    statusSocket.close();
    process.exit(0);
  });
});

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
import { createInterface } from 'node:readline';
import { fromHex, hashToHex, toHex } from '../../src/shared/core/bytes.js';
import { encodeBlock } from '../../src/shared/core/block.js';
import { formatSets, loadSettings } from '../../src/shared/node/cli/config.js';
import { type Block } from '../../src/shared/core/block.js';
import { StatusListener } from '../../src/shared/node/net/status-listener.js';
import { fetchChain } from './chain-fetch.js';
import { MsgType } from '../../src/shared/node/net/protocol.js';
import { sendOnce } from '../../src/shared/node/net/udp.js';

const sets = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const settings = loadSettings({ network: 'devnet', sets: formatSets(sets) });
const params = settings.params;

function out(o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

const statusListener = new StatusListener(params, settings.statusPort, (s, from) => {
  out({
    ev: 'status',
    nodeId: toHex(s.nodeId),
    height: s.height,
    tip: hashToHex(s.tipHash),
    chainWork: s.chainWork.toString(),
    mempool: s.mempoolSize,
    from: from.address,
  });
});

/** Blocks already fetched, by hash: a poll only downloads what is new. */
const blockCache = new Map<string, Block>();

async function chain(host: string, port: number): Promise<string[]> {
  const { blocks } = await fetchChain(params, host, port, blockCache);
  return blocks.map((b) => toHex(encodeBlock(b)));
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

statusListener.listening().then(
  () => {
    out({ ev: 'ready' });
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (l) => void handle(l));
    rl.on('close', () => {
      void statusListener.close().then(() => process.exit(0));
    });
  },
  (e: Error) => {
    out({ ev: 'error', error: e.message });
    process.exit(1);
  },
);

// A lying Esplora server for the light wallet's tests: an HTTP proxy in front of a real explorer
// that changes one thing about one transaction (the victim) and passes everything else through as
// the explorer answered it. Each lie is one a real server could tell: a wrong Merkle branch, a
// block off the best chain, a forged amount in its JSON, a raw transaction of another txid, or the
// transaction left out of the address's history.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type LieMode = 'branch' | 'off-best-chain' | 'amount' | 'txid' | 'hide';

export interface LyingExplorer {
  readonly url: string;
  /** Requests answered with the lie applied (the test checks the lie was told). */
  readonly told: number;
  close(): Promise<void>;
}

export interface LieSpec {
  readonly mode: LieMode;
  /** The transaction lied about (display hex). */
  readonly victim: string;
  /** 'txid': the raw hex served in its place; 'off-best-chain': the block hash claimed. */
  readonly substitute?: string;
}

type TxJson = { txid: string; status: { block_hash?: string }; vout: { value: number }[] };

/** The explorer's answer with the lie applied, or undefined to pass it through. */
function lieAbout(path: string, body: string, s: LieSpec): string | undefined {
  if (/^\/api\/address\/[^/]+\/txs\/chain(\/[0-9a-f]{64})?$/.test(path)) {
    const list = JSON.parse(body) as TxJson[];
    const v = list.find((t) => t.txid === s.victim);
    if (!v) return undefined;
    if (s.mode === 'hide') return JSON.stringify(list.filter((t) => t !== v));
    if (s.mode === 'amount') v.vout[0]!.value *= 10;
    else if (s.mode === 'off-best-chain') v.status.block_hash = s.substitute!;
    else return undefined;
    return JSON.stringify(list);
  }
  if (path === `/api/tx/${s.victim}/merkle-proof` && s.mode === 'branch') {
    const p = JSON.parse(body) as { merkle: string[] };
    p.merkle[0] = p.merkle[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    return JSON.stringify(p);
  }
  if (path === `/api/tx/${s.victim}/hex` && s.mode === 'txid') return s.substitute!;
  return undefined;
}

export async function startLyingExplorer(target: string, spec: LieSpec): Promise<LyingExplorer> {
  let told = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const init: RequestInit = { method: req.method, signal: AbortSignal.timeout(10_000) };
      if (req.method === 'POST') init.body = Buffer.concat(chunks).toString();
      fetch(target + req.url, init)
        .then(async (r) => {
          const body = await r.text();
          const lied = r.ok ? lieAbout(new URL(req.url!, 'http://x').pathname, body, spec) : undefined;
          if (lied !== undefined) told++;
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
          res.end(lied ?? body);
        })
        .catch((e: Error) => {
          res.writeHead(502);
          res.end(e.message);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get told() {
      return told;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

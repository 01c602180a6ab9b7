// Explorer test harness: an explorer in-process (its own LMDB datadir, HTTP on a free loopback
// port) on a loopback test network, and small fetch helpers that return status and body.
import { join } from 'node:path';
import { Api } from '../../src/explorer/api.js';
import { Explorer } from '../../src/explorer/explorer.js';
import { ExplorerHttp } from '../../src/explorer/http.js';
import type { Settings } from '../../src/shared/node/cli/config.js';
import { removeDir, tempDir, waitFor } from './procs.js';

export interface RunningExplorer {
  readonly ex: Explorer;
  readonly http: ExplorerHttp;
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

/** An explorer on a fresh temporary datadir (or on dir, which stop() then keeps). */
export async function startExplorer(settings: Settings, keepDir?: string): Promise<RunningExplorer> {
  const dir = keepDir ?? tempDir('explorer');
  const ex = new Explorer({ settings, chainDir: join(dir, 'chain') });
  const http = new ExplorerHttp(new Api(ex));
  await ex.start();
  const a = await http.listen('127.0.0.1', 0);
  return {
    ex,
    http,
    dir,
    url: `http://127.0.0.1:${a.port}`,
    async stop() {
      await http.close();
      await ex.stop();
      if (!keepDir) removeDir(dir);
    },
  };
}

export interface HttpResult {
  readonly status: number;
  readonly text: string;
  readonly type: string;
}

export async function get(base: string, path: string, init?: RequestInit): Promise<HttpResult> {
  const r = await fetch(base + path, init);
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') ?? '' };
}

export async function getJson<T = any>(base: string, path: string): Promise<T> {
  const r = await get(base, path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

export function waitHeight(ex: Explorer, h: number, timeoutMs = 20_000): Promise<true> {
  return waitFor(
    () => ex.chain.height >= h || undefined,
    timeoutMs,
    () => `explorer at height ${ex.chain.height}, waiting for ${h}`,
  );
}

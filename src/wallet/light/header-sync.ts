// Headers from miners' block servers (the same GETHEADERS a node's sync sends, blockclient.ts):
// the servers are those given with --peer and those heard announcing a tip on the status port,
// tried most announced work first, at most MAX_SERVERS of them, each with a deadline per answer and
// a bounded number of rounds; every header goes through the core's checks (headers.ts). The result
// says what each server served, and which announced more work than we could get from it.
import { hashToHex } from '../../shared/core/bytes.js';
import type { ConsensusParams } from '../../shared/core/params.js';
import { ValidationError } from '../../shared/core/validation.js';
import { BlockClient, PeerError } from '../../shared/node/net/blockclient.js';
import { MAX_HEADERS_PER_MESSAGE } from '../../shared/node/net/protocol.js';
import { StatusListener } from '../../shared/node/net/status-listener.js';
import type { LightHeaders } from './headers.js';

/** Block servers asked at most, per sync. */
export const MAX_SERVERS = 8;
/** GETHEADERS rounds per server at most (2 000 headers each: 2 million headers). */
const MAX_ROUNDS = 1000;

export interface BlockServerAddr {
  readonly host: string;
  readonly port: number;
  /** What its status announced, when heard. */
  readonly announcedWork?: bigint;
  readonly announcedHeight?: number;
}

export interface ServerReport {
  readonly server: string;
  readonly newHeaders: number;
  readonly error?: string;
  readonly announcedHeight?: number;
  /** It announced more work than our best chain has after the sync. */
  readonly announcedMore: boolean;
}

const nameOf = (s: BlockServerAddr) => `${s.host}:${s.port}`;

/**
 * Listens on the status port for miners announcing a tip: until one is heard (at most waitMs),
 * then one status interval more so that the others are heard too. Distinct by address and port.
 */
export async function hearBlockServers(
  params: ConsensusParams,
  statusPort: number,
  waitMs: number,
  intervalMs: number,
): Promise<BlockServerAddr[]> {
  const heard = new Map<string, BlockServerAddr>();
  let first: () => void = () => {};
  const firstHeard = new Promise<void>((resolve) => (first = resolve));
  const listener = new StatusListener(params, statusPort, (s, from) => {
    if (s.blockServerPort === 0 || heard.size >= 64) return;
    const a = { host: from.address, port: s.blockServerPort, announcedWork: s.chainWork, announcedHeight: s.height };
    const prev = heard.get(nameOf(a));
    if (!prev || (prev.announcedWork ?? 0n) < s.chainWork) heard.set(nameOf(a), a);
    first();
  });
  await listener.listening();
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([firstHeard, timeout]);
    clearTimeout(timer);
    if (heard.size > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  } finally {
    await listener.close();
  }
  return [...heard.values()];
}

/** Headers from one server until it has no more for our locator, or the rounds or the deadline run out. */
async function fromServer(
  headers: LightHeaders,
  params: ConsensusParams,
  s: BlockServerAddr,
  timeoutMs: number,
  deadline: number,
): Promise<number> {
  const client = new BlockClient(params, s.host, s.port, timeoutMs);
  let added = 0;
  try {
    await client.connect();
    for (let round = 0; round < MAX_ROUNDS && Date.now() < deadline; round++) {
      const got = await client.getHeaders(headers.locator(), MAX_HEADERS_PER_MESSAGE);
      if (got.length > MAX_HEADERS_PER_MESSAGE) throw new PeerError(`sent ${got.length} headers, more than ${MAX_HEADERS_PER_MESSAGE}`);
      const n = headers.accept(got, Math.floor(Date.now() / 1000));
      added += n;
      // A full answer that taught us nothing new is a server going round in circles: stop asking it.
      if (got.length < MAX_HEADERS_PER_MESSAGE || n === 0) break;
    }
    return added;
  } finally {
    client.close();
  }
}

export async function syncHeaders(
  headers: LightHeaders,
  params: ConsensusParams,
  servers: readonly BlockServerAddr[],
  o: { readonly timeoutMs: number; readonly deadline: number },
): Promise<ServerReport[]> {
  const order = [...servers].sort((a, b) => ((b.announcedWork ?? 0n) > (a.announcedWork ?? 0n) ? 1 : -1)).slice(0, MAX_SERVERS);
  const out: { s: BlockServerAddr; newHeaders: number; error?: string }[] = [];
  for (const s of order) {
    if (Date.now() >= o.deadline) {
      out.push({ s, newHeaders: 0, error: 'not asked: the deadline passed' });
      continue;
    }
    try {
      out.push({ s, newHeaders: await fromServer(headers, params, s, o.timeoutMs, o.deadline) });
    } catch (e) {
      const why = e instanceof ValidationError ? `sent an invalid header (${e.message})` : (e as Error).message;
      out.push({ s, newHeaders: 0, error: why });
    }
  }
  const ours = headers.tip.chainWork;
  return out.map(({ s, newHeaders, error }) => ({
    server: nameOf(s),
    newHeaders,
    ...(error !== undefined ? { error } : {}),
    ...(s.announcedHeight !== undefined ? { announcedHeight: s.announcedHeight } : {}),
    announcedMore: (s.announcedWork ?? 0n) > ours,
  }));
}

export const tipLine = (headers: LightHeaders): string => `height ${headers.height}, tip ${hashToHex(headers.tip.hash).slice(0, 16)}…`;

// The fuzzer behind `npm run fuzz [-- --count N] [--seed S] [--udp N]`: every decoder (network
// messages, frames and the TCP frame reader, transactions, headers, blocks, addresses, DER
// signatures, scripts, store records) fed random bytes and mutated valid encodings, and what
// decodes fed on to the checks behind it (a mempool's admission, a chain's block processing),
// which may only refuse with ValidationError. Anything else thrown is a crash. Cases run in a
// worker thread watched from the main thread: a case that takes over CASE_CAP_MS is a hang and
// ends the run. With --udp N, N random and mutated datagrams also go to both UDP ports of a real
// miner process on loopback (from many loopback source addresses, so the per-source rate limit
// does not hide the decoders), which must stay alive and keep announcing its tip.
//
// Reproducible: a case is a function of (seed, index); a failure prints both.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { AddressError, decodeAddress } from '../../src/shared/core/address.js';
import { DecodeError } from '../../src/shared/core/bytes.js';
import { decodeBlock, encodeBlock } from '../../src/shared/core/block.js';
import { decodeBlockTxn, decodeGetBlockTxn, encodeBlockTxn, encodeGetBlockTxn } from '../../src/shared/core/block-txn.js';
import { compactFromBlock, decodeCompactBlock, encodeCompactBlock, maxBlockTxs } from '../../src/shared/core/compact-block.js';
import { finishRebuild, startRebuild } from '../../src/shared/core/compact-rebuild.js';
import { decodeCompactAnnouncement, encodeCompactAnnouncement } from '../../src/shared/node/net/compact-relay.js';
import { Chain, MemoryChainStore } from '../../src/shared/core/chain.js';
import { parseDer } from '../../src/shared/core/ecdsa.js';
import { decodeHeader, encodeHeader } from '../../src/shared/core/header.js';
import { parsePushes } from '../../src/shared/core/script.js';
import { decodeTx, encodeTx } from '../../src/shared/core/tx.js';
import { ValidationError } from '../../src/shared/core/validation.js';
import { Mempool } from '../../src/shared/node/mempool/pool.js';
import {
  FrameReader,
  MAX_DATAGRAM_BYTES,
  MsgType,
  decodeFrame,
  decodeGetHeaders,
  decodeHashes,
  decodeHeaders,
  decodeStatus,
  encodeFrame,
  encodeGetHeaders,
  encodeHashes,
  encodeHeaders,
  encodeStatus,
  maxPayloadBytes,
} from '../../src/shared/node/net/protocol.js';
import { decodeCoin, decodeEntry, decodeUndo, encodeCoin, encodeEntry, encodeUndo } from '../../src/shared/node/store/records.js';
import { BlockGen, NOW, alice, bob, coinbaseCoin, makeTestParams, transfer } from '../kit/blockgen.js';

/** A case slower than this is a hang. */
export const CASE_CAP_MS = 2000;

/** xorshift32: small, seeded, reproducible. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.s = x >>> 0);
  }
  int(n: number): number {
    return this.u32() % Math.max(1, n);
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** One mutation of a valid encoding: flip, replace, insert, delete, truncate, extend, huge length. */
export function mutate(rng: Rng, valid: Uint8Array): Uint8Array {
  const b = Uint8Array.from(valid);
  const at = rng.int(b.length);
  switch (rng.int(8)) {
    case 0:
      b[at] = b[at]! ^ (1 << rng.int(8));
      return b;
    case 1:
      for (let k = rng.int(8) + 1; k > 0; k--) b[rng.int(b.length)] = rng.u32() & 0xff;
      return b;
    case 2:
      return Uint8Array.from([...b.subarray(0, at), ...rng.bytes(rng.int(16) + 1), ...b.subarray(at)]);
    case 3:
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + rng.int(16) + 1)]);
    case 4:
      return b.subarray(0, at);
    case 5:
      return Uint8Array.from([...b, ...rng.bytes(rng.int(64) + 1)]);
    case 6: {
      // A CompactSize or length field claiming the most it can.
      const huge = [
        Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0xfd, 0xff, 0xff),
      ][rng.int(3)]!;
      const c = Uint8Array.from(b);
      c.set(huge.subarray(0, Math.min(huge.length, c.length - at)), at);
      return c;
    }
    default: {
      const len = rng.int(32) + 1;
      const from = rng.int(b.length);
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(from, from + len), ...b.subarray(at)]);
    }
  }
}

/** Valid encodings to mutate, and the context decoded values are fed to. */
export function corpus() {
  const params = makeTestParams();
  const gen = new BlockGen(params);
  const blocks = gen.chain(params.genesis, 6);
  const store = new MemoryChainStore();
  const chain = new Chain(params, store);
  for (const b of blocks) chain.processBlock(b, NOW);
  const tx = transfer(coinbaseCoin(blocks[0]!), bob, 1000n);
  const rich = gen.block(blocks[5]!, { txs: [transfer(coinbaseCoin(blocks[1]!), alice, 500n)] });
  const headers = blocks.map((b) => b.header);
  const status = encodeStatus({
    tipHash: new Uint8Array(32).fill(3),
    height: 6,
    chainWork: 123456789n,
    blockServerPort: 2607,
    nodeId: new Uint8Array(8).fill(5),
    mempoolSize: 2,
    name: 'fuzz (a name)',
  });
  const samples: Record<string, Uint8Array> = {
    tx: encodeTx(tx),
    block: encodeBlock(rich),
    header: encodeHeader(headers[0]!),
    headers: encodeHeaders(headers),
    status,
    hashes: encodeHashes(headers.map(() => new Uint8Array(32).fill(9))),
    getheaders: encodeGetHeaders([params.genesisHash], 2000),
    frameTx: encodeFrame(params, MsgType.Tx, encodeTx(tx)),
    frameStatus: encodeFrame(params, MsgType.Status, status),
    coin: encodeCoin({ value: 5000n, scriptPubKey: tx.outputs[0]!.scriptPubKey, height: 3, coinbase: true }),
    undo: encodeUndo([{ value: 5000n, scriptPubKey: tx.outputs[0]!.scriptPubKey, height: 3, coinbase: false }]),
    der: tx.inputs[0]!.scriptSig.subarray(1, tx.inputs[0]!.scriptSig[0]!),
    script: tx.inputs[0]!.scriptSig,
    address: new TextEncoder().encode('DE5AnwFwAzWZykT9yFz9n4et8XfXBuwApp'),
    entry: encodeEntry({ hash: params.genesisHash, header: headers[0]!, height: 1, chainWork: 99n, status: 'valid', seq: 4 }),
    cmpctblock: encodeCompactBlock(compactFromBlock(rich, 7n)),
    compactAnnounce: encodeCompactAnnouncement(new Uint8Array(8).fill(5), 2607, encodeCompactBlock(compactFromBlock(rich, 8n))),
    getblocktxn: encodeGetBlockTxn({ blockHash: new Uint8Array(32).fill(4), indexes: [1, 2, 9, 300] }),
    blocktxn: encodeBlockTxn({ blockHash: new Uint8Array(32).fill(4), txs: rich.txs }),
  };
  return { params, chain, samples, pool: () => new Mempool(chain, { minRelayFeeRate: 1, maxBytes: 1_000_000 }) };
}

/** Errors a decoder may throw on bad input. */
const expected = (e: unknown): boolean => e instanceof DecodeError || e instanceof ValidationError || e instanceof AddressError;

type Target = (bytes: Uint8Array) => void;

/** Every decoder, and what a decoded value goes on to. */
export function targets(c: ReturnType<typeof corpus>): Record<string, Target> {
  const { params, chain } = c;
  const pool = c.pool();
  return {
    tx: (b) => {
      const tx = decodeTx(b);
      pool.accept(tx);
    },
    block: (b) => {
      chain.processBlock(decodeBlock(b), NOW);
    },
    header: (b) => void chain.acceptHeader(decodeHeader(b), NOW),
    headers: (b) => void decodeHeaders(b),
    status: (b) => void decodeStatus(b),
    hashes: (b) => void decodeHashes(b),
    getheaders: (b) => void decodeGetHeaders(b),
    frameTx: (b) => void decodeFrame(params, b, MAX_DATAGRAM_BYTES),
    frameStatus: (b) => {
      const r = new FrameReader(params, maxPayloadBytes(params));
      for (let i = 0; i < b.length; i += 7) r.push(b.subarray(i, i + 7));
    },
    coin: (b) => void decodeCoin(b),
    undo: (b) => void decodeUndo(b),
    der: (b) => void parseDer(b),
    script: (b) => void parsePushes(b),
    address: (b) => void decodeAddress(new TextDecoder().decode(b)),
    entry: (b) => void decodeEntry(new Uint8Array(32), b),
    cmpctblock: (b) => {
      const start = startRebuild(decodeCompactBlock(b, maxBlockTxs(params.maxBlockBytes)), pool.all());
      if (start.status === 'partial') finishRebuild(start.partial);
    },
    compactAnnounce: (b) => void decodeCompactAnnouncement(b, maxBlockTxs(params.maxBlockBytes)),
    getblocktxn: (b) => void decodeGetBlockTxn(b, maxBlockTxs(params.maxBlockBytes)),
    blocktxn: (b) => void decodeBlockTxn(b, maxBlockTxs(params.maxBlockBytes)),
  };
}

export interface FuzzResult {
  cases: number;
  crashes: { target: string; index: number; error: string }[];
  slowestMs: number;
}

/** Runs cases [from, from + count) of a seed in this thread; `current` (if given) holds the case running. */
export function runCases(seed: number, from: number, count: number, current?: Int32Array): FuzzResult {
  const c = corpus();
  const ts = targets(c);
  const names = Object.keys(ts);
  const res: FuzzResult = { cases: 0, crashes: [], slowestMs: 0 };
  for (let i = from; i < from + count; i++) {
    if (current) Atomics.store(current, 0, i);
    const rng = new Rng(seed * 2654435761 + i);
    const name = names[i % names.length]!;
    const valid = c.samples[name] ?? c.samples['header']!;
    const input = rng.int(4) === 0 ? rng.bytes(rng.int(300)) : mutate(rng, valid);
    const t0 = performance.now();
    try {
      ts[name]!(input);
    } catch (e) {
      if (!expected(e))
        res.crashes.push({
          target: name,
          index: i,
          error: String((e as Error)?.stack ?? e)
            .split('\n')
            .slice(0, 3)
            .join(' | '),
        });
    }
    res.slowestMs = Math.max(res.slowestMs, performance.now() - t0);
    res.cases++;
  }
  return res;
}

/**
 * Runs the cases in a worker thread; the main thread watches which case runs and ends the worker
 * as a hang when one case has run for more than CASE_CAP_MS.
 */
export function fuzzInWorker(seed: number, count: number): Promise<FuzzResult & { hang?: number }> {
  const current = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(current, 0, -1);
  return new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { seed, count, current } });
    let seen = -1;
    let since = Date.now();
    const watchdog = setInterval(() => {
      const now = Atomics.load(current, 0);
      if (now !== seen) {
        seen = now;
        since = Date.now();
      } else if (now >= 0 && Date.now() - since > CASE_CAP_MS) {
        clearInterval(watchdog);
        void w.terminate();
        resolve({ cases: now, crashes: [], slowestMs: Date.now() - since, hang: now });
      }
    }, 50);
    w.on('message', (m: FuzzResult) => {
      clearInterval(watchdog);
      resolve(m);
    });
    w.on('error', (e) => {
      clearInterval(watchdog);
      reject(e);
    });
  });
}

if (!isMainThread && parentPort && (workerData as { seed?: number })?.seed !== undefined) {
  const { seed, count, current } = workerData as { seed: number; count: number; current: Int32Array };
  parentPort.postMessage(runCases(seed, 0, count, current));
}

/** Random and mutated frames, checksums made valid half the time so payload decoders are reached. */
export function* datagrams(seed: number, n: number): Generator<{ bytes: Uint8Array; port: 'status' | 'tx' }> {
  const c = corpus();
  for (let i = 0; i < n; i++) {
    const rng = new Rng(seed * 40503 + i);
    const port = i % 2 ? 'status' : 'tx';
    // Every fourth datagram to the status port is a compact block (BIP152, net/compact-relay.ts).
    const compact = port === 'status' && i % 4 === 1;
    const type = port === 'tx' ? MsgType.Tx : compact ? MsgType.CompactBlock : MsgType.Status;
    const payload = port === 'tx' ? c.samples['tx']! : c.samples[compact ? 'compactAnnounce' : 'status']!;
    const pick = rng.int(3);
    const bytes =
      pick === 0
        ? rng.bytes(rng.int(200))
        : pick === 1
          ? mutate(rng, encodeFrame(c.params, type, payload))
          : encodeFrame(c.params, type, mutate(rng, payload));
    yield { bytes, port };
  }
}

// Chains to benchmark on: a test network with trivial proof of work (powLimitBits 0x207fffff, a
// couple of hashes per block) and blocks that carry real signed P2PKH transactions, so connecting
// them costs what it costs on a real chain (signature checks, coin lookups, undo data).
import {
  COIN,
  type Block,
  type ConsensusParams,
  type Tx,
  assembleBlock,
  encodeBlock,
  hash160,
  headerHash,
  makeCoinbase,
  makeParams,
  p2pkhOutput,
  publicKeyOf,
  signP2pkhTx,
  solveHeader,
  toHex,
  txid,
} from '../../../shared/core/index.js';

export const BENCH_GENESIS_TIME = 1_700_000_000;
/** A validating clock far past every block time built here. */
export const BENCH_NOW = BENCH_GENESIS_TIME + 50_000_000;
const BITS = 0x207fffff;
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 7 : 0));
const PKH = hash160(publicKeyOf(SECRET));

function solved(prevHash: Uint8Array, txs: Tx[], time: number): Block {
  const b = assembleBlock(prevHash, txs, time, BITS);
  const header = solveHeader(b.header, 1_000_000);
  if (!header) throw new Error('could not solve a benchmark block');
  return { header, txs: b.txs };
}

/** The benchmark network: coinbases mature after 1 block, no halving or retarget in reach. */
export function benchParams(): ConsensusParams {
  const cb = makeCoinbase(0, [p2pkhOutput(50n * COIN, new Uint8Array(20))], new TextEncoder().encode('mvb bench genesis'));
  const genesis = solved(new Uint8Array(32), [cb], BENCH_GENESIS_TIME);
  return makeParams({
    name: 'bench',
    magic: '6d766278',
    addressVersion: 111,
    genesis: toHex(encodeBlock(genesis)),
    targetBlockSeconds: 1,
    retargetInterval: 10_000_000,
    powLimitBits: BITS,
    subsidy: '5000000000',
    halvingInterval: 10_000_000,
    coinbaseMaturity: 1,
    maxBlockBytes: 1_000_000,
    maxTxBytes: 60_000,
    maxHashrate: 0,
    statusBroadcastIntervalSeconds: 1,
    transactionBroadcastIntervalSeconds: 2,
  } as Parameters<typeof makeParams>[0]);
}

export interface Workload {
  readonly params: ConsensusParams;
  /** Blocks 1..n, oldest first. */
  readonly blocks: Block[];
}

/**
 * n blocks; from block 2 on each carries one transaction spending every output of the previous
 * block's transaction (block 2's spends block 1's coinbase) into `inputs` fresh outputs: `inputs`
 * signature checks per block, coins created and spent throughout, like a busy classroom chain.
 */
export function chainWorkload(n: number, inputs: number, params = benchParams()): Workload {
  const blocks: Block[] = [];
  let prev = params.genesis;
  let prevOutputs: { txid: Uint8Array; vout: number; value: bigint }[] = [];
  for (let h = 1; h <= n; h++) {
    const cb = makeCoinbase(h, [p2pkhOutput(50n * COIN, PKH)], new TextEncoder().encode(`bench ${h}`));
    const txs: Tx[] = [cb];
    if (prevOutputs.length) {
      const total = prevOutputs.reduce((a, o) => a + o.value, 0n);
      const each = total / BigInt(inputs);
      const tx = signP2pkhTx(
        prevOutputs.map((o) => ({ prevTxid: o.txid, vout: o.vout, secretKey: SECRET })),
        Array.from({ length: inputs }, () => p2pkhOutput(each, PKH)),
      );
      txs.push(tx);
      prevOutputs = tx.outputs.map((o, vout) => ({ txid: txid(tx), vout, value: o.value }));
    } else {
      prevOutputs = [{ txid: txid(cb), vout: 0, value: cb.outputs[0]!.value }];
    }
    prev = solved(headerHash(prev.header), txs, BENCH_GENESIS_TIME + h);
    blocks.push(prev);
  }
  return { params, blocks };
}

/**
 * Two blocks: block 1 whose coinbase the fan-out spends, block 2 holding a transaction with
 * `inputs` outputs, then `fanIn()` gives the `inputs` one-input transactions spending them (for a
 * block of `inputs` signature checks, or a mempool to accept first).
 */
export function fanOutWorkload(inputs: number, params = benchParams()): { params: ConsensusParams; blocks: Block[]; spends: Tx[] } {
  const PER_TX = 1500; // 34-byte outputs: a fan-out transaction stays under maxTxBytes
  const fans = Math.ceil(inputs / PER_TX);
  const cb1 = makeCoinbase(
    1,
    Array.from({ length: fans }, () => p2pkhOutput((50n * COIN) / BigInt(fans), PKH)),
    new TextEncoder().encode('bench fan 1'),
  );
  const b1 = solved(params.genesisHash, [cb1], BENCH_GENESIS_TIME + 1);
  const fanTxs = Array.from({ length: fans }, (_, f) => {
    const n = Math.min(PER_TX, inputs - f * PER_TX);
    return signP2pkhTx(
      [{ prevTxid: txid(cb1), vout: f, secretKey: SECRET }],
      Array.from({ length: n }, () => p2pkhOutput(1_000_000n, PKH)),
    );
  });
  const cb2 = makeCoinbase(2, [p2pkhOutput(50n * COIN, PKH)], new TextEncoder().encode('bench fan 2'));
  const b2 = solved(headerHash(b1.header), [cb2, ...fanTxs], BENCH_GENESIS_TIME + 2);
  const spends = fanTxs.flatMap((fan) => {
    const id = txid(fan);
    return fan.outputs.map((_, vout) => signP2pkhTx([{ prevTxid: id, vout, secretKey: SECRET }], [p2pkhOutput(990_000n, PKH)]));
  });
  return { params, blocks: [b1, b2], spends };
}

/** Block `n+1` of a fan-out: the spends (after the coinbase). */
export function spendBlock(parent: Block, height: number, spends: readonly Tx[]): Block {
  const cb = makeCoinbase(height, [p2pkhOutput(50n * COIN, PKH)], new TextEncoder().encode(`bench spend ${height}`));
  return solved(headerHash(parent.header), [cb, ...spends], parent.header.time + 1);
}

/** One transaction spending every output of `tx` into one: as many signature checks as outputs. */
export function consolidation(tx: Tx): Tx {
  const id = txid(tx);
  const total = tx.outputs.reduce((a, o) => a + o.value, 0n);
  return signP2pkhTx(
    tx.outputs.map((_, vout) => ({ prevTxid: id, vout, secretKey: SECRET })),
    [p2pkhOutput(total - 100_000n, PKH)],
  );
}

/** The fan-out's output `i` (as numbered by `spends`) paid on in one output of `value`; the rest is the fee. */
export function respend(fanOut: { blocks: readonly Block[] }, i: number, value: bigint): Tx {
  let k = i;
  for (const fan of fanOut.blocks[1]!.txs.slice(1)) {
    if (k < fan.outputs.length) return signP2pkhTx([{ prevTxid: txid(fan), vout: k, secretKey: SECRET }], [p2pkhOutput(value, PKH)]);
    k -= fan.outputs.length;
  }
  throw new RangeError(`the fan-out has no output ${i}`);
}

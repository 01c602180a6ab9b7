// Network parameters. Consensus values come from config.json; this module validates them and
// derives what follows from them (targets, the network id). Units are in the names.
import { fromHex, toHex } from './bytes.js';
import { type Block, decodeBlock } from './block.js';
import { headerHash } from './header.js';
import { sha256d } from './hash.js';
import { bitsToTarget } from './pow.js';

/** Base units per coin (Bitcoin's COIN = 100 000 000 satoshis). */
export const COIN = 100_000_000n;
/** Bitcoin's MAX_MONEY: no output and no sum of outputs may exceed 21 million coins. */
export const MAX_MONEY = 21_000_000n * COIN;
/** A block time may be at most this far past the validating node's clock (Core's MAX_FUTURE_BLOCK_TIME). */
export const MAX_FUTURE_BLOCK_SECONDS = 2 * 60 * 60;
/** Median-time-past covers this many blocks (Core's CBlockIndex::nMedianTimeSpan). */
export const MEDIAN_TIME_SPAN_BLOCKS = 11;
/** The largest UDP payload over IPv4 is 65 507 bytes; a transaction must fit one datagram with its frame. */
export const MAX_TX_BYTES_LIMIT = 60_000;
/** nLockTime below this is a block height, at or above it a Unix time (Core's LOCKTIME_THRESHOLD). */
export const LOCKTIME_THRESHOLD = 500_000_000;

export interface ConsensusParams {
  readonly name: string;
  /** 4 bytes that start every network message. */
  readonly magic: Uint8Array;
  /** Base58Check version byte of P2PKH addresses. */
  readonly addressVersion: number;
  readonly genesis: Block;
  readonly genesisHash: Uint8Array;
  readonly targetBlockSeconds: number;
  /** Blocks per difficulty period (Bitcoin: 2016). */
  readonly retargetInterval: number;
  readonly powLimitBits: number;
  readonly powLimit: bigint;
  /** Block reward before any halving, base units (Bitcoin: 50 coins). */
  readonly subsidy: bigint;
  readonly halvingInterval: number;
  /** Confirmations before a coinbase output may be spent (Bitcoin: 100). */
  readonly coinbaseMaturity: number;
  readonly maxBlockBytes: number;
  readonly maxTxBytes: number;
  /** First 4 bytes of HASH256 over the consensus parameters: nodes of other networks ignore us. */
  readonly networkId: Uint8Array;
}

/** Shape of a network entry in config.json (numbers as JSON numbers, big values as strings). */
export interface NetworkConfig {
  readonly name: string;
  readonly magic: string;
  readonly addressVersion: number;
  readonly genesis: string;
  readonly targetBlockSeconds: number;
  readonly retargetInterval: number;
  readonly powLimitBits: string | number;
  readonly subsidy: string | number;
  readonly halvingInterval: number;
  readonly coinbaseMaturity: number;
  readonly maxBlockBytes: number;
  readonly maxTxBytes: number;
}

export class ParamsError extends Error {
  override readonly name = 'ParamsError';
}

function posInt(v: unknown, key: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new ParamsError(`${key} must be an integer from 1 to ${max}`);
  return v;
}

function parseBits(v: unknown, key: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n > 0xffffffff)
    throw new ParamsError(`${key} must be a 32-bit compact target`);
  return n;
}

/** Validates a network's config entry and derives its parameters. */
export function makeParams(c: NetworkConfig): ConsensusParams {
  if (typeof c.name !== 'string' || !/^[a-z0-9-]{1,32}$/.test(c.name)) throw new ParamsError('name must be 1-32 of a-z 0-9 -');
  let magic: Uint8Array;
  try {
    magic = fromHex(String(c.magic));
  } catch {
    throw new ParamsError('magic must be 8 hex digits');
  }
  if (magic.length !== 4) throw new ParamsError('magic must be 8 hex digits');
  const addressVersion = c.addressVersion;
  if (!Number.isInteger(addressVersion) || addressVersion < 0 || addressVersion > 255)
    throw new ParamsError('addressVersion must be a byte');
  const powLimitBits = parseBits(c.powLimitBits, 'powLimitBits');
  const subsidy = BigInt(c.subsidy);
  if (subsidy < 0n || subsidy > MAX_MONEY) throw new ParamsError('subsidy out of range');
  const maxTxBytes = posInt(c.maxTxBytes, 'maxTxBytes', MAX_TX_BYTES_LIMIT);
  const maxBlockBytes = posInt(c.maxBlockBytes, 'maxBlockBytes', 32_000_000);
  let genesis: Block;
  try {
    genesis = decodeBlock(fromHex(c.genesis));
  } catch (e) {
    throw new ParamsError(`genesis is not a block: ${(e as Error).message}`);
  }
  const p = {
    name: c.name,
    magic,
    addressVersion,
    genesis,
    genesisHash: headerHash(genesis.header),
    targetBlockSeconds: posInt(c.targetBlockSeconds, 'targetBlockSeconds'),
    retargetInterval: posInt(c.retargetInterval, 'retargetInterval'),
    powLimitBits,
    powLimit: bitsToTarget(powLimitBits),
    subsidy,
    halvingInterval: posInt(c.halvingInterval, 'halvingInterval'),
    coinbaseMaturity: posInt(c.coinbaseMaturity, 'coinbaseMaturity', 10_000),
    maxBlockBytes,
    maxTxBytes,
  };
  const id = [
    p.name,
    toHex(magic),
    addressVersion,
    toHex(p.genesisHash),
    p.targetBlockSeconds,
    p.retargetInterval,
    powLimitBits,
    subsidy,
    p.halvingInterval,
    p.coinbaseMaturity,
    maxBlockBytes,
    maxTxBytes,
  ].join('|');
  return { ...p, networkId: sha256d(new TextEncoder().encode(id)).slice(0, 4) };
}

/** Seconds a retarget period should take (Core's nPowTargetTimespan). */
export function targetTimespan(p: ConsensusParams): number {
  return p.retargetInterval * p.targetBlockSeconds;
}

/** Block subsidy at a height: halves every halvingInterval blocks, zero after 64 halvings (Core's GetBlockSubsidy). */
export function blockSubsidy(height: number, p: ConsensusParams): bigint {
  const halvings = Math.floor(height / p.halvingInterval);
  if (halvings >= 64) return 0n;
  return p.subsidy >> BigInt(halvings);
}

export function moneyRange(v: bigint): boolean {
  return v >= 0n && v <= MAX_MONEY;
}

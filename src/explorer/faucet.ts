// The classroom faucet: coins from the teacher's key for a student who asks, so a student's wallet
// has something to send before it has mined anything. It runs in the explorer (which already holds
// the chain, the address index and the transaction intake), pays from one key of its own, and signs
// an ordinary P2PKH payment that goes through the same intake and broadcast as a posted transaction.
//
// A classmate may flood it from many addresses, so each request pays before it is looked at:
//   1. cheap checks first: the address parses and is of this network (one line, 400);
//   2. the requester (its IP) waits FAUCET_REQUESTER_SECONDS between grants, and an address that was
//      paid waits FAUCET_ADDRESS_SECONDS (429 with the seconds left): a few maps lookups, bounded;
//   3. a hashcash stamp (Back's hashcash, as Bitcoin's proof of work): SHA-256d of
//      "challenge:address:nonce" with stampBits leading zero bits, about a second of one core for the
//      default 20 bits; a stamp is spent once and its challenge changes every 10 minutes. So grants
//      cost CPU, not addresses: a student with 200 addresses pays 200 times what an honest one pays,
//      and cannot make the others wait (nothing is queued: a request is answered or refused at once);
//   4. a cap per hour on all grants, and a polite 503 when no confirmed, mature coin is free.
import { randomBytes } from 'node:crypto';
import { decodeAddress, encodeAddress } from '../shared/core/address.js';
import { hexToHash, toHex } from '../shared/core/bytes.js';
import { p2pkhOutput, signP2pkhTx } from '../shared/core/builder.js';
import { formatCoins } from '../shared/core/amount.js';
import { stampValid } from '../shared/core/hashcash.js';
import { encodeTx } from '../shared/core/tx.js';
import { blocksToMaturity } from '../shared/core/validation.js';
import { KeyStore } from '../shared/node/store/keystore.js';
import type { Explorer } from './explorer.js';
import { HttpError, address as checkAddress } from './params.js';

/** Seconds a requester (an IP address) waits between two grants. */
export const FAUCET_REQUESTER_SECONDS = 60;
/** Seconds an address that was paid waits before it may be paid again. */
export const FAUCET_ADDRESS_SECONDS = 600;
/** How long one challenge is good for, in seconds (the previous one is accepted too). */
const CHALLENGE_SECONDS = 600;
/** Requesters and addresses remembered, at most (the oldest forgotten first). */
const MAX_REMEMBERED = 10_000;
/** Stamps remembered as spent, at most, per challenge. */
const MAX_SPENT_STAMPS = 100_000;
/** The faucet's key in its folder. */
export const FAUCET_KEY_NAME = 'faucet';
/** Bytes of a one-input, two-output P2PKH payment, at most (for its fee). */
const GRANT_TX_BYTES = 226;
/**
 * A grant may spend the change of an earlier grant still in the pool, so a class that joins at once
 * is served from one coin within a block instead of one grant per mature coin. Chains stay below
 * the pool's ancestor limit (Core's DEFAULT_ANCESTOR_LIMIT 25, "too-long-mempool-chain").
 */
const MAX_GRANT_CHAIN = 24;
/** Grants remembered for their change (a bounded map; older ones are mined or gone). */
const MAX_CHAINED_GRANTS = 1000;

/** A coin the faucet can spend, and how many unconfirmed grants come before it (0: confirmed). */
interface FaucetCoin {
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly value: bigint;
  readonly depth: number;
}

export interface FaucetOptions {
  /** The folder holding the faucet's key (created with one if empty). */
  readonly keysDir: string;
  /** Base units per grant. */
  readonly amount: bigint;
  /** Grants per hour, in all. */
  readonly maxPerHour: number;
  /** Leading zero bits a request's stamp needs (0: no stamp). */
  readonly stampBits: number;
  /** Base units per byte the grant pays. */
  readonly feeRate: number;
}

export interface FaucetInfo {
  readonly address: string;
  readonly amount: string;
  readonly spendable: string;
  /** Grants the faucet could make now, one after another (its free coins, their change chained). */
  readonly grantsReady: number;
  readonly grantsLastHour: number;
  readonly maxPerHour: number;
  readonly challenge: string;
  readonly stampBits: number;
}

const refuse = (status: number, message: string): never => {
  throw new HttpError(status, message);
};

export class Faucet {
  readonly address: string;
  private readonly pkh: Uint8Array;
  private readonly secret: Uint8Array;
  private readonly lastByRequester = new Map<string, number>();
  private readonly lastByAddress = new Map<string, number>();
  private readonly grantTimes: number[] = [];
  private challenges: { current: string; previous: string; since: number };
  private spentStamps = new Set<string>();
  /** Our grants (txid hex) whose change (output 1) may still be in the pool, with their chain depth. */
  private readonly chained = new Map<string, number>();
  readonly stats = { grants: 0, refused: 0 };

  constructor(
    private readonly ex: Explorer,
    readonly opts: FaucetOptions,
  ) {
    const keys = new KeyStore(opts.keysDir);
    const info = keys.has(FAUCET_KEY_NAME) ? keys.info(FAUCET_KEY_NAME) : keys.create(FAUCET_KEY_NAME);
    this.pkh = info.pubkeyHash;
    this.secret = keys.secret(FAUCET_KEY_NAME);
    this.address = encodeAddress(this.pkh, ex.settings.params.addressVersion);
    this.challenges = { current: toHex(randomBytes(16)), previous: '', since: Date.now() };
  }

  info(now = Date.now()): FaucetInfo {
    this.rotate(now);
    return {
      address: this.address,
      amount: formatCoins(this.opts.amount),
      spendable: formatCoins(this.freeCoins().reduce((a, c) => a + c.value, 0n)),
      grantsReady: this.grantsReady(),
      grantsLastHour: this.grantsSince(now - 3600_000),
      maxPerHour: this.opts.maxPerHour,
      challenge: this.challenges.current,
      stampBits: this.opts.stampBits,
    };
  }

  /** Pays `to` the faucet's amount, or throws HttpError with the reason (400, 429, 503). */
  async grant(
    to: string,
    requester: string,
    stamp: { challenge: string; nonce: string },
    now = Date.now(),
  ): Promise<{ txid: string; amount: string }> {
    try {
      return await this.tryGrant(to, requester, stamp, now);
    } catch (e) {
      this.stats.refused++;
      throw e;
    }
  }

  private async tryGrant(to: string, requester: string, stamp: { challenge: string; nonce: string }, now: number) {
    const pkh = checkAddress(to, this.ex.settings.params.addressVersion);
    this.rotate(now);
    this.checkWait(this.lastByRequester, requester, FAUCET_REQUESTER_SECONDS, now, 'this computer was given coins');
    this.checkWait(this.lastByAddress, pkh, FAUCET_ADDRESS_SECONDS, now, `${to} was given coins`);
    this.checkStamp(to, stamp);
    if (this.grantsSince(now - 3600_000) >= this.opts.maxPerHour)
      refuse(429, `the faucet has given its ${this.opts.maxPerHour} grants this hour; ask the teacher, or mine some coins`);
    const coin = this.pickCoin();
    const tx = signP2pkhTx(
      [{ prevTxid: coin.txid, vout: coin.vout, secretKey: this.secret }],
      [p2pkhOutput(this.opts.amount, decodeAddress(to).hash160), ...this.change(coin.value)],
    );
    let id: string;
    try {
      id = await this.ex.submit(encodeTx(tx), `faucet for ${requester}`);
    } catch (e) {
      // Our own payment refused (a coin spent meanwhile, the pool full): the student may simply try again.
      return refuse(503, `the faucet's payment was refused (${(e as Error).message}); try again in a block`);
    }
    if (this.change(coin.value).length) remember(this.chained, id, coin.depth + 1, MAX_CHAINED_GRANTS);
    this.spentStamps.add(`${stamp.challenge}:${stamp.nonce}:${to}`);
    remember(this.lastByRequester, requester, now);
    remember(this.lastByAddress, pkh, now);
    this.grantTimes.push(now);
    this.stats.grants++;
    return { txid: id, amount: formatCoins(this.opts.amount) };
  }

  private fee(): bigint {
    return BigInt(Math.ceil(GRANT_TX_BYTES * this.opts.feeRate));
  }

  private change(value: bigint): ReturnType<typeof p2pkhOutput>[] {
    const rest = value - this.opts.amount - this.fee();
    return rest > 0n ? [p2pkhOutput(rest, this.pkh)] : [];
  }

  private checkWait(m: Map<string, number>, key: string, seconds: number, now: number, what: string): void {
    const last = m.get(key);
    if (last === undefined) return;
    const left = Math.ceil((last + seconds * 1000 - now) / 1000);
    if (left > 0) refuse(429, `${what} ${Math.floor((now - last) / 1000)} s ago; the faucet gives again in ${left} s`);
  }

  private checkStamp(to: string, stamp: { challenge: string; nonce: string }): void {
    if (this.opts.stampBits === 0) return;
    const c = this.challenges;
    if (stamp.challenge !== c.current && (c.previous === '' || stamp.challenge !== c.previous))
      refuse(400, 'the stamp is for an old challenge: fetch GET /api/mvb/faucet again');
    if (this.spentStamps.has(`${stamp.challenge}:${stamp.nonce}:${to}`)) refuse(400, 'this stamp was used already');
    if (!stampValid(stamp.challenge, to, stamp.nonce, this.opts.stampBits))
      refuse(400, `the stamp does not have ${this.opts.stampBits} leading zero bits (mvb-wallet join makes one)`);
  }

  private rotate(now: number): void {
    if (now - this.challenges.since < CHALLENGE_SECONDS * 1000 && this.spentStamps.size < MAX_SPENT_STAMPS) return;
    this.challenges = { current: toHex(randomBytes(16)), previous: this.challenges.current, since: now };
    this.spentStamps = new Set([...this.spentStamps].filter((s) => s.startsWith(`${this.challenges.previous}:`)));
  }

  private grantsSince(t: number): number {
    while (this.grantTimes.length && this.grantTimes[0]! < t) this.grantTimes.shift();
    return this.grantTimes.length;
  }

  /**
   * The faucet's coins no pool transaction spends: confirmed mature ones (depth 0) and the change of
   * its own grants still in the pool (their depth), those at MAX_GRANT_CHAIN left out.
   */
  private freeCoins(): FaucetCoin[] {
    const chain = this.ex.chain;
    const pool = this.ex.mempool.view();
    const out: FaucetCoin[] = [];
    for (const u of this.ex.indexes.addressUtxos(toHex(this.pkh), 1000)) {
      const id = hexToHash(u.txid);
      const coin = chain.coins.getCoin(id, u.vout);
      if (!coin || !pool.getCoin(id, u.vout)) continue;
      if (blocksToMaturity(coin, chain.height + 1, chain.params.coinbaseMaturity) > 0) continue;
      out.push({ txid: id, vout: u.vout, value: coin.value, depth: 0 });
    }
    for (const [hex, depth] of [...this.chained]) {
      const id = hexToHash(hex);
      const confirmed = chain.coins.getCoin(id, 1) !== undefined;
      const change = confirmed ? undefined : pool.getCoin(id, 1);
      if (!change) {
        this.chained.delete(hex); // mined (then listed above), spent, or gone from the pool
        continue;
      }
      if (depth < MAX_GRANT_CHAIN) out.push({ txid: id, vout: 1, value: change.value, depth });
    }
    return out;
  }

  /** How many grants the free coins make, each coin's change paying the next. */
  private grantsReady(): number {
    const need = this.opts.amount + this.fee();
    return this.freeCoins().reduce((n, c) => n + Math.min(Number(c.value / need), MAX_GRANT_CHAIN - c.depth), 0);
  }

  /** The free coin that pays a grant and its fee with the fewest unconfirmed grants before it, then the smallest; 503 when there is none. */
  private pickCoin(): FaucetCoin {
    const need = this.opts.amount + this.fee();
    const coins = this.freeCoins().filter((c) => c.value >= need);
    if (coins.length === 0)
      refuse(
        503,
        `the faucet has no free coin of ${formatCoins(need)} right now (its coins are spent or not yet mature); the teacher's miner refills it: try again in a minute`,
      );
    return coins.reduce((a, b) => (b.depth < a.depth || (b.depth === a.depth && b.value < a.value) ? b : a));
  }
}

/** Sets key's time, forgetting the oldest entry when the map is full (a bounded memory of requesters). */
function remember(m: Map<string, number>, key: string, t: number, max = MAX_REMEMBERED): void {
  m.delete(key);
  m.set(key, t);
  if (m.size > max) m.delete(m.keys().next().value!);
}

// What the light wallet asks an explorer, over Esplora's REST API (github.com/Blockstream/esplora
// API.md, as `mvb explorer` and electrs serve it): an address's confirmed history, a transaction's
// raw hex and its Merkle proof (electrs's shape: block_height, merkle, pos), and POST /tx. Every
// request has a deadline and a byte cap; every answer is shape-checked before use and nothing in it
// is trusted: verify.ts checks each claim against the raw transaction and our own headers.
import { HttpClientError, fetchText } from '../../shared/node/net/http-client.js';
import { MAX_MERKLE_BRANCH } from '../../shared/core/merkle.js';

/** Esplora's page of confirmed history (25) times this many pages, per address. */
export const MAX_HISTORY_PAGES = 40;
/** Largest answer read for a page of transactions (25 of them, each with its prevouts). */
const MAX_PAGE_BYTES = 8_000_000;
const MAX_PROOF_BYTES = 8_192;

/** A server's answer that is not what Esplora's API says it is. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
}

/** One transaction of an address's history as the server claims it (only what the wallet checks). */
export interface TxClaim {
  readonly txid: string;
  readonly confirmed: boolean;
  readonly blockHeight?: number;
  readonly blockHash?: string;
  /** The server's JSON for each output: value (base units) and scriptPubKey hex. */
  readonly vout: readonly { readonly value: bigint; readonly scriptpubkey: string }[];
}

export interface MerkleProof {
  readonly blockHeight: number;
  /** Sibling hashes, display (reversed) hex, leaf level first. */
  readonly merkle: readonly string[];
  readonly pos: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export class EsploraClient {
  readonly name: string;

  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly maxTxBytes: number,
  ) {
    this.name = baseUrl.replace(/\/+$/, '');
  }

  private async get(path: string, maxBytes: number): Promise<string> {
    const r = await fetchText(`${this.name}/api${path}`, { timeoutMs: this.timeoutMs, maxBytes });
    if (!r.ok) throw new HttpClientError(`${this.name}/api${path}: ${r.status} ${r.text.slice(0, 200).trim()}`, r.status);
    return r.text;
  }

  private async getJson(path: string, maxBytes: number): Promise<unknown> {
    const text = await this.get(path, maxBytes);
    try {
      return JSON.parse(text);
    } catch {
      throw new ServerError(`${this.name}/api${path}: the answer is not JSON`);
    }
  }

  /** Confirmed history of an address, newest first, paged by last seen txid (Esplora's /txs/chain). */
  async confirmedHistory(address: string): Promise<TxClaim[]> {
    const out: TxClaim[] = [];
    let path = `/address/${address}/txs/chain`;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const list = await this.getJson(path, MAX_PAGE_BYTES);
      if (!Array.isArray(list) || list.length > 25) throw new ServerError(`${this.name}${path}: not a page of at most 25 transactions`);
      out.push(...list.map((t) => this.claim(t, path)));
      if (list.length < 25) return out;
      path = `/address/${address}/txs/chain/${out[out.length - 1]!.txid}`;
    }
    throw new ServerError(
      `${this.name}: the history of ${address} is longer than ${MAX_HISTORY_PAGES * 25} transactions, more than a light wallet reads`,
    );
  }

  /** The server's unconfirmed transactions for an address (Esplora's /txs/mempool, at most 50). */
  async mempoolHistory(address: string): Promise<TxClaim[]> {
    const path = `/address/${address}/txs/mempool`;
    const list = await this.getJson(path, MAX_PAGE_BYTES);
    if (!Array.isArray(list) || list.length > 50) throw new ServerError(`${this.name}${path}: not a list of at most 50 transactions`);
    return list.map((t) => this.claim(t, path));
  }

  private claim(t: unknown, path: string): TxClaim {
    const bad = (what: string) => new ServerError(`${this.name}/api${path}: ${what}`);
    if (typeof t !== 'object' || t === null) throw bad('a transaction is not an object');
    const { txid, status, vout } = t as { txid?: unknown; status?: unknown; vout?: unknown };
    if (typeof txid !== 'string' || !HEX64.test(txid)) throw bad('a txid is not 64 hex digits');
    const s = (status ?? {}) as { confirmed?: unknown; block_height?: unknown; block_hash?: unknown };
    if (typeof s.confirmed !== 'boolean') throw bad(`${txid}: status.confirmed is not a boolean`);
    if (!Array.isArray(vout)) throw bad(`${txid}: vout is not a list`);
    const outs = vout.map((o: unknown) => {
      const { value, scriptpubkey } = (o ?? {}) as { value?: unknown; scriptpubkey?: unknown };
      if (!isUint(value) || typeof scriptpubkey !== 'string' || !/^(?:[0-9a-f]{2}){0,10000}$/.test(scriptpubkey))
        throw bad(`${txid}: an output has no whole value or no scriptpubkey hex`);
      return { value: BigInt(value), scriptpubkey };
    });
    return {
      txid,
      confirmed: s.confirmed,
      ...(isUint(s.block_height) ? { blockHeight: s.block_height } : {}),
      ...(typeof s.block_hash === 'string' && HEX64.test(s.block_hash) ? { blockHash: s.block_hash } : {}),
      vout: outs,
    };
  }

  /** The raw transaction in hex, as served (checked by the caller against the txid). */
  async rawTx(txid: string): Promise<string> {
    const hex = (await this.get(`/tx/${txid}/hex`, 2 * this.maxTxBytes + 2)).trim().toLowerCase();
    if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-f]+$/.test(hex))
      throw new ServerError(`${this.name}: /tx/${txid}/hex is not hex`);
    return hex;
  }

  async merkleProof(txid: string): Promise<MerkleProof> {
    const v = (await this.getJson(`/tx/${txid}/merkle-proof`, MAX_PROOF_BYTES)) as {
      block_height?: unknown;
      merkle?: unknown;
      pos?: unknown;
    };
    const ok =
      typeof v === 'object' &&
      v !== null &&
      isUint(v.block_height) &&
      isUint(v.pos) &&
      Array.isArray(v.merkle) &&
      v.merkle.length <= MAX_MERKLE_BRANCH &&
      v.merkle.every((h) => typeof h === 'string' && HEX64.test(h));
    if (!ok)
      throw new ServerError(
        `${this.name}: /tx/${txid}/merkle-proof is not {block_height, merkle (at most ${MAX_MERKLE_BRANCH} hashes), pos}`,
      );
    return { blockHeight: v.block_height as number, merkle: v.merkle as string[], pos: v.pos as number };
  }

  /** POST /tx: the txid on success, else HttpClientError with the server's reason. */
  async broadcast(hex: string): Promise<string> {
    const r = await fetchText(`${this.name}/api/tx`, { method: 'POST', body: hex, timeoutMs: this.timeoutMs, maxBytes: 4096 });
    if (!r.ok) throw new HttpClientError(`${this.name}: ${r.status} ${r.text.slice(0, 300).trim()}`, r.status);
    return r.text.trim();
  }
}
